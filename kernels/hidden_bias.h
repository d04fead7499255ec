/* hidden_bias — how strong a hidden confounder would have to be to explain
 * an estimate away.
 *
 *   E-value (VanderWeele and Ding 2017, Annals of Internal Medicine): for a
 *   risk ratio RR >= 1, RR + sqrt(RR (RR - 1)): the least strength of
 *   association, on the risk-ratio scale, that a hidden confounder would
 *   need with both treatment and outcome to move the estimate to the null
 *   (an RR below 1 is inverted first).
 *   Rosenbaum bounds for 1:1 matched pairs (Rosenbaum 2002, Observational
 *   Studies, ch. 4): the upper bound on the one-sided p-value of no effect
 *   when, within a pair, the odds of treatment may differ by a factor
 *   Gamma: the sign-score (McNemar) test for a 0/1 outcome, Wilcoxon's
 *   signed rank test (normal approximation, as R's rbounds) for another;
 *   and the largest Gamma at which the effect stays significant.
 *
 * Ownership: arrays are borrowed; nothing is kept. (rule: base/README.md) */
#ifndef PSFLOW_HIDDEN_BIAS_H
#define PSFLOW_HIDDEN_BIAS_H

#include <stddef.h>

/* The E-value of a risk ratio (NaN unless rr > 0). */
double evalue(double rr);

/* Sign-score test: of `discordant` pairs, `wins` have the treated unit's
 * outcome 1 and the control's 0. The upper-bound p-value at gamma:
 * P(Binomial(discordant, gamma / (1 + gamma)) >= wins). */
double rosenbaum_sign_p(size_t wins, size_t discordant, double gamma);

/* Wilcoxon's signed rank test on the pairs' differences d[0..n) (zeros
 * dropped, tied |d| given their mean rank): the upper-bound p-value at
 * gamma, from the normal approximation of the statistic's bound. */
double rosenbaum_wilcoxon_p(const double *d, size_t n, double gamma);

/* The largest gamma in [1, gamma_max] at which p(gamma) <= alpha, to
 * 1e-6 (p increases with gamma): 1 with *significant 0 when p(1) > alpha
 * already; gamma_max when it holds there. p is one of the two above,
 * through ctx. */
double rosenbaum_gamma(double (*p)(double gamma, const void *ctx), const void *ctx,
    double alpha, double gamma_max, int *significant);

#endif
