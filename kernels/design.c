#include "design.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanes.h"
#include "xalloc.h"

static const char *const transform_name[] = { "", "log", "log1p", "" };

/* A factor as a term's name shows it: x, tier_heavy, log(x), x:<NA> (as
 * WeightIt and cobalt name a missing-value indicator). */
static size_t
factor_name(const design_factor *f, char *out)
{
	if (f->transform == DESIGN_IS_MISSING)
		return (size_t)sprintf(out, "%s:<NA>", f->column);
	if (f->transform)
		return (size_t)sprintf(out, "%s(%s)", transform_name[f->transform], f->column);
	if (f->level)
		return (size_t)sprintf(out, "%s_%s", f->column, f->level);
	return (size_t)sprintf(out, "%s", f->column);
}

static char *
term_name(const design_factor *f, int n)
{
	size_t len = 8, at = 0;
	char *name;

	for (int i = 0; i < n; i++)
		len += strlen(f[i].column) + (f[i].level ? strlen(f[i].level) + 1 : 0) + 8;
	name = xmalloc(len);
	name[0] = '\0';
	/* a numeric column times itself is its square, named as R writes it */
	if (n == 2 && !f[0].level && !f[1].level && f[0].transform == f[1].transform &&
	    strcmp(f[0].column, f[1].column) == 0) {
		at = factor_name(&f[0], name);
		strcpy(name + at, "^2");
		return name;
	}
	for (int i = 0; i < n; i++) {
		if (i)
			name[at++] = ':';
		at += factor_name(&f[i], name + at);
	}
	return name;
}

void
design_add_term(design *d, const design_factor *factors, int nfactors)
{
	design_term *t;
	char *name = term_name(factors, nfactors);

	for (int i = 0; i < d->nterms; i++)
		if (strcmp(d->terms[i].name, name) == 0) {
			free(name); /* a*b, a gives a once */
			return;
		}
	d->terms = xreallocarray(d->terms, (size_t)d->nterms + 1, sizeof *d->terms);
	t = &d->terms[d->nterms++];
	t->name = name;
	t->nfactors = nfactors;
	t->factors = xcalloc((size_t)nfactors, sizeof *t->factors);
	for (int i = 0; i < nfactors; i++) {
		t->factors[i].column = xstrdup(factors[i].column);
		t->factors[i].level = factors[i].level ? xstrdup(factors[i].level) : NULL;
		t->factors[i].transform = factors[i].transform;
		t->factors[i].filled = factors[i].filled;
		t->factors[i].fill = factors[i].fill;
	}
}

void
design_free(design *d)
{
	for (int i = 0; i < d->nterms; i++) {
		for (int f = 0; f < d->terms[i].nfactors; f++) {
			free(d->terms[i].factors[f].column);
			free(d->terms[i].factors[f].level);
		}
		free(d->terms[i].factors);
		free(d->terms[i].name);
	}
	free(d->terms);
	memset(d, 0, sizeof *d);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Where a spec's problem is reported: the first one wins. */
typedef struct {
	const char *origin;
	char *why;
	size_t whylen;
	int status;
} spec_report;

static void
spec_problem(spec_report *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
spec_problem(spec_report *r, int status, const char *fmt, ...)
{
	va_list ap;

	if (r->status != DESIGN_OK)
		return;
	r->status = status;
	va_start(ap, fmt);
	if (r->why && r->whylen)
		vsnprintf(r->why, r->whylen, fmt, ap);
	va_end(ap);
}

/* The factor choices of one column: its dummies, or itself; 0 (and a
 * problem noted) when there are none. */
static int
column_factors(const table *schema, const char *name, int transform, design_factor **out,
    spec_report *r)
{
	int ci = table_find(schema, name);
	const column *c;
	char **sorted;

	*out = NULL;
	if (ci < 0) {
		spec_problem(r, DESIGN_BAD_DATA, "covariate '%s' (from %s) is not in the "
		    "stream: check the column name", name, r->origin);
		return 0;
	}
	c = &schema->cols[ci];
	if (c->type != COL_CAT) {
		*out = xcalloc(1, sizeof **out);
		(*out)[0].column = (char *)c->name;
		(*out)[0].transform = transform;
		return 1;
	}
	if (transform) {
		spec_problem(r, DESIGN_BAD_SPEC, "%s(%s) in %s: '%s' is categorical, and only "
		    "a number has a %s", transform_name[transform], name, r->origin, name,
		    transform_name[transform]);
		return 0;
	}
	if (c->nlevels < 2) {
		spec_problem(r, DESIGN_BAD_DATA, "categorical covariate '%s' has %s: it "
		    "cannot explain who is treated; drop it from %s", name,
		    c->nlevels ? "only one level" : "no levels", r->origin);
		return 0;
	}
	sorted = xcalloc((size_t)c->nlevels, sizeof *sorted);
	memcpy(sorted, c->levels, (size_t)c->nlevels * sizeof *sorted);
	qsort(sorted, (size_t)c->nlevels, sizeof *sorted, cmp_str);
	*out = xcalloc((size_t)c->nlevels - 1, sizeof **out);
	for (int l = 1; l < c->nlevels; l++) {
		(*out)[l - 1].column = (char *)c->name;
		(*out)[l - 1].level = sorted[l];
	}
	free(sorted);
	return c->nlevels - 1;
}

/* Adds every product of one factor from each of the columns in names. */
static void
add_products(design *d, const table *schema, char **names, int n, spec_report *r)
{
	design_factor **choices = xcalloc((size_t)n, sizeof *choices);
	design_factor *pick = xcalloc((size_t)n, sizeof *pick);
	int *count = xcalloc((size_t)n, sizeof *count), *at = xcalloc((size_t)n, sizeof *at);

	int ok = 1;

	for (int i = 0; i < n; i++) {
		char *inner = NULL;
		int transform = DESIGN_PLAIN;
		size_t len = strlen(names[i]);

		/* log(x), log1p(x): a function of a numeric column */
		if (len > 5 && strncmp(names[i], "log(", 4) == 0 && names[i][len - 1] == ')')
			transform = DESIGN_LOG, inner = xstrndup(names[i] + 4, len - 5);
		else if (len > 7 && strncmp(names[i], "log1p(", 6) == 0 && names[i][len - 1] == ')')
			transform = DESIGN_LOG1P, inner = xstrndup(names[i] + 6, len - 7);
		ok &= (count[i] = column_factors(schema, inner ? inner : names[i], transform,
		    &choices[i], r)) > 0;
		free(inner);
	}
	while (ok) {
		int i;

		for (i = 0; i < n; i++)
			pick[i] = choices[i][at[i]];
		design_add_term(d, pick, n);
		for (i = n - 1; i >= 0 && ++at[i] == count[i]; i--)
			at[i] = 0;
		if (i < 0)
			break;
	}
	for (int i = 0; i < n; i++)
		free(choices[i]);
	free(choices);
	free(pick);
	free(count);
	free(at);
}

static int
split(const char *s, size_t len, char sep, char ***out)
{
	int n = 0;
	const char *end = s + len;

	*out = NULL;
	while (s <= end) {
		const char *q = memchr(s, sep, (size_t)(end - s));
		size_t l = q ? (size_t)(q - s) : (size_t)(end - s);

		*out = xreallocarray(*out, (size_t)n + 1, sizeof **out);
		(*out)[n++] = xstrndup(s, l);
		if (!q)
			break;
		s = q + 1;
	}
	return n;
}

static void
free_words(char **w, int n)
{
	for (int i = 0; i < n; i++)
		free(w[i]);
	free(w);
}

/* x^2 and I(x^2) (R's formula for a square) as the parts x, x: a product
 * of a number with itself. A categorical x has no square. */
static int
expand_squares(char ***parts, int n, const table *schema, spec_report *r)
{
	for (int p = 0; p < n; p++) {
		char *w = (*parts)[p], *base = NULL;
		size_t len = strlen(w);
		int ci;

		if (len >= 6 && strncmp(w, "I(", 2) == 0 && strcmp(w + len - 3, "^2)") == 0)
			base = xstrndup(w + 2, len - 5);
		else if (len > 2 && strcmp(w + len - 2, "^2") == 0)
			base = xstrndup(w, len - 2);
		if (base == NULL)
			continue;
		ci = table_find(schema, base);
		if (ci >= 0 && schema->cols[ci].type == COL_CAT)
			spec_problem(r, DESIGN_BAD_SPEC, "%s in %s: '%s' is categorical: its "
			    "dummies squared are themselves", w, r->origin, base);
		*parts = xreallocarray(*parts, (size_t)n + 1, sizeof **parts);
		memmove(&(*parts)[p + 2], &(*parts)[p + 1], (size_t)(n - p - 1) * sizeof **parts);
		free(w);
		(*parts)[p] = base;
		(*parts)[p + 1] = xstrdup(base);
		n++;
		p++;
	}
	return n;
}

int
design_from_spec(design *d, const char *spec, const table *schema, const char *origin,
    char *why, size_t whylen)
{
	char **items;
	int nitems = split(spec, strlen(spec), ',', &items);
	spec_report r = { origin, why, whylen, DESIGN_OK };

	memset(d, 0, sizeof *d);
	for (int i = 0; i < nitems && r.status == DESIGN_OK; i++) {
		const char *item = items[i];
		char **parts;
		int nparts;
		int star = strchr(item, '*') != NULL;

		if (item[0] == '\0') {
			spec_problem(&r, DESIGN_BAD_SPEC, "%s has an empty item: '%s'", origin,
			    spec);
			break;
		}
		if (star && strchr(item, ':')) {
			spec_problem(&r, DESIGN_BAD_SPEC, "%s item '%s' mixes '*' and ':'",
			    origin, item);
			break;
		}
		nparts = split(item, strlen(item), star ? '*' : ':', &parts);
		nparts = expand_squares(&parts, nparts, schema, &r);
		if (nparts > 8)
			spec_problem(&r, DESIGN_BAD_SPEC, "%s item '%s' has more than 8 parts",
			    origin, item);
		for (int p = 0; p < nparts; p++)
			if (parts[p][0] == '\0')
				spec_problem(&r, DESIGN_BAD_SPEC, "%s item '%s' has an empty part",
				    origin, item);
		if (r.status != DESIGN_OK)
			;
		else if (star) {
			/* every non-empty subset, in order of size: a, b, a:b */
			for (int size = 1; size <= nparts; size++)
				for (unsigned mask = 1; mask < (1u << nparts); mask++) {
					char *sub[8];
					int k = 0;

					if (__builtin_popcount(mask) != size)
						continue;
					for (int p = 0; p < nparts; p++)
						if (mask & (1u << p))
							sub[k++] = parts[p];
					add_products(d, schema, sub, k, &r);
				}
		} else
			add_products(d, schema, parts, nparts, &r);
		free_words(parts, nparts);
	}
	free_words(items, nitems);
	if (r.status == DESIGN_OK && d->nterms == 0)
		spec_problem(&r, DESIGN_BAD_SPEC, "%s names no covariates", origin);
	if (r.status != DESIGN_OK)
		design_free(d);
	return r.status;
}

int
design_matrix(const design *d, const table *t, size_t n, double *X, char *why,
    size_t whylen)
{
	return design_matrix_rows(d, t, 0, n, X, why, whylen);
}

/* The column of factor fa in t, and for a level its code (-1 when t has
 * no such level), or a status with why: the column is not in t or of the
 * other kind (numeric, categorical) than the design's. */
static int
factor_column(const design_factor *fa, const table *t, const column **out, int32_t *code,
    char *why, size_t whylen)
{
	int ci = table_find(t, fa->column);
	const column *c;

	if (ci < 0) {
		snprintf(why, whylen, "covariate '%s' of the model is not in the stream",
		    fa->column);
		return -1;
	}
	c = &t->cols[ci];
	*code = -1;
	if (fa->level) {
		if (c->type != COL_CAT) {
			snprintf(why, whylen, "covariate '%s' was categorical when the model "
			    "was fitted, but is %s here", fa->column, coltype_name(c->type));
			return -1;
		}
		for (int l = 0; l < c->nlevels; l++)
			if (strcmp(c->levels[l], fa->level) == 0)
				*code = l;
	} else if (fa->transform != DESIGN_IS_MISSING && c->type == COL_CAT) {
		snprintf(why, whylen, "covariate '%s' is categorical here, but the model "
		    "treats it as a number", fa->column);
		return -1;
	}
	*out = c;
	return 0;
}

/* The loops of a design block, written so that the compiler vectorises
 * them (see lanes.h: products only, so every width gives the same bits):
 * a fit's passes build every block of the design again. Each returns how
 * many of its rows are missing or not finite, to be found again only when
 * there are any. */

/* xk[j] *= (v[j] == code): a level's indicator. */
VECTOR_CLONES static size_t
level_block(const int32_t *v, int32_t code, size_t n, double *xk)
{
	size_t missing = 0;

	for (size_t j = 0; j < n; j++) {
		missing += v[j] < 0;
		xk[j] *= (double)(v[j] == code);
	}
	return missing;
}

/* x[0..m) = the column's rows [first, first + m), NaN filled when filled. */
VECTOR_CLONES static size_t
number_block(const column *c, size_t first, size_t m, int filled, double fill, double *x)
{
	size_t nonfinite = 0;

	column_rows_f64(c, first, m, x);
	if (filled)
		for (size_t j = 0; j < m; j++)
			x[j] = x[j] != x[j] ? fill : x[j];
	for (size_t j = 0; j < m; j++)
		nonfinite += !(fabs(x[j]) <= DBL_MAX);
	return nonfinite;
}

VECTOR_CLONES static void
multiply_block(double *restrict xk, const double *restrict x, size_t m)
{
	for (size_t j = 0; j < m; j++)
		xk[j] *= x[j];
}

/* Multiplies xk[r - first] by factor fa (of column c, level code) for the
 * rows r of [first, first + n), counting into *bad the rows whose value is
 * missing or not finite (the first of them into *first_bad). Returns 0, or
 * DESIGN_BAD_DATA with why at the first value outside a transform's domain. */
static int
factor_into(const design_factor *fa, const column *c, int32_t code, size_t first, size_t n,
    double *xk, size_t *bad, size_t *first_bad, char *why, size_t whylen)
{
	enum { SUB = 256 }; /* rows converted at once, on the stack */
	size_t end = first + n;

	if (fa->level) {
		const int32_t *v = c->data;

		if (level_block(v + first, code, n, xk) && !fa->filled)
			for (size_t r = first; r < end; r++)
				if (v[r] < 0 && (*bad)++ == 0)
					*first_bad = r;
	} else if (fa->transform == DESIGN_IS_MISSING) {
		for (size_t r = first; r < end; r++)
			xk[r - first] *= column_is_missing(c, r);
	} else
		for (size_t r0 = first; r0 < end; r0 += SUB) {
			size_t m = end - r0 < SUB ? end - r0 : SUB;
			double x[SUB];

			if (number_block(c, r0, m, fa->filled, fa->fill, x))
				for (size_t j = 0; j < m; j++)
					if (!isfinite(x[j]) && (*bad)++ == 0)
						*first_bad = r0 + j;
			if (fa->transform)
				for (size_t j = 0; j < m; j++) {
					if (!isfinite(x[j]))
						continue;
					if (fa->transform == DESIGN_LOG ? !(x[j] > 0) : !(x[j] > -1)) {
						snprintf(why, whylen, "%s(%s) at row %zu (counting from "
						    "0): %g is outside its domain (%s)",
						    transform_name[fa->transform], fa->column, r0 + j, x[j],
						    fa->transform == DESIGN_LOG ? "log wants > 0: log1p "
						    "takes 0" : "log1p wants > -1");
						return DESIGN_BAD_DATA;
					}
					x[j] = fa->transform == DESIGN_LOG ? log(x[j]) : log1p(x[j]);
				}
			multiply_block(xk + (r0 - first), x, m);
		}
	return 0;
}

static int
missing_values(const design_factor *fa, size_t bad, size_t first_bad, char *why,
    size_t whylen)
{
	snprintf(why, whylen, "covariate '%s' has %zu missing, NaN or infinite values (the "
	    "first at row %zu, counting from 0)", fa->column, bad, first_bad);
	return DESIGN_MISSING;
}

/* Multiplies factor fa of t into xk for rows [first, first + n), block
 * rows at a time: into xk[r - first] (keep), or each block into xk[0..block)
 * (a scratch block, for the checks alone). Returns 0, or a status with why:
 * the column's (factor_column), a domain's (factor_into), or the count of
 * missing values over all n rows (missing_values). */
static int
factor_rows(const design_factor *fa, const table *t, size_t first, size_t n, size_t block,
    double *xk, int keep, char *why, size_t whylen)
{
	const column *c;
	int32_t code;
	size_t bad = 0, first_bad = 0;
	int rc = factor_column(fa, t, &c, &code, why, whylen);

	for (size_t r = 0; rc == 0 && r < n; r += block) {
		size_t count = n - r < block ? n - r : block;

		rc = factor_into(fa, c, code, first + r, count, keep ? xk + r : xk, &bad,
		    &first_bad, why, whylen);
	}
	if (rc != 0)
		return rc;
	return bad ? missing_values(fa, bad, first_bad, why, whylen) : 0;
}

/* Columns 1.. of X: the terms of rows [first, first + n). */
static int
terms_into(const design *d, const table *t, size_t first, size_t n, double *X, char *why,
    size_t whylen)
{
	for (int k = 0; k < d->nterms; k++) {
		const design_term *term = &d->terms[k];
		double *xk = X + (size_t)(k + 1) * n; /* xk[r - first]: row r */

		for (size_t r = 0; r < n; r++)
			xk[r] = 1.0;
		for (int f = 0; f < term->nfactors; f++) {
			int rc = factor_rows(&term->factors[f], t, first, n, n, xk, 1, why, whylen);

			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

int
design_check(const design *d, const table *t, size_t n, char *why, size_t whylen)
{
	enum { BLOCK = 4096 };
	double scratch[BLOCK]; /* the products are not kept */

	for (size_t r = 0; r < BLOCK; r++)
		scratch[r] = 1;
	for (int k = 0; k < d->nterms; k++)
		for (int f = 0; f < d->terms[k].nfactors; f++) {
			int rc = factor_rows(&d->terms[k].factors[f], t, 0, n, BLOCK, scratch, 0,
			    why, whylen);

			if (rc != 0)
				return rc;
		}
	return 0;
}

int
design_matrix_rows(const design *d, const table *t, size_t first, size_t n, double *X,
    char *why, size_t whylen)
{
	for (size_t r = 0; r < n; r++)
		X[r] = 1.0;
	return terms_into(d, t, first, n, X, why, whylen);
}

int
design_matrix_terms(const design *d, const table *t, size_t n, double *X, char *why,
    size_t whylen)
{
	return terms_into(d, t, 0, n, X, why, whylen);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
design_find_fills(const design *d, const table *t, size_t n, design_fills *f, char *why,
    size_t whylen)
{
	double *values = NULL;

	memset(f, 0, sizeof *f);
	for (int k = 0; k < d->nterms; k++)
		for (int j = 0; j < d->terms[k].nfactors; j++) {
			const design_factor *fa = &d->terms[k].factors[j];
			int ci = table_find(t, fa->column), seen = 0;
			const column *c;
			size_t missing = 0, finite = 0;

			for (int i = 0; i < f->n && !seen; i++)
				seen = strcmp(f->cols[i].column, fa->column) == 0;
			if (seen || fa->transform == DESIGN_IS_MISSING)
				continue;
			if (ci < 0) {
				snprintf(why, whylen, "covariate '%s' of the model is not in the "
				    "stream", fa->column);
				goto fail;
			}
			c = &t->cols[ci];
			for (size_t r = 0; r < n; r++)
				missing += column_is_missing(c, r) != 0;
			if (missing == 0)
				continue;
			f->cols = xreallocarray(f->cols, (size_t)f->n + 1, sizeof *f->cols);
			f->cols[f->n] = (design_fill){ xstrdup(fa->column), c->type != COL_CAT,
			    0, missing };
			f->n++;
			if (c->type == COL_CAT)
				continue;
			values = xreallocarray(values, n, sizeof *values);
			for (size_t r = 0; r < n; r++) {
				double x = column_f64(c, r);

				if (isfinite(x))
					values[finite++] = x;
			}
			if (finite == 0) {
				snprintf(why, whylen, "covariate '%s' has no value that is not "
				    "missing: a fill (its median) does not exist; drop it", fa->column);
				goto fail;
			}
			qsort(values, finite, sizeof *values, cmp_double);
			f->cols[f->n - 1].fill = finite % 2 ? values[finite / 2] :
			    (values[finite / 2 - 1] + values[finite / 2]) / 2;
		}
	free(values);
	return 0;
fail:
	free(values);
	design_fills_free(f);
	return -1;
}

void
design_apply_fills(design *d, const design_fills *f)
{
	for (int i = 0; i < f->n; i++) {
		design_factor ind = { .column = f->cols[i].column, .transform = DESIGN_IS_MISSING };

		for (int k = 0; k < d->nterms; k++)
			for (int j = 0; j < d->terms[k].nfactors; j++) {
				design_factor *fa = &d->terms[k].factors[j];

				if (fa->transform != DESIGN_IS_MISSING &&
				    strcmp(fa->column, f->cols[i].column) == 0) {
					fa->filled = 1;
					fa->fill = f->cols[i].numeric ? f->cols[i].fill : 0;
				}
			}
		design_add_term(d, &ind, 1);
	}
}

void
design_fills_free(design_fills *f)
{
	for (int i = 0; i < f->n; i++)
		free(f->cols[i].column);
	free(f->cols);
	memset(f, 0, sizeof *f);
}
