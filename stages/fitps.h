/* fitps — the propensity stage's module (stages/fitps.c): fit a propensity
 * model on the whole stream and add its propensities, or score a stream
 * with a saved model in bounded memory (psfit.h, design.h, psmodel.h).
 *
 * Ownership: command-line strings are borrowed from argv; what recipe_read
 * and the replay make inside fitps_params is owned and released by the
 * module's params_free. (rule: base/README.md) */
#ifndef PSFLOW_FITPS_H
#define PSFLOW_FITPS_H

#include "design.h"
#include "gbm.h"
#include "ipw.h"
#include "logit.h"
#include "module.h"
#include "psfit.h"
#include "psmodel.h"

typedef struct {
	logit_opts logit;
	int boosted;            /* --learner gbm */
	int gbm_given;          /* a boosting option was given */
	gbm_opts gbm;           /* its options; a recipe's trees are those chosen */
	int gbm_trees_max;      /* the recipe's: the trees the choice was among */
	const char *ps_name;    /* the column added */
	int drop_missing;       /* drop rows with missing values, and count them */
	int missing_ind;        /* --missing ind: fill covariates, add indicators */
	design_fills fills;     /* the fit's (owned: a recipe's, or the run's copy) */
	double band[2];         /* the positivity check's (not in the recipe) */
	support_rule support;   /* --common-support: the rule, and its band when */
	double support_band[2]; /* fixed */
	/* the command line's (borrowed from argv) */
	const char *save_model; /* write the fitted model here */
	const char *dropped, *dropped_id; /* --dropped FILE, --dropped-id COL */
	const char *model;      /* score with this model instead of fitting */
	const psmodel *loaded;  /* scoring: the model, for the recipe entry */
	/* a recipe's (owned; fitps_params_free) */
	char *spec;             /* the model's covariates */
	char *ps_read;          /* the column it added (ps_name points here) */
	int scored;             /* the entry scored with a saved model */
	/* the replay's (owned): the design, and the warm start of every refit */
	design replay_design;
	double *warm, *warm_mu, *warm_hessian;
	psfit_witnesses *witnesses;
} fitps_params;

extern const stage_module fitps_module;

#endif
