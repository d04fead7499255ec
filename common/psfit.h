/* psfit — fit a propensity model and check it is usable: the shared core of
 * `fitps` and of `boot`'s replays. It never exits: problems come back as a
 * message, so a stage can die with it and boot can count it. */
#ifndef PSFLOW_PSFIT_H
#define PSFLOW_PSFIT_H

#include <stddef.h>
#include <stdint.h>

#include "design.h"
#include "logit.h"

/* Checks for separation before fitting: a level of a categorical covariate
 * (reference level included) whose units are all treated or all controls,
 * or a numeric covariate that splits the groups completely. The rows' X as
 * from design_matrix(), one unit each or grouped (see logit_data). Returns
 * 0, or -1 with a message naming the covariate. */
int psfit_separation(const design *d, const logit_data *ld, char *why, size_t whylen);

/* Fits, with the rows' propensities into ps[0..n). Returns 0, or -1 with a
 * message when the fit did not converge, the Hessian is singular, or the
 * propensity of a unit is 0 or 1 to double precision (rows of no units are
 * not counted). fit is filled either way (free it). */
int psfit_fit(const design *d, const logit_data *ld, const logit_opts *o, logit_fit *fit,
    double *ps, char *why, size_t whylen);

#endif
