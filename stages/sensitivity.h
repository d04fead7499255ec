/* sensitivity — the sensitivity stage's module (stages/sensitivity.c):
 * E-values, a tipping-point table and Rosenbaum bounds for the estimates
 * upstream (hidden_bias.h).
 *
 * Ownership: sensitivity_params is a value. (rule: base/README.md) */
#ifndef PSFLOW_SENSITIVITY_H
#define PSFLOW_SENSITIVITY_H

#include "module.h"

typedef struct {
	double alpha;         /* Rosenbaum bounds' level, and the CI's from se */
	double gamma_max;     /* the largest Gamma searched */
} sensitivity_params;

extern const stage_module sensitivity_module;

#endif
