/* ipwvar — the standard error of a Hajek IPW estimate that includes the
 * estimation of a logistic propensity model: the M-estimation sandwich of
 * Lunceford & Davidian (2004), as WeightIt's vcov = "asympt", for every
 * estimand, and its cluster-robust form.
 *
 * The estimating equations of theta = (beta, mu1, mu0), summed over units:
 *   (t - e) x                     - D beta / (C n)   (the logit; D drops the
 *                                                     intercept, C the l2)
 *   t w1 (y - mu1)                (the treated mean)
 *   (1 - t) w0 (y - mu0)          (the controls' mean)
 * with w1, w0 the estimand's weights of e = 1/(1 + exp(-x'beta)) (ipw.h).
 * A = -sum d psi / d theta' and B = sum psi psi' (or, with clusters, the
 * sum over clusters of the cluster's summed psi times its transpose, times
 * G / (G - 1)); Var(mu1 - mu0) = c' A^-1 B A^-T c, c = (0, .., 0, 1, -1).
 * The weights' derivatives d w / d beta = (dw/de) e (1 - e) x: for ATE
 * -(1-e)/e x (treated) and e/(1-e) x (controls); ATT 0 and e/(1-e) x; ATC
 * -(1-e)/e x and 0; ATO -e(1-e) x and e(1-e) x. A unit whose weight was
 * trimmed or capped (w not the formula's) counts with its weight fixed.
 *
 * Everything is a sum over units, so the accumulator takes the rows a
 * batch at a time and keeps O(p^2) numbers (and p + 5 per cluster).
 *
 * Ownership: an ipwvar owns its sums (ipwvar_free), a sharing one borrows
 * its model's logit block; arrays passed in are the caller's. (rule: base/README.md) */
#ifndef PSFLOW_IPWVAR_H
#define PSFLOW_IPWVAR_H

#include <stddef.h>
#include <stdint.h>

#include "ipw.h"

typedef struct ipwvar ipwvar;

/* p: the propensity model's columns, intercept included. */
ipwvar *ipwvar_new(estimand e, int p);
void ipwvar_free(ipwvar *v);
/* An ipwvar for estimand e whose logit block (A and B of the model's own
 * equations, the same for every estimand) is model's: its triangle of
 * sums, half or more of the work a unit, made once for all the estimands
 * of a flow. model is borrowed: it must be given the same units and
 * outlive this one. */
ipwvar *ipwvar_new_sharing(estimand e, const ipwvar *model);
/* n units: X column-major (n x p, column 0 the intercept), t, e (the
 * propensities), y, and w the weights as used (after any trim, cap or
 * stabilisation); scale[g] the stabilisation's factor of group g (NULL:
 * none); cluster[i] the unit's cluster (NULL: every unit its own). */
void ipwvar_add(ipwvar *v, const double *X, size_t n, const uint8_t *t, const double *e,
    const double *y, const double *w, const double *scale, const int64_t *cluster);
/* The standard error; beta (p) and C (0: unpenalised) describe the fit
 * (beta is read only when C > 0); clustered: with the clusters given to
 * add (else unit by unit); *clusters receives their number. Returns 0, or
 * -1 when A is singular or a group has no weight. */
int ipwvar_se(const ipwvar *v, const double *beta, double C, int clustered, double *se,
    size_t *clusters);

#endif
