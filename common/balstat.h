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
 * distinct value, so a covariate is kept as a tally: its distinct values and,
 * per value, weighting and group, the sum of the weights. Rows are added a
 * batch at a time and then forgotten; the tally grows with the number of
 * distinct values only (three levels of a category, ten thousand values of
 * a score rounded to four places), not with the rows. */
#ifndef PSFLOW_BALSTAT_H
#define PSFLOW_BALSTAT_H

#include <stddef.h>
#include <stdint.h>

typedef enum { SD_POOLED, SD_TREATED, SD_CONTROL } sd_mode;

typedef struct {
	double mean_t, mean_c, smd, var_ratio, ks;
} balstat;

enum { BALSTAT_SMALL = 256 };

typedef struct {
	int nw;            /* weightings; weighting 0 is raw (every weight 1) */
	size_t nvalues, cap;
	double *values;    /* distinct values, in order of first appearance */
	double *sums;      /* [value][group][weighting]: group 0 controls, 1 treated */
	uint32_t small[BALSTAT_SMALL]; /* integers 0, 1, ...: value index + 1 */
	/* other values, by open addressing: a slot holds the value's bits (0:
	 * free) and its index */
	uint64_t *keys;
	uint32_t *slot_value;
	size_t nslots, nhashed; /* a power of two, at least twice nhashed */
	size_t *order;     /* value indexes in order of value, by balstat_sort */
} balstat_tally;

/* nw weightings: w[0] of balstat_add is ignored (raw), w[1..nw-1] are
 * weight columns. */
void balstat_tally_init(balstat_tally *tl, int nw);
void balstat_tally_free(balstat_tally *tl);

/* Adds n rows: values x (finite), groups t (0/1) and the weightings' weights
 * w[k][row] for k >= 1 (finite, not negative). */
void balstat_add(balstat_tally *tl, const double *x, const uint8_t *t,
    const double *const *w, size_t n);

/* The tally of the indicator x == value: two values, 0 and 1. */
void balstat_indicator(const balstat_tally *tl, double value, balstat_tally *out);

/* Orders the values; call after the last balstat_add, before the below. */
void balstat_sort(balstat_tally *tl);

/* From the unweighted groups' population variances: pooled
 * sqrt((v_t + v_c) / 2), or one group's sqrt(v). */
double balstat_sd_denominator(const balstat_tally *tl, sd_mode mode);

/* The statistics under weighting k. */
void balstat_compute(const balstat_tally *tl, int k, double sd_denominator,
    balstat *b);

#endif
