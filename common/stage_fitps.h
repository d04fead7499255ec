/* stage_fitps — the `fitps` stage: fit a propensity model on the whole
 * stream and add its propensities, or score a stream with a saved model in
 * bounded memory. */
#ifndef PSFLOW_STAGE_FITPS_H
#define PSFLOW_STAGE_FITPS_H

#include "cli.h"
#include "logit.h"

typedef struct {
	const char *treatment, *outcome, *covariates; /* NULL: from the head */
	const char *ps_name;
	logit_opts logit;
	const char *save_model; /* write the fitted model here */
	const char *model;      /* score with this model instead of fitting */
	int drop_missing;       /* drop rows with missing values, and count them */
} fitps_opts;

void fitps_run(const fitps_opts *o, const cli_common *cli);

#endif
