/* stage_balance — the `balance` stage: is the adjustment working? Balance
 * statistics of every covariate (each level of a categorical one) for the
 * raw data and every weight column (w_*) in the stream. */
#ifndef PSFLOW_STAGE_BALANCE_H
#define PSFLOW_STAGE_BALANCE_H

#include "balstat.h"
#include "cli.h"

typedef struct {
	sd_mode sd;
	double threshold;
	const char *treatment, *covariates; /* NULL: from the head */
} balance_opts;

void balance_run(const balance_opts *o, const cli_common *cli);

#endif
