/* design — the model matrix of a propensity model, from column specs.
 *
 * A term is a product of factors; a factor is a numeric column, or the
 * indicator "categorical column == level". From the -x spec:
 *   x        numeric: one term x
 *   tier     categorical: a term tier_LEVEL for every level but the first in
 *            sorted order (pandas' get_dummies(drop_first=True))
 *   a:b      every product of a term of a and a term of b
 *   a*b      a, b and a:b
 * Terms are matched to columns by name and levels by their text, so a saved
 * design scores a stream whose levels are listed in another order.
 * Ownership: a design owns its terms and strings. */
#ifndef PSFLOW_DESIGN_H
#define PSFLOW_DESIGN_H

#include <stddef.h>

#include "table.h"

typedef struct {
	char *column;
	char *level; /* NULL for a numeric column */
} design_factor;

typedef struct {
	char *name;
	design_factor *factors;
	int nfactors;
} design_term;

typedef struct {
	design_term *terms; /* the intercept is not a term; it is column 0 of X */
	int nterms;
} design;

/* Builds the terms of `spec` (comma-separated items as above) against the
 * schema. Dies naming the item when a column is missing, a categorical
 * column has fewer than two levels, or the spec is malformed. */
void design_from_spec(design *d, const char *spec, const table *schema);
/* Adds a term (copies). */
void design_add_term(design *d, const design_factor *factors, int nfactors);
void design_free(design *d);

/* Fills X (n rows of 1 + nterms columns, column-major: term k - 1 of row
 * r at X[k * n + r]; column 0 is the intercept) from rows [0, n) of t. Dies naming the column and row of the
 * first missing or non-finite value, with the count of such rows. */
void design_matrix(const design *d, const table *t, size_t n, double *X);

#endif
