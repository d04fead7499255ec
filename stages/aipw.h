/* aipw — the doubly robust stage's module (stages/aipw.c): outcome
 * regressions per arm, the g-computation and augmented IPW estimates of
 * the ATE and the ATT (kernels/outreg.h), replayed by boot.
 *
 * Ownership: aipw_params borrows its strings from argv, or owns those a
 * recipe gave (aipw_params_free), and owns the replay's per-row covariates.
 * (rule: base/README.md) */
#ifndef PSFLOW_AIPW_H
#define PSFLOW_AIPW_H

#include "module.h"
#include "outreg.h"

typedef struct {
	int ate, att;           /* which estimands */
	int family_auto;        /* logistic for a 0/1 outcome, else linear */
	outreg_family family;   /* when not auto, or as resolved (the recipe's) */
	const char *formula;    /* the outcome model's terms; NULL: the stream's -x */
	/* a recipe's (owned) */
	char *formula_read;
	/* the replay's (owned): each stream row's design, n x p, intercept first */
	double *row_x;
	size_t nrows;
	int p;
} aipw_params;

extern const stage_module aipw_module;

#endif
