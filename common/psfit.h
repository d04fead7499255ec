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
 * or a numeric covariate that splits the groups completely. X as from
 * design_matrix(). Returns 0, or -1 with a message naming the covariate. */
int psfit_separation(const design *d, const double *X, const uint8_t *t, size_t n,
    char *why, size_t whylen);

/* Fits, then predicts ps[0..n). Returns 0, or -1 with a message when the
 * fit did not converge, the Hessian is singular, or a propensity is 0 or 1
 * to double precision. fit is filled either way (free it). */
int psfit_fit(const design *d, const double *X, const uint8_t *t, size_t n,
    const logit_opts *o, logit_fit *fit, double *ps, char *why, size_t whylen);

#endif
