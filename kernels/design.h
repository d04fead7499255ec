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
 * With missing-value indicators (WeightIt's missing = "ind"), a covariate
 * with missing values counts them as a fill (a number's median, or no
 * level of a category) and gains a term x:<NA>, 1 where x is missing.
 * Terms are matched to columns by name and levels by their text, so a saved
 * design scores a stream whose levels are listed in another order.
 * Ownership: a design owns its terms and strings. */
#ifndef PSFLOW_DESIGN_H
#define PSFLOW_DESIGN_H

#include <stddef.h>

#include "table.h"

/* DESIGN_IS_MISSING: the factor is 1 where the column is missing, else 0
 * (a missing-value indicator, of a column of either kind). */
enum { DESIGN_PLAIN, DESIGN_LOG, DESIGN_LOG1P, DESIGN_IS_MISSING };

typedef struct {
	char *column;
	char *level;   /* NULL for a numeric column */
	int transform; /* DESIGN_PLAIN, a function of a numeric column, or
			  DESIGN_IS_MISSING */
	int filled;    /* a missing value counts as `fill` (a number) or as no
			  level (a category) instead of being an error */
	double fill;
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

/* Missing-value indicators. A column's fill: its median (of the finite
 * values, the mean of the middle two for an even count, as R's median) for
 * a number, none for a category; missing counts its missing rows. */
typedef struct {
	char *column;
	int numeric;
	double fill;
	size_t missing;
} design_fill;

typedef struct {
	design_fill *cols;
	int n;
} design_fills;

/* The columns of d's factors that have a missing value among rows [0, n)
 * of t (in the order d first names them), with their fills, into f (free
 * with design_fills_free). Returns 0, or -1 with why when a column is not
 * in t or every value of a numeric one is missing. */
int design_find_fills(const design *d, const table *t, size_t n, design_fills *f,
    char *why, size_t whylen);
/* Marks d's factors of f's columns filled and adds their indicator terms
 * (after d's, in f's order). */
void design_apply_fills(design *d, const design_fills *f);
void design_fills_free(design_fills *f);

/* Fills X (n rows of 1 + nterms columns, column-major: term k - 1 of row
 * r at X[k * n + r]; column 0 is the intercept) from rows [0, n) of t.
 * Returns 0; DESIGN_MISSING naming the column and row of the first missing
 * or non-finite value, with the count of such rows; -1 when a column is
 * not in t or of the other kind (numeric, categorical) than the design's. */
int design_matrix(const design *d, const table *t, size_t n, double *X, char *why,
    size_t whylen);
/* design_matrix() of the n rows from row `first` of t, into X (n rows,
 * column-major as above: row first + r at X[k * n + r]), so that a pass over
 * many rows can build them a block at a time. Rows in messages are t's;
 * the count of missing values is the block's. */
int design_matrix_rows(const design *d, const table *t, size_t first, size_t n, double *X,
    char *why, size_t whylen);
/* The statuses and messages design_matrix() would give for rows [0, n) of
 * t, without a matrix: for a reader that builds it a block at a time
 * (design_matrix_rows), whose blocks' messages are their own. */
int design_check(const design *d, const table *t, size_t n, char *why, size_t whylen);
/* design_matrix() but for column 0, which is left as it is: for a reader
 * that never reads the intercept's 1s (logit's fits and psfit's checks),
 * so that its pages need never be touched (80 MB at ten million rows). */
int design_matrix_terms(const design *d, const table *t, size_t n, double *X, char *why,
    size_t whylen);

#endif
