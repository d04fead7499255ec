/* stage_match — the `match` stage: nearest-neighbour matching on the
 * propensity score (or its logit) for the ATT. */
#ifndef PSFLOW_STAGE_MATCH_H
#define PSFLOW_STAGE_MATCH_H

#include "cli.h"
#include "nnmatch.h"

typedef struct {
	nnmatch_opts nn;
	double caliper_sd; /* caliper in SDs of the distance; 0: none */
	int on_logit;
	const char *treatment, *outcome, *ps;
} match_opts;

/* The distance values (ps or its logit) of n rows of one unit each (count
 * NULL) or count[i] units each, and the caliper width on that scale (in
 * SDs over the units). Returns 0, or -1 when a logit is infinite (ps 0 or
 * 1) with the row in *bad_row. Shared with boot's replay. */
int match_distance(const match_opts *o, const double *ps, const double *count,
    size_t n, double *d, double *caliper_width, size_t *bad_row);

void match_run(const match_opts *o, const cli_common *cli);

#endif
