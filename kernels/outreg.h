/* outreg — outcome regressions and the estimates built on them:
 * g-computation (regression adjustment) and augmented IPW (doubly robust).
 *
 * A model of the outcome is fitted on one arm's units: linear (weighted
 * least squares) for any outcome, logistic (weighted maximum likelihood;
 * a 0/1 outcome, or a share) for a binary one. Weights are 1 a unit
 * (w NULL) or w[i], and a unit of weight 0 is left out.
 *
 * With m1, m0 the two arms' models' predictions for every unit, e the
 * propensity, t the treatment and y the outcome (n units, p1 = mean t):
 *   gcomp_ate  mean(m1 - m0)                     gcomp_att  mean_t(m1 - m0)
 *   aipw_ate   mean[m1 - m0 + t (y - m1)/e - (1 - t)(y - m0)/(1 - e)]
 *              (Robins, Rotnitzky & Zhao 1994; Glynn & Quinn 2010)
 *   aipw_att   mean_t(y - m0) - sum_c w (y - m0) / sum_c w,  w = e/(1 - e)
 *              (controls reweighted to the treated, normalised: Hajek)
 * Each AIPW estimate's standard error is sqrt(sum phi_i^2) / n over its
 * influence function phi (the nuisance models held fixed):
 *   ate  phi = m1 - m0 + t (y - m1)/e - (1 - t)(y - m0)/(1 - e) - est
 *   att  phi = t (y - m0 - mean_t(y - m0)) / p1
 *              - (1 - t) w (y - m0 - delta) / mean((1 - t) w),
 *        delta = sum_c w (y - m0) / sum_c w.
 * AIPW stays consistent when either model is right; the g-computation
 * needs the outcome model right.
 *
 * Ownership: arrays are the caller's. (rule: base/README.md) */
#ifndef PSFLOW_OUTREG_H
#define PSFLOW_OUTREG_H

#include <stddef.h>
#include <stdint.h>

typedef enum { OUTREG_LINEAR, OUTREG_LOGISTIC } outreg_family;

const char *outreg_family_name(outreg_family f);

/* Statuses: the kernel never exits. */
enum {
	OUTREG_OK = 0,
	OUTREG_EMPTY = -1,    /* no unit of positive weight in the arm */
	OUTREG_SINGULAR = -2, /* X'WX not positive definite: a term constant in
				 the arm, or a combination of others */
	OUTREG_NO_FIT = -3,   /* the logistic fit did not converge (separation) */
};

/* Fits the model of y on X (n rows, p columns, column-major, column 0 the
 * intercept) over the rows with sel[i] set (sel NULL: every row) and
 * positive weight, into beta (p). Returns OUTREG_OK or a status. */
int outreg_fit(outreg_family f, const double *X, size_t n, int p, const double *y,
    const double *w, const uint8_t *sel, double *beta);
/* Both arms' models: beta1 on the treated rows (t nonzero), beta0 on the
 * controls, each with weights w (NULL: 1). Returns OUTREG_OK or a status. */
int outreg_fit_arms(outreg_family f, const double *X, size_t n, int p, const uint8_t *t,
    const double *y, const double *w, double *beta1, double *beta0);
/* The model's mean outcome for every row into out (n). */
void outreg_predict(outreg_family f, const double *X, size_t n, int p, const double *beta,
    double *out);

typedef struct {
	double gcomp_ate, gcomp_att;
	double aipw_ate, aipw_ate_se, aipw_att, aipw_att_se;
} outreg_estimates;

/* The estimates above from the n units. Returns 0, or -1 when an arm is
 * empty or a propensity is 0 or 1 (a weight would be infinite). */
int outreg_estimate(const uint8_t *t, const double *y, const double *e, const double *m1,
    const double *m0, size_t n, outreg_estimates *out);

/* The regression adjustment of a matched (or weighted) sample, MatchIt's
 * recommended outcome model after matching: the per-arm models fitted
 * with weights w (Y ~ T * X weighted: each arm its own coefficients), and
 * the effect on the treated, the w-weighted mean over the treated of
 * m1 - m0. Returns 0 or a status. */
int outreg_adjusted_att(outreg_family f, const double *X, size_t n, int p, const uint8_t *t,
    const double *y, const double *w, double *beta1, double *beta0, double *estimate);

#endif
