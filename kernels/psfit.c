#include "psfit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "lanes.h"

/* What separation is judged on. For a level term (a dummy column of X) or
 * the reference level of a categorical covariate (its dummies all 0): the
 * units in it and how many of them are treated. For a numeric term: the
 * range of its values among treated units and among controls. Summed in
 * lanes (see lanes.h), in each function's own arrays so the compiler keeps
 * them in registers: boot checks every replicate. */
typedef struct {
	double in, in_treated, lo[2], hi[2];
} sep_stats;

/* The checks' columns hold rows [from, to): row i at column[i - from].
 * x = 1 where the column (dummies NULL) is nonzero, or where every dummy
 * is 0 */
static ALWAYS_INLINE void
count_block(const logit_data *ld, const double *column, const double *const *dummies,
    int ndummies, size_t from, size_t i0, int lanes, double *in, double *in1)
{
	double units[LANES], treated[LANES], on[LANES];

	logit_units(ld, i0, lanes, units, treated);
	if (dummies) {
		for (int j = 0; j < lanes; j++)
			on[j] = 1;
		for (int k = 0; k < ndummies; k++)
			for (int j = 0; j < lanes; j++)
				on[j] = dummies[k][i0 - from + j] != 0 ? 0 : on[j];
	} else
		for (int j = 0; j < lanes; j++)
			on[j] = column[i0 - from + j] != 0;
	for (int j = 0; j < lanes; j++) {
		in[j] += on[j] * units[j];
		in1[j] += on[j] * treated[j];
	}
}

/* Adds rows [from, to)'s units and treated units into out (whole numbers:
 * the same sums however the rows are split) */
VECTOR_CLONES static void
sep_counts(const logit_data *ld, const double *column, const double *const *dummies,
    int ndummies, size_t from, size_t to, sep_stats *out)
{
	size_t i0 = from;
	double in[LANES] = { 0 }, in1[LANES] = { 0 };

	for (; i0 + LANES <= to; i0 += LANES)
		count_block(ld, column, dummies, ndummies, from, i0, LANES, in, in1);
	if (i0 < to)
		count_block(ld, column, dummies, ndummies, from, i0, (int)(to - i0), in, in1);
	for (int j = 0; j < LANES; j++) {
		out->in += in[j];
		out->in_treated += in1[j];
	}
}

static ALWAYS_INLINE void
range_block(const logit_data *ld, const double *x, size_t from, size_t i0, int lanes,
    double (*lo)[LANES], double (*hi)[LANES])
{
	double units[LANES], treated[LANES];

	logit_units(ld, i0, lanes, units, treated);
	for (int j = 0; j < lanes; j++) {
		/* a unit outside the group counts as +-inf */
		double x1 = treated[j] > 0 ? x[i0 - from + j] : INFINITY;
		double x0 = units[j] > treated[j] ? x[i0 - from + j] : INFINITY;

		lo[1][j] = x1 < lo[1][j] ? x1 : lo[1][j];
		lo[0][j] = x0 < lo[0][j] ? x0 : lo[0][j];
		x1 = treated[j] > 0 ? x[i0 - from + j] : -INFINITY;
		x0 = units[j] > treated[j] ? x[i0 - from + j] : -INFINITY;
		hi[1][j] = x1 > hi[1][j] ? x1 : hi[1][j];
		hi[0][j] = x0 > hi[0][j] ? x0 : hi[0][j];
	}
}

/* Widens out's ranges by rows [from, to) */
VECTOR_CLONES static void
sep_ranges(const logit_data *ld, const double *x, size_t from, size_t to, sep_stats *out)
{
	size_t i0 = from;
	double lo[2][LANES], hi[2][LANES];

	for (int j = 0; j < LANES; j++) {
		lo[0][j] = lo[1][j] = INFINITY;
		hi[0][j] = hi[1][j] = -INFINITY;
	}
	for (; i0 + LANES <= to; i0 += LANES)
		range_block(ld, x, from, i0, LANES, lo, hi);
	if (i0 < to)
		range_block(ld, x, from, i0, (int)(to - i0), lo, hi);
	for (int g = 0; g < 2; g++)
		for (int j = 0; j < LANES; j++) {
			out->lo[g] = lo[g][j] < out->lo[g] ? lo[g][j] : out->lo[g];
			out->hi[g] = hi[g][j] > out->hi[g] ? hi[g][j] : out->hi[g];
		}
}

/* A level term: one factor, "column == level". */
static int
is_level(const design_term *term)
{
	return term->nfactors == 1 && term->factors[0].level != NULL;
}

/* psfit_separation's checks, in order: one per term of one factor (a
 * level: its units; a number: its two ranges), then one per categorical
 * column (its reference level, named by the column's first level term). */
typedef struct {
	enum { CHECK_LEVEL, CHECK_NUMBER, CHECK_REFERENCE } kind;
	int term;
} sep_check;

/* Is term j a level of term k's column? */
static int
same_column(const design *d, int k, int j)
{
	return is_level(&d->terms[j]) &&
	    strcmp(d->terms[j].factors[0].column, d->terms[k].factors[0].column) == 0;
}

/* Check c, or -1 past the last. */
static int
check_at(const design *d, int c, sep_check *out)
{
	for (int k = 0; k < d->nterms; k++)
		if (d->terms[k].nfactors == 1 && c-- == 0) {
			*out = (sep_check){ is_level(&d->terms[k]) ? CHECK_LEVEL : CHECK_NUMBER, k };
			return 0;
		}
	for (int k = 0; k < d->nterms; k++) {
		int first = is_level(&d->terms[k]);

		for (int j = 0; j < k && first; j++)
			first = !same_column(d, k, j);
		if (first && c-- == 0) {
			*out = (sep_check){ CHECK_REFERENCE, k };
			return 0;
		}
	}
	return -1;
}

/* Adds rows [from, to) to the checks' stats, their terms' columns in X
 * (row i of term k at X[(k + 1) * stride + i - from]) */
static void
checks_add(const design *d, const logit_data *ld, const sep_check *ck, int nchecks,
    const double *X, size_t stride, size_t from, size_t to, const double **dummies,
    sep_stats *st)
{
	for (int c = 0; c < nchecks; c++) {
		const double *x = X + (size_t)(ck[c].term + 1) * stride;
		int ndummies = 0;

		switch (ck[c].kind) {
		case CHECK_LEVEL:
			sep_counts(ld, x, NULL, 0, from, to, &st[c]);
			break;
		case CHECK_NUMBER:
			sep_ranges(ld, x, from, to, &st[c]);
			break;
		case CHECK_REFERENCE: /* rows where all of its dummies are 0 */
			for (int j = ck[c].term; j < d->nterms; j++)
				if (same_column(d, ck[c].term, j))
					dummies[ndummies++] = X + (size_t)(j + 1) * stride;
			sep_counts(ld, NULL, dummies, ndummies, from, to, &st[c]);
			break;
		}
	}
}

/* Check ck's verdict on its stats: 0, or -1 with why */
static int
check_verdict(const design *d, const sep_check *ck, const sep_stats *st, char *why,
    size_t whylen)
{
	const design_term *term = &d->terms[ck->term];

	switch (ck->kind) {
	case CHECK_LEVEL:
		if (st->in == 0) {
			snprintf(why, whylen, "no unit has %s = %s: drop the level or the "
			    "covariate", term->factors[0].column, term->factors[0].level);
			return -1;
		}
		if (st->in_treated == 0 || st->in_treated == st->in) {
			snprintf(why, whylen, "perfect separation: all %.0f units with %s = %s "
			    "are %s, so their propensity is %d; drop or merge that level, or "
			    "remove those units upstream", st->in, term->factors[0].column,
			    term->factors[0].level, st->in_treated ? "treated" : "controls",
			    st->in_treated ? 1 : 0);
			return -1;
		}
		break;
	case CHECK_NUMBER:
		if (st->hi[0] < st->lo[1] || st->hi[1] < st->lo[0]) {
			snprintf(why, whylen, "perfect separation: %s splits the groups (every "
			    "treated unit has a %s %s than every control); the propensities "
			    "would be 0 and 1", term->name, st->hi[0] < st->lo[1] ? "higher" :
			    "lower", term->name);
			return -1;
		}
		break;
	case CHECK_REFERENCE:
		if (st->in > 0 && (st->in_treated == 0 || st->in_treated == st->in)) {
			snprintf(why, whylen, "perfect separation: all %.0f units in the "
			    "reference level of %s are %s; drop or merge that level, or remove "
			    "those units upstream", st->in, term->factors[0].column,
			    st->in_treated ? "treated" : "controls");
			return -1;
		}
		break;
	}
	return 0;
}

int
psfit_separation(const design *d, const logit_data *ld, char *why, size_t whylen)
{
	int nchecks = 0, rc = 0;
	sep_check *ck;
	sep_stats *st;
	const double **dummies = xcalloc((size_t)d->nterms + 1, sizeof *dummies);

	while (check_at(d, nchecks, &(sep_check){ 0 }) == 0)
		nchecks++;
	ck = xcalloc((size_t)nchecks + 1, sizeof *ck);
	st = xcalloc((size_t)nchecks + 1, sizeof *st);
	for (int c = 0; c < nchecks; c++) {
		check_at(d, c, &ck[c]);
		st[c] = (sep_stats){ 0, 0, { INFINITY, INFINITY }, { -INFINITY, -INFINITY } };
	}
	if (ld->X)
		checks_add(d, ld, ck, nchecks, ld->X, ld->n, 0, ld->n, dummies, st);
	else {
		/* the rows a block at a time, as the fit's passes take them */
		double *block = xreallocarray(NULL, LOGIT_BLOCK_ROWS, (size_t)ld->p * sizeof *block);

		for (size_t b = 0; b < ld->n && rc == 0; b += LOGIT_BLOCK_ROWS) {
			size_t count = ld->n - b < LOGIT_BLOCK_ROWS ? ld->n - b : LOGIT_BLOCK_ROWS;

			if (ld->rows(ld->rows_ctx, b, count, block) != 0) {
				snprintf(why, whylen, "the model's covariates could not be built");
				rc = PSFIT_ROWS_FAILED;
			} else
				checks_add(d, ld, ck, nchecks, block, count, b, b + count, dummies, st);
		}
		free(block);
	}
	for (int c = 0; rc == 0 && c < nchecks; c++)
		rc = check_verdict(d, &ck[c], &st[c], why, whylen);
	free(ck);
	free(st);
	free(dummies);
	return rc;
}

/* Names the terms with the largest coefficients: the likely culprits. */
static void
name_suspects(const design *d, const logit_fit *fit, char *buf, size_t size)
{
	int used[3] = { -1, -1, -1 };
	size_t off = 0;

	for (int r = 0; r < 3 && r < d->nterms; r++) {
		int best = -1;

		for (int k = 0; k < d->nterms; k++) {
			if (k == used[0] || k == used[1])
				continue;
			if (best < 0 || fabs(fit->beta[k + 1]) > fabs(fit->beta[best + 1]))
				best = k;
		}
		used[r] = best;
		off += (size_t)snprintf(buf + off, off < size ? size - off : 0, "%s%s (%.3g)",
		    r ? ", " : "", d->terms[best].name, fit->beta[best + 1]);
	}
}

/* Is row i of X (n rows) in the set check ck looks at? */
static int
row_in_check(const design *d, const double *X, size_t n, const sep_check *ck, size_t i)
{
	int in = 1;

	switch (ck->kind) {
	case CHECK_NUMBER:
		return 1;
	case CHECK_LEVEL:
		return X[(size_t)(ck->term + 1) * n + i] != 0;
	case CHECK_REFERENCE:
		for (int j = ck->term; j < d->nterms; j++)
			if (same_column(d, ck->term, j))
				in &= X[(size_t)(j + 1) * n + i] == 0;
		break;
	}
	return in;
}

void
psfit_witnesses_find(psfit_witnesses *w, const design *d, const logit_data *ld)
{
	sep_check ck, other;
	int checks = 0;

	while (check_at(d, checks, &ck) == 0)
		checks++;
	memset(w, 0, sizeof *w);
	if (checks > PSFIT_MAX_CHECKS || ld->X == NULL)
		return;
	w->usable = 1;
	w->all = checks == 64 ? ~(uint64_t)0 : ((uint64_t)1 << checks) - 1;
	for (int c = 0; c < checks; c++) {
		size_t best[2] = { SIZE_MAX, SIZE_MAX };
		double most[2] = { 0, 0 };

		check_at(d, c, &ck);
		for (size_t i = 0; i < ld->n; i++) {
			double units, treated, rarer;

			logit_units(ld, i, 1, &units, &treated);
			rarer = fmin(treated, units - treated);
			if (rarer > most[1] && row_in_check(d, ld->X, ld->n, &ck, i)) {
				int at = rarer > most[0] ? 0 : 1;

				if (at == 0) {
					most[1] = most[0];
					best[1] = best[0];
				}
				most[at] = rarer;
				best[at] = i;
			}
		}
		for (int b = 0; b < 2; b++)
			if (best[b] != SIZE_MAX) {
				uint64_t answers = 0;

				for (int o = 0; o < checks; o++)
					if (check_at(d, o, &other) == 0 &&
					    row_in_check(d, ld->X, ld->n, &other, best[b]))
						answers |= (uint64_t)1 << o;
				w->row[w->n] = best[b];
				w->answers[w->n++] = answers;
			}
	}
}

/* Do the witnesses show every check would pass on ld? */
static int
witnessed(const psfit_witnesses *w, const logit_data *ld)
{
	uint64_t shown = 0;

	if (w == NULL || !w->usable)
		return 0;
	for (int k = 0; k < w->n; k++) {
		double units, treated;

		logit_units(ld, w->row[k], 1, &units, &treated);
		if (treated > 0 && units - treated > 0)
			shown |= w->answers[k];
	}
	return shown == w->all;
}

int
psfit_fit(const design *d, const logit_data *ld, const logit_opts *o, logit_fit *fit,
    double *ps, char *why, size_t whylen)
{
	return psfit_fit_witnessed(d, ld, o, NULL, fit, ps, why, whylen);
}

/* How many propensities are 0 or 1, in a loop without branches, which
 * vectorises: boot checks every replicate's (a branch a row was 4% of it). */
VECTOR_CLONES static size_t
count_extremes(const double *ps, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += (ps[i] <= 0) | (ps[i] >= 1);
	return k;
}

int
psfit_fit_witnessed(const design *d, const logit_data *ld, const logit_opts *o,
    const psfit_witnesses *w, logit_fit *fit, double *ps, char *why, size_t whylen)
{
	logit_status st;
	char suspects[256];
	double extreme = 0;
	int rc;

	if (!witnessed(w, ld) && (rc = psfit_separation(d, ld, why, whylen)) != 0) {
		memset(fit, 0, sizeof *fit);
		return rc;
	}
	st = logit_fit_newton(ld, o, fit, ps);
	if (st == LOGIT_ROWS_FAILED) {
		snprintf(why, whylen, "the model's covariates could not be built");
		return PSFIT_ROWS_FAILED;
	}
	if (st == LOGIT_SINGULAR) {
		snprintf(why, whylen, "the propensity model cannot be fitted: its "
		    "covariates are collinear (a term is constant or a combination of "
		    "others); check -x");
		return -1;
	}
	name_suspects(d, fit, suspects, sizeof suspects);
	if (st == LOGIT_NOT_CONVERGED) {
		snprintf(why, whylen, "the propensity model did not converge in %d "
		    "iterations (near-separation?); the largest coefficients: %s",
		    fit->iterations, suspects);
		return -1;
	}
	if (count_extremes(ps, ld->n) > 0)
		for (size_t i = 0; i < ld->n; i++)
			if (ps[i] <= 0 || ps[i] >= 1) {
				double units, treated;

				logit_units(ld, i, 1, &units, &treated);
				extreme += units;
			}
	if (extreme > 0) {
		snprintf(why, whylen, "%.0f fitted propensities are 0 or 1 to double "
		    "precision (near-separation); the largest coefficients: %s",
		    extreme, suspects);
		return -1;
	}
	return 0;
}
