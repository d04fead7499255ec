/* design — the model matrix of a propensity model, from column specs.
 *
 * A term is a product of factors; a factor is a numeric column, or the
 * indicator "categorical column == level". From the -x spec:
 *   x        numeric: one term x
 *   tier     categorical: a term tier_LEVEL for every level but the first in
 *            sorted order (pandas' get_dummies(drop_first=True))
 *   a:b      every product of a term of a and a term of b
 *   a*b      a, b and a:b
 *   x^2      x:x, the square (also I(x^2), as R's formulas write it)
 *   log(x), log1p(x)   x transformed (a value outside the domain is an
 *            error naming the row)
 * Terms are matched to columns by name and levels by their text, so a saved
 * design scores a stream whose levels are listed in another order.
 * Ownership: a design owns its terms and strings. */
#ifndef PSFLOW_DESIGN_H
#define PSFLOW_DESIGN_H

#include <stddef.h>

#include "table.h"

enum { DESIGN_PLAIN, DESIGN_LOG, DESIGN_LOG1P };

typedef struct {
	char *column;
	char *level;   /* NULL for a numeric column */
	int transform; /* DESIGN_PLAIN, or a function of a numeric column */
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

/* Statuses: the design kernel never exits; its callers decide. */
enum {
	DESIGN_OK = 0,
	DESIGN_BAD_SPEC = -1, /* the spec is malformed (a usage error at -x) */
	DESIGN_BAD_DATA = -2, /* the spec names a column that cannot be used */
	DESIGN_MISSING = -3,  /* design_matrix: a missing or non-finite value */
};

/* Builds the terms of `spec` (comma-separated items as above) against the
 * schema. Returns DESIGN_OK, or a status with the problem in why, naming
 * the item and `origin` (where the spec came from: "-x", "the recipe's
 * fitps entry"), and d left empty. */
int design_from_spec(design *d, const char *spec, const table *schema,
    const char *origin, char *why, size_t whylen);
/* Adds a term (copies). */
void design_add_term(design *d, const design_factor *factors, int nfactors);
void design_free(design *d);

/* Fills X (n rows of 1 + nterms columns, column-major: term k - 1 of row
 * r at X[k * n + r]; column 0 is the intercept) from rows [0, n) of t.
 * Returns 0; DESIGN_MISSING naming the column and row of the first missing
 * or non-finite value, with the count of such rows; -1 when a column is
 * not in t or of the other kind (numeric, categorical) than the design's. */
int design_matrix(const design *d, const table *t, size_t n, double *X, char *why,
    size_t whylen);

#endif
