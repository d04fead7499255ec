/* psmodel — a fitted propensity model: its terms and coefficients, saved to
 * and loaded from a file (one MessagePack map, see PROTOCOL.md), and packed
 * into a recipe entry so that `boot` can replay it.
 * Ownership: a psmodel owns its design, coefficients and strings. */
#ifndef PSFLOW_PSMODEL_H
#define PSFLOW_PSMODEL_H

#include <msgpack.h>

#include "design.h"
#include "mpo.h"

typedef struct {
	design d;
	double *beta;  /* logistic: 1 + d.nterms, intercept first */
	char *treatment;
	double C;      /* 0: unpenalised */
	/* a boosted model (learner "gbm"): XGBoost's own bytes (UBJSON) and the
	 * trees its predictions use; xgb NULL for a logistic one */
	char *xgb;
	size_t xgb_len;
	int trees;
} psmodel;

void psmodel_free(psmodel *m);
/* The model as a map: treatment, l2, intercept, terms [{name, factors
 * [[column, level|nil]...], coef}]; a boosted one: learner "gbm", trees,
 * xgboost (bin), terms without coef (PROTOCOL.md). */
void psmodel_pack(const psmodel *m, mpseq *map);
void psmodel_save(const psmodel *m, const char *path);
/* Reads a map made by psmodel_pack; dies naming the file and the problem. */
void psmodel_from_object(psmodel *m, const msgpack_object *o, const char *where);
void psmodel_load(psmodel *m, const char *path);

#endif
