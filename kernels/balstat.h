/* balstat — balance statistics of one covariate between treated and
 * controls, raw or weighted.
 *
 *   smd        (weighted mean_t - weighted mean_c) / sd_denominator
 *   var_ratio  weighted variance of the treated / of the controls
 *              (population form: sum w (x - m)^2 / sum w)
 *   ks         largest gap between the two weighted empirical CDFs
 * The SMD's denominator comes from the unweighted groups so that raw and
 * weighted SMDs share it (cobalt's and the reference study's convention).
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

typedef struct {
	double mean_t, mean_c, smd, var_ratio, ks;
} balstat;

/* The statistics come from the covariate's tally (weighting 0 raw, sorted
 * by tally_sort). From the unweighted groups' population variances: pooled
 * sqrt((v_t + v_c) / 2), or one group's sqrt(v). */
double balstat_sd_denominator(const tally *tl, sd_mode mode);

/* The statistics under weighting k. */
void balstat_compute(const tally *tl, int k, double sd_denominator,
    balstat *b);

#endif
