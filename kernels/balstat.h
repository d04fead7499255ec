/* balstat — balance statistics of one covariate between treated and
 * controls, raw or weighted.
 *
 *   smd        (weighted mean_t - weighted mean_c) / sd_denominator
 *   var_ratio  weighted variance of the treated / of the controls, for a
 *              covariate that is not binary
 *   ks         largest gap between the two weighted empirical CDFs
 * The SMD's denominator comes from the unweighted groups so that raw and
 * weighted SMDs share it (cobalt's convention).
 *
 * Variances as cobalt and MatchIt take them (BALSTAT_SAMPLE): a binary
 * covariate's (values 0 and 1 only) is p(1 - p); any other's the sample
 * variance, weighted as R's cov.wt(method = "unbiased"):
 *   sum w (x - m)^2 / (S - S2 / S),  S = sum w, S2 = sum w^2
 * (n - 1 in the denominator when unweighted), and a binary covariate has
 * no variance ratio. BALSTAT_POPULATION is psflow 0.14's and the reference
 * study's: sum w (x - m)^2 / S for every covariate, ratios for binary ones
 * too.
 *
 * Every statistic is a function of the weight each group puts on each
 * distinct value, so balance keeps a tally per covariate (tally.h) and
 * forgets the rows.
 *
 * Ownership: tallies are borrowed; results are values. (rule: base/README.md) */
#ifndef PSFLOW_BALSTAT_H
#define PSFLOW_BALSTAT_H

#include "tally.h"

typedef enum { SD_POOLED, SD_TREATED, SD_CONTROL } sd_mode;
typedef enum { BALSTAT_SAMPLE, BALSTAT_POPULATION } balstat_variance;

typedef struct {
	double mean_t, mean_c, smd, var_ratio, ks; /* var_ratio NaN: none */
	int binary;                                /* every value 0 or 1 */
} balstat;

/* Does the covariate take the values 0 and 1 only? */
int balstat_binary(const tally *tl);

/* The statistics come from the covariate's tally (weighting 0 raw, sorted
 * by tally_sort). From the unweighted groups' variances: pooled
 * sqrt((v_t + v_c) / 2), or one group's sqrt(v). */
double balstat_sd_denominator(const tally *tl, sd_mode mode, balstat_variance v);

/* The statistics under weighting k; sum_w2[g] is group g's sum of squared
 * weights under k (the sample variance's correction: every covariate of a
 * row set shares it); NULL for weighting 0, whose weights are 1. */
void balstat_compute(const tally *tl, int k, double sd_denominator, balstat_variance v,
    const double sum_w2[2], balstat *b);

#endif
