/* weight — the weighting stage's module (stages/weight.c): a weight column
 * per estimand and the weighted (Hajek) effects, after optional trimming,
 * truncation and stabilisation (ipw.h).
 *
 * Ownership: weight_params is a value (nothing inside to free). (rule: base/README.md) */
#ifndef PSFLOW_WEIGHT_H
#define PSFLOW_WEIGHT_H

#include "ipw.h"
#include "module.h"

typedef struct {
	int estimands[EST_COUNT]; /* which to compute */
	ipw_opts adjust;
	double band[2];           /* the positivity check's (not in the recipe) */
	const char *cluster;      /* --cluster COL: cluster-robust SEs (not in the
				     recipe: it changes no estimate) */
	const char *dropped, *dropped_id; /* --dropped FILE, --dropped-id COL */
} weight_params;

extern const stage_module weight_module;

#endif
