#include "ipw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "keyed.h"
#include "lanes.h"
#include "quantile.h"

static const char *names[EST_COUNT] = { "ate", "att", "atc", "ato" };

const char *
estimand_name(estimand e)
{
	return names[e];
}

int
estimand_parse(const char *name, estimand *e)
{
	for (int i = 0; i < EST_COUNT; i++)
		if (strcmp(name, names[i]) == 0) {
			*e = (estimand)i;
			return 0;
		}
	return -1;
}

void
ipw_accum_init(ipw_accum *a)
{
	memset(a, 0, sizeof *a);
}

void
ipw_accum_add(ipw_accum *a, const double *w, const uint8_t *t, const double *y,
    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int g = t[i];
		double w2 = w[i] * w[i], d;

		if (!a->shifted[g]) {
			a->shift[g] = y[i];
			a->shifted[g] = 1;
		}
		d = y[i] - a->shift[g];
		a->n[g]++;
		a->sum_w[g] += w[i];
		a->sum_wy[g] += w[i] * y[i];
		a->sum_w2[g] += w2;
		a->sum_w2d[g] += w2 * d;
		a->sum_w2d2[g] += w2 * d * d;
		a->max_w[g] = fmax(a->max_w[g], w[i]);
		a->zero_w[g] += w[i] == 0;
	}
}

int
ipw_accum_finish(const ipw_accum *a, ipw_summary *s)
{
	double var[2];

	memset(s, 0, sizeof *s);
	for (int g = 0; g < 2; g++) {
		double m;

		s->n[g] = a->n[g];
		s->sum_w[g] = a->sum_w[g];
		s->max_w[g] = a->max_w[g];
		s->zero_w[g] = a->zero_w[g];
		s->mean[g] = a->sum_w[g] > 0 ? a->sum_wy[g] / a->sum_w[g] : NAN;
		s->ess[g] = a->sum_w2[g] > 0 ? a->sum_w[g] * a->sum_w[g] / a->sum_w2[g] : 0;
		/* sum w^2 (y - mean)^2 = sum w^2 ((y - K) - (mean - K))^2 */
		m = s->mean[g] - a->shift[g];
		var[g] = a->sum_w2d2[g] - 2 * m * a->sum_w2d[g] + m * m * a->sum_w2[g];
		var[g] = var[g] > 0 ? var[g] : 0;
	}
	s->estimate = s->mean[1] - s->mean[0];
	if (!(s->sum_w[0] > 0 && s->sum_w[1] > 0)) {
		s->se = NAN;
		return -1;
	}
	s->se = sqrt(var[0] / (s->sum_w[0] * s->sum_w[0]) +
	    var[1] / (s->sum_w[1] * s->sum_w[1]));
	return 0;
}

int
ipw_effect(const double *w, const uint8_t *t, const double *y, size_t n,
    ipw_summary *s)
{
	ipw_accum a;

	ipw_accum_init(&a);
	ipw_accum_add(&a, w, t, y, n);
	return ipw_accum_finish(&a, s);
}

/* A block's treatments as numbers, in a loop of their own: converted where
 * they are used, GCC 12 vectorises none of the loop that uses them. */
static ALWAYS_INLINE void
treatments(const uint8_t *t, size_t i0, int lanes, double *tt)
{
	for (int j = 0; j < lanes; j++)
		tt[j] = (int32_t)t[i0 + j]; /* through int: a vector conversion */
}

/* A cell of treatment is1 with weighted units a and weighted outcome sum b
 * into lane j of the four sums, each sum taking 0 from the other group's
 * cells (x + 0 is x). */
static ALWAYS_INLINE void
add_cell(double (*acc)[LANES], int j, double is1, double a, double b)
{
	acc[0][j] += (1 - is1) * a;
	acc[1][j] += is1 * a;
	acc[2][j] += (1 - is1) * b;
	acc[3][j] += is1 * b;
}

/* Cells [i0, i0 + lanes) into the four sums' lanes. */
static ALWAYS_INLINE void
cells_block(const double *w, const uint8_t *t, const double *count, const double *ysum,
    size_t i0, int lanes, double (*acc)[LANES])
{
	double tt[LANES];

	treatments(t, i0, lanes, tt);
	for (int j = 0; j < lanes; j++) {
		double wi = w ? w[i0 + j] : 1;

		add_cell(acc, j, tt[j], wi * count[i0 + j], wi * ysum[i0 + j]);
	}
}

/* Summed in lanes (see lanes.h): boot calls this for each estimand of each
 * replicate. */
VECTOR_CLONES int
ipw_estimate_cells(const double *w, const uint8_t *t, const double *count,
    const double *ysum, size_t n, double *estimate)
{
	double acc[4][LANES] = { { 0 } }, sum[4] = { 0 };
	size_t i0 = 0;

	for (; i0 + LANES <= n; i0 += LANES)
		cells_block(w, t, count, ysum, i0, LANES, acc);
	if (i0 < n)
		cells_block(w, t, count, ysum, i0, (int)(n - i0), acc);
	for (int k = 0; k < 4; k++)
		for (int j = 0; j < LANES; j++)
			sum[k] += acc[k][j];
	if (!(sum[0] > 0) || !(sum[1] > 0))
		return -1;
	*estimate = sum[3] / sum[1] - sum[2] / sum[0];
	return 0;
}

/* ipw_weight() of a unit with treatment treated (0 or 1) and propensity x,
 * each term of the form as the control's plus 0 or 1 times the difference: exact, the terms being small
 * integers, and without loads that depend on t, so the loop vectorises:
 * the same operations on the same terms, the same bits. t is 0 or 1 and
 * taken as a number: written as t != 0, GCC turns the product into a
 * branch per unit, which mispredicts on cells (their t alternate). */
static ALWAYS_INLINE double
formed_weight(const double *base, const double *step, double treated, double x)
{
	double a = base[0] + treated * step[0], b = base[1] + treated * step[1];
	double c = base[2] + treated * step[2], d = base[3] + treated * step[3];

	return (a + b * x) / (c + d * x);
}

/* Estimand e's form as the control's terms and the differences to the
 * treated unit's (see formed_weight). */
static void
form_terms(estimand e, double base[4], double step[4])
{
	for (int k = 0; k < 4; k++) {
		base[k] = ipw_form[e][0][k];
		step[k] = ipw_form[e][1][k] - ipw_form[e][0][k];
	}
}

/* Units [i0, i0 + lanes)' weights into w. */
static ALWAYS_INLINE void
weights_block(const double *base, const double *step, const uint8_t *t,
    const double *ps, size_t i0, int lanes, double *w, double *finite)
{
	double out[LANES], tt[LANES];

	treatments(t, i0, lanes, tt);
	for (int j = 0; j < lanes; j++) {
		out[j] = formed_weight(base, step, tt[j], ps[i0 + j]);
		finite[j] += out[j] - out[j]; /* 0, or NaN once infinite */
	}
	for (int j = 0; j < lanes; j++)
		w[i0 + j] = out[j];
}

VECTOR_CLONES int
ipw_weights(estimand e, const uint8_t *t, const double *ps, size_t n, double *w)
{
	double base[4], step[4], finite[LANES] = { 0 }, all = 0;
	size_t i0 = 0;

	form_terms(e, base, step);
	for (; i0 + LANES <= n; i0 += LANES)
		weights_block(base, step, t, ps, i0, LANES, w, finite);
	if (i0 < n)
		weights_block(base, step, t, ps, i0, (int)(n - i0), w, finite);
	for (int j = 0; j < LANES; j++)
		all += finite[j];
	return all == 0 ? 0 : -1;
}

/* One weighting's share of ipw_estimates_cells for cells [i0, i0 +
 * lanes): its weights made as weights_block makes them and summed as
 * cells_block sums them (the same functions), the same bits. */
static ALWAYS_INLINE void
formed_block(const double *base, const double *step, const double *tt, const double *ps,
    const double *count, const double *ysum, size_t i0, int lanes, int unweighted,
    double (*acc)[LANES], double *finite)
{
	for (int j = 0; j < lanes; j++) {
		double w = unweighted ? 1 : formed_weight(base, step, tt[j], ps[i0 + j]);

		if (!unweighted)
			finite[j] += w - w; /* 0, or NaN once infinite */
		add_cell(acc, j, tt[j], w * count[i0 + j], w * ysum[i0 + j]);
	}
}

/* The weightings of a block of cells, one after another while the block's
 * cells are in the first cache. k and naive (the first weighting's weights
 * are 1: no division) are constants where this is inlined. */
static ALWAYS_INLINE void
formed_blocks(int k, int naive, const double (*base)[4], const double (*step)[4],
    const uint8_t *t, const double *ps, const double *count, const double *ysum, size_t n,
    double (*acc)[4][LANES], double (*finite)[LANES])
{
	size_t i0 = 0;

	double tt[LANES];

	for (; i0 + LANES <= n; i0 += LANES) {
		treatments(t, i0, LANES, tt);
#pragma GCC unroll 8
		for (int q = 0; q < k; q++)
			formed_block(base[q], step[q], tt, ps, count, ysum, i0, LANES,
			    naive && q == 0, acc[q], finite[q]);
	}
	if (i0 < n) {
		treatments(t, i0, (int)(n - i0), tt);
		for (int q = 0; q < k; q++)
			formed_block(base[q], step[q], tt, ps, count, ysum, i0, (int)(n - i0),
			    naive && q == 0, acc[q], finite[q]);
	}
}

VECTOR_CLONES void
ipw_estimates_cells(const estimand *e, int k, const uint8_t *t, const double *ps,
    const double *count, const double *ysum, size_t n, double *estimate, int *status)
{
	double base[IPW_FORMED_MAX][4] = { { 0 } }, step[IPW_FORMED_MAX][4] = { { 0 } };
	double acc[IPW_FORMED_MAX][4][LANES] = { { { 0 } } };
	double finite[IPW_FORMED_MAX][LANES] = { { 0 } };

	for (int q = 0; q < k; q++)
		if (e[q] != EST_COUNT) /* weights of 1 (the naive one) are not formed */
			form_terms(e[q], base[q], step[q]);
/* each count its own loop, the weightings unrolled */
#define FORMED_CASE(kk, nv) \
	case 2 * (kk) + (nv): \
		formed_blocks(kk, nv, base, step, t, ps, count, ysum, n, acc, finite); \
		break
	switch (2 * k + (e[0] == EST_COUNT)) {
	FORMED_CASE(1, 0); FORMED_CASE(2, 0); FORMED_CASE(3, 0); FORMED_CASE(4, 0);
	FORMED_CASE(1, 1); FORMED_CASE(2, 1); FORMED_CASE(3, 1); FORMED_CASE(4, 1);
	FORMED_CASE(5, 1);
	}
#undef FORMED_CASE
	for (int q = 0; q < k; q++) {
		double sum[4] = { 0 }, all = 0;

		for (int j = 0; j < LANES; j++)
			all += finite[q][j];
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < LANES; j++)
				sum[i] += acc[q][i][j];
		estimate[q] = NAN;
		if (all != 0)
			status[q] = IPW_INFINITE_WEIGHT;
		else if (!(sum[0] > 0) || !(sum[1] > 0))
			status[q] = IPW_ZERO_WEIGHT;
		else {
			status[q] = 0;
			estimate[q] = sum[3] / sum[1] - sum[2] / sum[0];
		}
	}
}

size_t
ipw_truncate(double *w, const uint8_t *t, size_t n, double q)
{
	double *v = xmalloc((n ? n : 1) * sizeof *v);
	size_t capped = 0;

	for (int g = 0; g < 2; g++) {
		size_t m = 0;
		double cap;

		for (size_t i = 0; i < n; i++)
			if (t[i] == g && w[i] > 0)
				v[m++] = w[i];
		if (m == 0)
			continue;
		sort_doubles(v, m);
		cap = quantile_sorted(v, m, q);
		for (size_t i = 0; i < n; i++)
			if (t[i] == g && w[i] > cap) {
				w[i] = cap;
				capped++;
			}
	}
	free(v);
	return capped;
}

int
ipw_adjusted_weights(const ipw_opts *o, estimand e, const uint8_t *t, const double *ps,
    const double *count, size_t n, double *w, size_t trimmed[2], size_t *capped,
    size_t *bad_row)
{
	double share1 = 0;

	if (count && o->truncate_q > 0)
		return -2; /* a quantile over units, not cells */
	trimmed[0] = trimmed[1] = 0;
	if (o->stabilize && e == EST_ATE) { /* the only use of the share */
		double units = 0;

		for (size_t i = 0; i < n; i++) {
			double c = count ? count[i] : 1;

			share1 += t[i] * c;
			units += c;
		}
		share1 /= units;
	}
	/* the weights first, in a loop without branches; trimming, the check
	 * for infinite weights and stabilising after */
	{
		int finite = ipw_weights(e, t, ps, n, w) == 0;

		if (o->trim_hi > 0)
			for (size_t i = 0; i < n; i++)
				if (ps[i] < o->trim_lo || ps[i] > o->trim_hi) {
					w[i] = 0;
					trimmed[t[i]] += count ? (size_t)count[i] : 1;
				}
		if (!finite)
			for (size_t i = 0; i < n; i++)
				if (!isfinite(w[i])) {
					*bad_row = i;
					return -1;
				}
	}
	if (o->stabilize && e == EST_ATE)
		for (size_t i = 0; i < n; i++)
			w[i] *= t[i] ? share1 : 1 - share1;
	*capped = o->truncate_q > 0 ? ipw_truncate(w, t, n, o->truncate_q) : 0;
	return 0;
}

void
ipw_positivity_init(ipw_positivity *p, double lo, double hi)
{
	*p = (ipw_positivity){ .lo = lo, .hi = hi };
}

/* The sums of ipw_positivity_add, one unit a row or count[i] each; two
 * loops so that the common one (units) vectorises. */
VECTOR_CLONES static void
positivity_sums(const uint8_t *t, const double *ps, const double *count, size_t n,
    double lo, double hi, double sum[4])
{
	double all = 0, n1 = 0, out = 0, out1 = 0;

	if (count == NULL) {
		/* whole units: integer sums, which vectorise as they are */
		uint64_t c1 = 0, co = 0, co1 = 0;

		for (size_t i = 0; i < n; i++) {
			uint64_t tr = t[i] != 0, o = (ps[i] < lo) | (ps[i] > hi);

			c1 += tr;
			co += o;
			co1 += o & tr;
		}
		n1 = (double)c1, out = (double)co, out1 = (double)co1;
	} else
		for (size_t i = 0; i < n; i++) {
			double c = count[i], tr = (double)t[i];
			double o = c * (double)((ps[i] < lo) | (ps[i] > hi));

			all += c;
			n1 += c * tr;
			out += o;
			out1 += o * tr;
		}
	sum[0] = count ? all : (double)n;
	sum[1] = n1;
	sum[2] = out;
	sum[3] = out1;
}

void
ipw_positivity_add(ipw_positivity *p, const uint8_t *t, const double *ps,
    const double *count, size_t n)
{
	double sum[4];

	/* without branches on the data: weight streams every row through here */
	positivity_sums(t, ps, count, n, p->lo, p->hi, sum);
	p->n[1] += sum[1];
	p->n[0] += sum[0] - sum[1];
	p->outside[1] += sum[3];
	p->outside[0] += sum[2] - sum[3];
}

double
ipw_positivity_share(const ipw_positivity *p, int g)
{
	return p->n[g] > 0 ? p->outside[g] / p->n[g] : 0;
}

/* Group j of the sorted g values: its value and units, from k[*i] on. */
static double
next_group(const keyed *k, size_t n, const double *count, size_t *i, double *units)
{
	double g = k[*i].key, c = 0;

	for (; *i < n && k[*i].key == g; (*i)++)
		c += count ? count[k[*i].index] : 1;
	*units = c;
	return g;
}

double
ipw_crump_alpha(const double *ps, const double *count, size_t n)
{
	keyed *k = xreallocarray(NULL, n + 1, sizeof *k);
	double units = 0, sum = 0, best = INFINITY, alpha = 0;

	for (size_t i = 0; i < n; i++)
		k[i] = (keyed){ 1 / (ps[i] * (1 - ps[i])), i };
	keyed_sort(k, n);
	/* Keeping the units of the smallest g, S of them summing to sum: the
	 * variance bound is sum / units^2. Its minimum over the cut-offs is
	 * where g first passes (about) twice the mean of the values kept: the
	 * root of gamma = 2 E[g | g <= gamma] with the smallest variance when
	 * discrete propensities give that equation several. Ties keep more. */
	for (size_t i = 0; i < n && isfinite(k[i].key);) {
		double c, g = next_group(k, n, count, &i, &c), v;

		units += c;
		sum += c * g;
		v = sum / (units * units);
		if (v <= best) {
			double next = i < n ? k[i].key : INFINITY, gamma = 2 * sum / units;

			best = v;
			if (i == n) {
				alpha = 0; /* everything kept */
				continue;
			}
			/* the band's edge between this value and the next */
			if (!(gamma >= g && gamma < next))
				gamma = isfinite(next) ? (g + next) / 2 : 2 * g;
			alpha = 0.5 - sqrt(0.25 - 1 / gamma);
		}
	}
	free(k);
	return alpha;
}

ipw_opts
ipw_resolve(const ipw_opts *o, const double *ps, const double *count, size_t n)
{
	ipw_opts r = *o;

	if (o->trim_auto) {
		double alpha = ipw_crump_alpha(ps, count, n);

		r.trim_auto = 0;
		r.trim_lo = alpha;
		r.trim_hi = alpha > 0 ? 1 - alpha : 0;
	}
	return r;
}

const char *
support_rule_name(support_rule r)
{
	switch (r) {
	case SUPPORT_MINMAX: return "minmax";
	case SUPPORT_CRUMP: return "crump";
	case SUPPORT_FIXED: return "fixed";
	case SUPPORT_NONE: break;
	}
	return "none";
}

int
ipw_support_band(support_rule rule, const double fixed[2], const uint8_t *t,
    const double *ps, const double *count, size_t n, double band[2])
{
	double lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };

	band[0] = 0, band[1] = 1;
	switch (rule) {
	case SUPPORT_NONE:
		return 0;
	case SUPPORT_FIXED:
		band[0] = fixed[0], band[1] = fixed[1];
		return 0;
	case SUPPORT_CRUMP: {
		double alpha = ipw_crump_alpha(ps, count, n);

		band[0] = alpha, band[1] = 1 - alpha;
		return 0;
	}
	case SUPPORT_MINMAX:
		for (size_t i = 0; i < n; i++) {
			if (count && !(count[i] > 0))
				continue;
			lo[t[i]] = fmin(lo[t[i]], ps[i]);
			hi[t[i]] = fmax(hi[t[i]], ps[i]);
		}
		if (!(lo[0] <= hi[0] && lo[1] <= hi[1]))
			return -1;
		band[0] = fmax(lo[0], lo[1]);
		band[1] = fmin(hi[0], hi[1]);
		return 0;
	}
	return 0;
}
