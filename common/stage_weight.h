/* stage_weight — the `weight` stage: a weight column per estimand and the
 * weighted (Hajek) effects, after optional trimming, truncation and
 * stabilisation. It streams, one batch in memory at a time, unless
 * --truncate or --stabilize need every row (a quantile, a share). */
#ifndef PSFLOW_STAGE_WEIGHT_H
#define PSFLOW_STAGE_WEIGHT_H

#include "cli.h"
#include "ipw.h"

typedef struct {
	int estimands[EST_COUNT]; /* which to compute */
	double trim_lo, trim_hi;  /* trim when trim_hi > 0 */
	double truncate_q;        /* 0: none */
	int stabilize;
	const char *treatment, *outcome, *ps; /* NULL: from the head */
} weight_opts;

/* The weights of one estimand after the options, for n rows of one unit
 * each (count NULL) or count[i] units each (boot's cells; not with
 * --truncate, whose quantile is over units), with the units trimmed per
 * group in trimmed[2] and capped weights in *capped. Returns 0, or -1 when
 * a unit left in has an infinite weight (its row in *bad_row). Shared with
 * boot's replay. */
int weight_compute(const weight_opts *o, estimand e, const uint8_t *t,
    const double *ps, const double *count, size_t n, double *w, size_t trimmed[2],
    size_t *capped, size_t *bad_row);

void weight_run(const weight_opts *o, const cli_common *cli);

#endif
