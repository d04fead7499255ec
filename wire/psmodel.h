/* psmodel — a fitted propensity model: its terms and coefficients, saved to
 * and loaded from a file (one MessagePack map, see PROTOCOL.md), and packed
 * into a recipe entry so that `boot` can replay it.
 * Ownership: a psmodel owns its design, coefficients and strings. */
#ifndef PSFLOW_PSMODEL_H
#define PSFLOW_PSMODEL_H

#include <msgpack.h>

#include "design.h"
#include "mpo.h"

/* A categorical covariate's levels when the model was fitted: scoring a
 * level the model never saw as its reference level would be wrong. */
typedef struct {
	char *column;
	char **levels;
	int nlevels;
} psmodel_levels;

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
	psmodel_levels *known; /* owned; none in files from before psflow 0.15 */
	int nknown;
} psmodel;

void psmodel_free(psmodel *m);
/* Notes the levels of the cat columns the terms use, from the schema fitted
 * on (the model owns the copies; psmodel_levels_free releases only them). */
void psmodel_note_levels(psmodel *m, const table *schema);
void psmodel_levels_free(psmodel *m);
/* The model as a map: treatment, l2, intercept, terms [{name, factors
 * [[column, level|nil]...], coef}]; a boosted one: learner "gbm", trees,
 * xgboost (bin), terms without coef (PROTOCOL.md). */
void psmodel_pack(const psmodel *m, mpseq *map);
void psmodel_save(const psmodel *m, const char *path);
/* Reads a map made by psmodel_pack; dies naming the file and the problem
 * (a version other than 1, a duplicate key, stray bytes after the map). */
void psmodel_from_object(psmodel *m, const msgpack_object *o, const char *where);
void psmodel_load(psmodel *m, const char *path);

#endif
