/* psfit — fit a propensity model and check it is usable: the shared core of
 * `fitps` and of `boot`'s replays. It never exits: problems come back as a
 * message, so a stage can die with it and boot can count it.
 *
 * Ownership: design, data and witnesses are borrowed; the fit is the
 * caller's (logit_fit_free). (rule: base/README.md) */
#ifndef PSFLOW_PSFIT_H
#define PSFLOW_PSFIT_H

#include <stddef.h>
#include <stdint.h>

#include "design.h"
#include "logit.h"

/* What psfit_separation() and psfit_fit() return when ld->rows failed
 * (its context says why) */
#define PSFIT_ROWS_FAILED (-2)

/* Checks for separation before fitting: a level of a categorical covariate
 * (reference level included) whose units are all treated or all controls,
 * or a numeric covariate that splits the groups completely. The rows' X as
 * from design_matrix(), or built a block at a time (ld->rows), one unit
 * each or grouped (see logit_data): one pass over the rows for every
 * check. Returns 0, or -1 with a message naming the covariate, or
 * PSFIT_ROWS_FAILED. */
int psfit_separation(const design *d, const logit_data *ld, char *why, size_t whylen);

/* Fits, with the rows' propensities into ps[0..n). Returns 0, or -1 with a
 * message when the fit did not converge, the Hessian is singular, or the
 * propensity of a unit is 0 or 1 to double precision (rows of no units are
 * not counted), or PSFIT_ROWS_FAILED. fit is filled either way (free it). */
int psfit_fit(const design *d, const logit_data *ld, const logit_opts *o, logit_fit *fit,
    double *ps, char *why, size_t whylen);

/* Witnesses against separation, for fits of many resamples of one set of
 * grouped rows (boot's replicates). Each check of psfit_separation() looks
 * at a set of rows (the rows of a level, of a reference level, or all rows
 * for a numeric term), and passes whenever one row of its set holds both
 * treated and control units: such a row makes a level's units mixed, and
 * puts one value in both ranges of a numeric term. So if, in a resample,
 * each check has such a row among a few chosen ones, the check cannot fail
 * and need not run: the answer is the same, without passes over the rows. */
#define PSFIT_MAX_CHECKS 64
typedef struct {
	size_t row[2 * PSFIT_MAX_CHECKS];
	uint64_t answers[2 * PSFIT_MAX_CHECKS]; /* the checks each row is in */
	int n;
	uint64_t all;   /* every check */
	int usable;     /* 0: more checks than PSFIT_MAX_CHECKS; always check */
} psfit_witnesses;

/* For each check, the two rows of its set with the most units of the rarer
 * kind in ld (the full data), which a resample is likeliest to keep mixed.
 * Only from ld->X: without it (or with more checks than PSFIT_MAX_CHECKS)
 * w is not usable, and every fit checks. */
void psfit_witnesses_find(psfit_witnesses *w, const design *d, const logit_data *ld);

/* psfit_fit() on a resample ld of the rows the witnesses w (NULL: none)
 * were found on: the separation check runs only when they do not show it
 * would pass. */
int psfit_fit_witnessed(const design *d, const logit_data *ld, const logit_opts *o,
    const psfit_witnesses *w, logit_fit *fit, double *ps, char *why, size_t whylen);

#endif
