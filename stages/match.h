/* match — the matching stage's module (stages/match.c): nearest-neighbour
 * matching on the propensity score (or its logit) for the ATT (nnmatch.h).
 *
 * Ownership: match_params is a value. (rule: base/README.md) */
#ifndef PSFLOW_MATCH_H
#define PSFLOW_MATCH_H

#include "module.h"
#include "nnmatch.h"
#include "outreg.h"

typedef struct {
	nnmatch_opts nn;
	double caliper_sd; /* caliper in SDs of the distance; 0: none */
	int raw_caliper;   /* caliper_sd is in units of the distance instead */
	int on_logit;
	int ties_given;    /* the command line named --ties */
	const char *exact; /* --exact: match within equal values of these */
	const char *mahal; /* --mahalanobis: match on these covariates */
	const char *pairs; /* --pairs FILE: the matched pairs as CSV */
	const char *pairs_id; /* --pairs-id COL: name the rows by this column */
	const char *dropped, *dropped_id; /* --dropped FILE, --dropped-id COL */
	int adjust;           /* --adjust: the regression on the matched sample too */
	const char *adjust_formula; /* its terms; NULL: the stream's covariates */
	int adjust_family_auto;
	outreg_family adjust_family;
	/* the columns match passes on unread: in memory up to spill_mb, then
	 * in a temporary file in temp_dir (stage_read_all_holding) */
	double spill_mb;
	const char *temp_dir;
	/* a recipe's (owned; match_params_free) */
	char *exact_read, *mahal_read, *adjust_read;
	/* the replay's (owned): each stream row's stratum and covariates */
	int64_t *row_stratum;
	double *row_x;      /* nrows x q, column-major */
	size_t nrows;
	int q;
	double *row_adj;    /* --adjust's design, nrows x p_adj, intercept first */
	int p_adj;
	/* boot --matching weighted (Otsu & Rai 2017): the linear form's terms
	 * per stream row, the full data's estimate, its matched treated units */
	int weighted_boot;
	char *role_t, *role_y, *role_ps; /* the recipe's roles (owned) */
	double *row_zeta, zeta_sum, tau_hat;
	size_t n1_matched;
} match_params;

extern const stage_module match_module;

#endif
