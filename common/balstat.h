/* balstat — balance statistics of one covariate between treated and
 * controls, raw or weighted.
 *
 *   smd        (weighted mean_t - weighted mean_c) / sd_denominator
 *   var_ratio  weighted variance of the treated / of the controls
 *              (population form: sum w (x - m)^2 / sum w)
 *   ks         largest gap between the two weighted empirical CDFs
 * The SMD's denominator comes from the unweighted groups so that raw and
 * weighted SMDs share it (cobalt's and the reference study's convention). */
#ifndef PSFLOW_BALSTAT_H
#define PSFLOW_BALSTAT_H

#include <stddef.h>
#include <stdint.h>

#include "keyed.h"

typedef enum { SD_POOLED, SD_TREATED, SD_CONTROL } sd_mode;

typedef struct {
	double mean_t, mean_c, smd, var_ratio, ks;
} balstat;

/* From the unweighted groups' population variances: pooled
 * sqrt((v_t + v_c) / 2), or one group's sqrt(v). */
double balstat_sd_denominator(const double *x, const uint8_t *t, size_t n, sd_mode mode);

/* x's rows in order of value, for the KS walk: computed once per covariate
 * and shared by every weighting. */
void balstat_order(const double *x, size_t n, keyed *order);

/* w NULL means unweighted; order as made by balstat_order(x). */
void balstat_compute(const double *x, const uint8_t *t, const double *w, size_t n,
    double sd_denominator, const keyed *order, balstat *b);

#endif
