/* balance — the balance stage's module (stages/balance.c): is the
 * adjustment working? Balance statistics of every covariate (each level of
 * a categorical one) for the raw data and every weight column (w_*) in the
 * stream (balstat.h).
 *
 * Ownership: balance_params is a value. (rule: base/README.md) */
#ifndef PSFLOW_BALANCE_H
#define PSFLOW_BALANCE_H

#include "balstat.h"
#include "module.h"

typedef struct {
	int sd_auto;       /* each weighting's SD from its estimand (default) */
	sd_mode sd;        /* else this one for every row */
	balstat_variance variance;
	double threshold;
	int interactions;  /* products of covariates and squares too */
} balance_params;

extern const stage_module balance_module;

#endif
