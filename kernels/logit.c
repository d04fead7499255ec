#include "logit.h"
#include "hashbits.h"
#include "keyed.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "lanes.h"

void
logit_opts_default(logit_opts *o)
{
	o->C = 0;
	o->max_iter = 100;
	o->tol = 1e-10;
	o->start = NULL;
	o->start_mu = NULL;
	o->start_hessian = NULL;
	o->plain_newton = 0;
	o->threads = 1;
}

void
logit_fit_free(logit_fit *fit)
{
	free(fit->beta);
	free(fit->se);
	memset(fit, 0, sizeof *fit);
}

int
cholesky_solve(double *A, double *b, int p, double *inverse)
{
	/* A = L L^T, L in the lower triangle of A */
	for (int j = 0; j < p; j++) {
		double d = A[j * p + j];

		for (int k = 0; k < j; k++)
			d -= A[j * p + k] * A[j * p + k];
		if (!(d > 1e-300))
			return -1;
		d = sqrt(d);
		A[j * p + j] = d;
		for (int i = j + 1; i < p; i++) {
			double s = A[i * p + j];

			for (int k = 0; k < j; k++)
				s -= A[i * p + k] * A[j * p + k];
			A[i * p + j] = s / d;
		}
	}
	if (b) {
		for (int i = 0; i < p; i++) { /* L z = b */
			for (int k = 0; k < i; k++)
				b[i] -= A[i * p + k] * b[k];
			b[i] /= A[i * p + i];
		}
		for (int i = p - 1; i >= 0; i--) { /* L^T x = z */
			for (int k = i + 1; k < p; k++)
				b[i] -= A[k * p + i] * b[k];
			b[i] /= A[i * p + i];
		}
	}
	if (inverse) {
		double *e = xmalloc((size_t)p * sizeof *e);

		for (int c = 0; c < p; c++) {
			for (int i = 0; i < p; i++)
				e[i] = i == c;
			for (int i = 0; i < p; i++) {
				for (int k = 0; k < i; k++)
					e[i] -= A[i * p + k] * e[k];
				e[i] /= A[i * p + i];
			}
			for (int i = p - 1; i >= 0; i--) {
				for (int k = i + 1; k < p; k++)
					e[i] -= A[k * p + i] * e[k];
				e[i] /= A[i * p + i];
			}
			for (int i = 0; i < p; i++)
				inverse[i * p + c] = e[i];
		}
		free(e);
	}
	return 0;
}

/* e^x without branches: x = k ln 2 + r with |r| <= ln(2)/2 (ln 2 in two
 * parts, Cody and Waite), e^r by its Taylor series to r^13 (truncation
 * below 5e-18), 2^k through the exponent bits. Within 1 ulp of libm on
 * [-708, 709]; 0 below, and the value at 709 above (the callers only pass
 * -|eta|). */
static inline double
exp_lane(double x)
{
	const double shift = 0x1.8p52; /* x/ln2 + shift rounds to an integer */
	double xc = x < -708.0 ? -708.0 : x > 709.0 ? 709.0 : x;
	double t = xc * 0x1.71547652b82fep0 + shift;
	double k = t - shift;
	double r = (xc - k * 0x1.62e42fefa3800p-1) - k * 0x1.ef35793c76730p-45;
	double poly = 1.0 / 6227020800.0;
	uint64_t bits;
	double scale;

	poly = poly * r + 1.0 / 479001600.0;
	poly = poly * r + 1.0 / 39916800.0;
	poly = poly * r + 1.0 / 3628800.0;
	poly = poly * r + 1.0 / 362880.0;
	poly = poly * r + 1.0 / 40320.0;
	poly = poly * r + 1.0 / 5040.0;
	poly = poly * r + 1.0 / 720.0;
	poly = poly * r + 1.0 / 120.0;
	poly = poly * r + 1.0 / 24.0;
	poly = poly * r + 1.0 / 6.0;
	poly = poly * r + 0.5;
	poly = poly * r + 1.0;
	poly = poly * r + 1.0;
	/* the low bits of t hold k + 2^51 (+ 2^52 in the exponent) */
	memcpy(&bits, &t, sizeof bits);
	bits = (bits - 0x4338000000000000ULL + 1023) << 52;
	memcpy(&scale, &bits, sizeof scale);
	return x < -708.0 ? 0.0 : poly * scale;
}

/* log(1 + a) for a in [0, 1] without branches: 2 atanh(s), s = a / (2 + a)
 * <= 1/3, by its series to s^35 (truncation below 1e-17). */
static inline double
log1p_lane(double a)
{
	double s = a / (2.0 + a), s2 = s * s, sum = 1.0 / 35;

	/* written out: a loop here keeps GCC from vectorising the callers' lanes */
	sum = sum * s2 + 1.0 / 33;
	sum = sum * s2 + 1.0 / 31;
	sum = sum * s2 + 1.0 / 29;
	sum = sum * s2 + 1.0 / 27;
	sum = sum * s2 + 1.0 / 25;
	sum = sum * s2 + 1.0 / 23;
	sum = sum * s2 + 1.0 / 21;
	sum = sum * s2 + 1.0 / 19;
	sum = sum * s2 + 1.0 / 17;
	sum = sum * s2 + 1.0 / 15;
	sum = sum * s2 + 1.0 / 13;
	sum = sum * s2 + 1.0 / 11;
	sum = sum * s2 + 1.0 / 9;
	sum = sum * s2 + 1.0 / 7;
	sum = sum * s2 + 1.0 / 5;
	sum = sum * s2 + 1.0 / 3;
	sum = sum * s2 + 1.0;
	return 2 * s * sum;
}

/* p = 1/(1 + e^-eta) and p(1-p), from a = e^-|eta| so neither side loses
 * precision. */
static inline void
logistic_lane(double eta, double *p, double *w)
{
	double a = exp_lane(-fabs(eta)), q = 1.0 / (1.0 + a);

	*p = eta >= 0 ? q : a * q;
	*w = a * q * q;
}

typedef struct {
	const logit_data *d;
	const double *beta;
	const double *mu_in; /* mu_given: the probabilities at beta, read */
	double *mu_out;      /* the probabilities at beta written here, or NULL */
	int mu_given;
	int want_ll;
	int gradient_only; /* the gradient sums alone: the Hessian's are left 0 */
	int slots;      /* p gradient sums, the Hessian's lower triangle, then
			   the log-likelihood */
	double *lanes;  /* [slots][LANES] for models too big for the stack */
	double *totals; /* out: [slots], the lanes added up */
	double *chunk_totals; /* [chunks][slots], for more rows than CHUNK_ROWS */
	int threads;
	int failed;     /* out: d->rows failed in the last pass */
} pass_state;

/* Where a pass reads x_k of row i: at X[k * stride + i - first]. The data's
 * n x p matrix (stride n, first 0), or a block of rows built by d->rows. */
typedef struct {
	const double *X;
	size_t stride, first;
} rows_view;

static ALWAYS_INLINE const double *
view_column(const rows_view *v, int k, size_t i0)
{
	return v->X + (size_t)k * v->stride + (i0 - v->first);
}

/* the sums of a pass for a model of p columns */
#define SLOTS(p) ((p) + (p) * ((p) + 1) / 2 + 1)

static inline int
tri(int a, int b) /* slot of H[a][b], b <= a, after the p gradient slots */
{
	return a * (a + 1) / 2 + b;
}

/* exp's series is a chain of dependent steps, one block's rows a vector:
 * so the logistic part of a pass takes WIDE rows at once, several chains
 * in flight, and their sums are then added a block of LANES rows at a
 * time as before (each row's numbers and every sum's order unchanged). */
enum { BLOCKS_AT_ONCE = 4 };
#define WIDE (LANES * BLOCKS_AT_ONCE)

/* Rows [i0, i0 + rows) of a pass, rows <= WIDE: residuals r and weights w
 * (units times p(1-p)), the probabilities to s->mu_out, and the
 * log-likelihood into the lanes ll (row i0 + j in lane j % LANES, the
 * blocks in order). */
static ALWAYS_INLINE void
pass_logistic(const pass_state *s, const rows_view *v, double *ll, int p, size_t i0,
    int rows, double *r, double *w)
{
	const logit_data *d = s->d;
	double eta[WIDE], mu[WIDE], m[WIDE], succ[WIDE];

	logit_units(d, i0, rows, m, succ);
	for (int j = 0; j < rows; j++)
		eta[j] = s->beta[0];
	for (int k = 1; k < p; k++) {
		const double *xk = view_column(v, k, i0);

		for (int j = 0; j < rows; j++)
			eta[j] += s->beta[k] * xk[j];
	}
	if (s->mu_given)
		for (int j = 0; j < rows; j++) {
			mu[j] = s->mu_in[i0 + j];
			w[j] = mu[j] * (1 - mu[j]);
		}
	else
		for (int j = 0; j < rows; j++)
			logistic_lane(eta[j], &mu[j], &w[j]);
	if (s->mu_out)
		for (int j = 0; j < rows; j++)
			s->mu_out[i0 + j] = mu[j];
	if (s->want_ll) {
		double term[WIDE];

		for (int j = 0; j < rows; j++) {
			double a = exp_lane(-fabs(eta[j]));

			term[j] = succ[j] * eta[j] -
			    m[j] * ((eta[j] > 0 ? eta[j] : 0) + log1p_lane(a));
		}
		for (int b = 0; b * LANES < rows; b++)
			for (int j = 0; j < LANES && b * LANES + j < rows; j++)
				ll[j] += term[b * LANES + j];
	}
	for (int j = 0; j < rows; j++) {
		r[j] = succ[j] - m[j] * mu[j];
		w[j] *= m[j];
	}
}

/* The gradient and (when hessian) Hessian sums of rows [i0, i0 + lanes)
 * into lanes 0..lanes-1, from their residuals r and weights w. Inlined
 * with lanes = LANES for the vector body and with the remainder for the
 * tail, and with p and hessian constants where p is small (see
 * pass_rows). */
static ALWAYS_INLINE void
pass_sums(const rows_view *v, double (*acc)[LANES], int p, size_t i0, int lanes,
    const double *r, const double *w, int hessian)
{
	double (*g)[LANES] = acc, (*h)[LANES] = acc + p;

	/* column 0 is the intercept, 1 in every row: not read (a product
	 * with 1 is exact, so the sums are those of reading it) */
	for (int j = 0; j < lanes; j++)
		g[0][j] += r[j];
	if (!hessian) {
		for (int a = 1; a < p; a++) {
			const double *xa = view_column(v, a, i0);

			for (int j = 0; j < lanes; j++)
				g[a][j] += r[j] * xa[j];
		}
		return;
	}
	for (int j = 0; j < lanes; j++)
		h[0][j] += w[j];
	for (int a = 1; a < p; a++) {
		const double *xa = view_column(v, a, i0);
		double wa[LANES];

		for (int j = 0; j < lanes; j++) {
			g[a][j] += r[j] * xa[j];
			wa[j] = w[j] * xa[j];
		}
		for (int j = 0; j < lanes; j++)
			h[tri(a, 0)][j] += wa[j];
		for (int b = 1; b <= a; b++) {
			const double *xb = view_column(v, b, i0);
			double *hab = h[tri(a, b)];

			for (int j = 0; j < lanes; j++)
				hab[j] += wa[j] * xb[j];
		}
	}
}

/* Rows [i0, i0 + rows) of a pass, rows <= WIDE: inlined with rows = WIDE
 * for the body and with the remainder for the tail. */
static ALWAYS_INLINE void
pass_wide(const pass_state *s, const rows_view *v, double (*acc)[LANES], int p, size_t i0,
    int rows, int hessian)
{
	double r[WIDE], w[WIDE];
	int b = 0;

	pass_logistic(s, v, acc[p + p * (p + 1) / 2], p, i0, rows, r, w);
	for (; (b + 1) * LANES <= rows; b++)
		pass_sums(v, acc, p, i0 + (size_t)b * LANES, LANES, r + b * LANES,
		    w + b * LANES, hessian);
	if (b * LANES < rows)
		pass_sums(v, acc, p, i0 + (size_t)b * LANES, rows - b * LANES, r + b * LANES,
		    w + b * LANES, hessian);
}

/* Rows [from, to) of view v into acc, WIDE at a time */
static ALWAYS_INLINE void
pass_span(const pass_state *s, const rows_view *v, double (*acc)[LANES], int p, size_t from,
    size_t to, int hessian)
{
	size_t i0 = from;

	for (; i0 + WIDE <= to; i0 += WIDE)
		pass_wide(s, v, acc, p, i0, WIDE, hessian);
	if (i0 < to)
		pass_wide(s, v, acc, p, i0, (int)(to - i0), hessian);
}

/* Rows [from, to) into acc ([slots][LANES], zeroed here), then the lanes
 * added up into totals in lane order: the same bits on every vector width.
 * Rows built by d->rows come a block at a time, each block a multiple of
 * WIDE rows but the last, so their sums are those of reading X. Returns 0,
 * or -1 when d->rows failed. */
static ALWAYS_INLINE int
pass_all(const pass_state *s, double (*acc)[LANES], int p, size_t from, size_t to,
    double *totals, int hessian)
{
	int slots = SLOTS(p), rc = 0;

	_Static_assert(LOGIT_BLOCK_ROWS % WIDE == 0, "a block is whole groups of WIDE rows");
	memset(acc, 0, (size_t)slots * sizeof acc[0]);
	{
		/* X as one span, or the blocks: one loop, so that the pass's body
		 * is inlined once (twice doubled the kernel's code) */
		double *block = s->d->X ? NULL :
		    xreallocarray(NULL, LOGIT_BLOCK_ROWS, (size_t)p * sizeof *block);
		size_t step = block ? LOGIT_BLOCK_ROWS : to - from;

		for (size_t b = from; b < to && rc == 0; b += step) {
			size_t count = to - b < step ? to - b : step;
			rows_view v = block ? (rows_view){ block, count, b } :
			    (rows_view){ s->d->X, s->d->n, 0 };

			if (block)
				rc = s->d->rows(s->d->rows_ctx, b, count, block);
			if (rc == 0)
				pass_span(s, &v, acc, p, b, b + count, hessian);
		}
		free(block);
	}
	for (int k = 0; k < slots; k++) {
		totals[k] = 0;
		for (int j = 0; j < LANES; j++)
			totals[k] += acc[k][j];
	}
	return rc != 0 ? -1 : 0;
}

/* The sums must stay in registers, which the compiler allows only when
 * they are this function's own array (no store to mu can touch them) and
 * their number is a constant: so models of up to SMALL_P columns (most
 * propensity models) get a function each, with p fixed, 2.5 times as fast
 * as one loop over any p, and one more without the Hessian's sums
 * (gradient_rows_P). Larger models share one, and beyond STACK_SLOTS sum in
 * s->lanes. Every version adds the same numbers in the same order. */
#define SMALL_P 10
#define STACK_SLOTS SLOTS(24)

#define PASS_ROWS_FOR(P) \
	VECTOR_CLONES static int \
	pass_rows_##P(const pass_state *s, size_t from, size_t to, double *totals) \
	{ \
		double acc[SLOTS(P)][LANES]; \
		return pass_all(s, acc, P, from, to, totals, 1); \
	} \
	VECTOR_CLONES static int \
	gradient_rows_##P(const pass_state *s, size_t from, size_t to, double *totals) \
	{ \
		double acc[SLOTS(P)][LANES]; \
		return pass_all(s, acc, P, from, to, totals, 0); \
	}
PASS_ROWS_FOR(1)
PASS_ROWS_FOR(2)
PASS_ROWS_FOR(3)
PASS_ROWS_FOR(4)
PASS_ROWS_FOR(5)
PASS_ROWS_FOR(6)
PASS_ROWS_FOR(7)
PASS_ROWS_FOR(8)
PASS_ROWS_FOR(9)
PASS_ROWS_FOR(10)

VECTOR_CLONES static int
pass_rows_any(const pass_state *s, size_t from, size_t to, double *totals)
{
	double stack[STACK_SLOTS][LANES];

	if (s->slots <= STACK_SLOTS)
		return pass_all(s, stack, s->d->p, from, to, totals, !s->gradient_only);
	return pass_all(s, (double (*)[LANES])s->lanes, s->d->p, from, to, totals,
	    !s->gradient_only);
}

/* 0, or -1 when d->rows failed */
static int
pass_range(const pass_state *s, size_t from, size_t to, double *totals)
{
	static int (*const small[SMALL_P + 1])(const pass_state *, size_t, size_t,
	    double *) = { NULL, pass_rows_1, pass_rows_2, pass_rows_3, pass_rows_4,
		pass_rows_5, pass_rows_6, pass_rows_7, pass_rows_8, pass_rows_9, pass_rows_10 };
	static int (*const gradient[SMALL_P + 1])(const pass_state *, size_t, size_t,
	    double *) = { NULL, gradient_rows_1, gradient_rows_2, gradient_rows_3,
		gradient_rows_4, gradient_rows_5, gradient_rows_6, gradient_rows_7,
		gradient_rows_8, gradient_rows_9, gradient_rows_10 };

	if (s->d->p <= SMALL_P)
		return (s->gradient_only ? gradient : small)[s->d->p](s, from, to, totals);
	return pass_rows_any(s, from, to, totals);
}

/* Rows past CHUNK_ROWS are summed a chunk of that many at a time, each
 * chunk's sums its own, then the chunks' added up in their order: the
 * same numbers in the same order whichever thread summed a chunk, so the
 * threads (s->threads, each taking every threads-th chunk) change no bit.
 * Up to CHUNK_ROWS rows are one chunk, summed as they always were. */
#define CHUNK_ROWS ((size_t)1 << 20)

typedef struct {
	const pass_state *s;
	size_t first, step;
	int failed; /* out: d->rows failed on one of its chunks */
} chunk_share;

static size_t
chunk_count(size_t n)
{
	return n <= CHUNK_ROWS ? 1 : (n + CHUNK_ROWS - 1) / CHUNK_ROWS;
}

static void *
pass_chunks(void *arg)
{
	chunk_share *c = arg;
	const pass_state *s = c->s;
	size_t n = s->d->n;

	for (size_t k = c->first; k < chunk_count(n) && !c->failed; k += c->step)
		c->failed = pass_range(s, k * CHUNK_ROWS, n - k * CHUNK_ROWS < CHUNK_ROWS ? n :
		    (k + 1) * CHUNK_ROWS, s->chunk_totals + k * (size_t)s->slots) != 0;
	return NULL;
}

/* The pass's sums into s->totals; s->failed when d->rows failed */
static void
pass_rows(pass_state *s)
{
	size_t chunks = chunk_count(s->d->n), slots = (size_t)s->slots;
	int threads = s->threads < 1 ? 1 : s->threads;
	enum { MAX_THREADS = 16 };
	pthread_t tid[MAX_THREADS];
	chunk_share share[MAX_THREADS];
	int started = 0;

	s->failed = 0;
	if (chunks == 1) {
		s->failed = pass_range(s, 0, s->d->n, s->totals) != 0;
		return;
	}
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	if ((size_t)threads > chunks)
		threads = (int)chunks;
	if (s->slots > STACK_SLOTS) /* their sums are in s->lanes: one array */
		threads = 1;
	for (int t = 0; t < threads; t++)
		share[t] = (chunk_share){ s, (size_t)t, (size_t)threads, 0 };
	/* a thread that cannot be made leaves its chunks to this one */
	for (int t = 1; t < threads; t++) {
		if (pthread_create(&tid[t], NULL, pass_chunks, &share[t]) != 0)
			break;
		started = t;
	}
	for (int t = started + 1; t < threads; t++)
		pass_chunks(&share[t]);
	pass_chunks(&share[0]);
	for (int t = 1; t <= started; t++)
		pthread_join(tid[t], NULL);
	for (int t = 0; t < threads; t++)
		s->failed |= share[t].failed;
	for (size_t k = 0; k < slots; k++) {
		s->totals[k] = s->chunk_totals[k];
		for (size_t c = 1; c < chunks; c++)
			s->totals[k] += s->chunk_totals[c * slots + k];
	}
}

/* One pass over the rows at beta: the gradient g and lower triangle of the
 * Hessian H of the log-likelihood (no penalty; H NULL: the gradient alone,
 * a cheaper pass), the fitted probabilities (into s->mu_out when set; read
 * from s->mu_in when mu_given), and the log-likelihood when want_ll (else
 * 0). s holds the fit's data and workspace; s->failed when d->rows failed
 * (the sums are then not the rows'). */
static double
newton_pass(pass_state *s, const double *beta, int mu_given, double *g, double *H)
{
	int p = s->d->p;

	s->beta = beta;
	s->mu_given = mu_given;
	s->gradient_only = H == NULL;
	pass_rows(s);
	if (H == NULL) {
		for (int a = 0; a < p; a++)
			g[a] = s->totals[a];
		return s->totals[s->slots - 1];
	}
	memset(H, 0, (size_t)p * (size_t)p * sizeof *H);
	for (int a = 0; a < p; a++) {
		g[a] = s->totals[a];
		for (int b = 0; b <= a; b++)
			H[a * p + b] = s->totals[p + tri(a, b)];
	}
	return s->totals[s->slots - 1];
}

static double
penalty(const double *beta, int p, double lambda)
{
	double pen = 0;

	for (int k = 1; k < p; k++)
		pen += beta[k] * beta[k];
	return 0.5 * lambda * pen;
}

/* A pass's workspace for d (its sums' room), summing on up to threads
 * threads; the caller sets what to read and write. */
static pass_state
pass_state_new(const logit_data *d, int threads)
{
	int slots = SLOTS(d->p);

	return (pass_state){ .d = d, .slots = slots, .threads = threads,
		.lanes = slots > STACK_SLOTS ? xcalloc((size_t)slots * LANES, sizeof(double)) : NULL,
		.totals = xcalloc((size_t)slots, sizeof(double)),
		.chunk_totals = chunk_count(d->n) > 1 ?
		    xcalloc(chunk_count(d->n) * (size_t)slots, sizeof(double)) : NULL };
}

static void
pass_state_free(pass_state *s)
{
	free(s->lanes), free(s->totals), free(s->chunk_totals);
}

/* The penalised gradient and (H not NULL) full Hessian from a pass's
 * results. */
static void
penalise(double *g, double *H, const double *beta, int p, double lambda)
{
	for (int a = 1; a < p; a++)
		g[a] -= lambda * beta[a];
	if (H == NULL)
		return;
	for (int a = 1; a < p; a++)
		H[a * p + a] += lambda;
	for (int a = 0; a < p; a++)
		for (int b = a + 1; b < p; b++)
			H[a * p + b] = H[b * p + a];
}

/* How far under tol the next step must be predicted for a plain Newton
 * fit to stop without the pass that would show it (see below): the
 * prediction is an estimate, and two orders of magnitude cover its
 * constant's drift between steps. */
#define QUADRATIC_MARGIN 100.0
/* A plain fit's pass after a step under this (relative to the
 * coefficients) keeps the Hessian it has (see below). */
#define CHORD_STEP 1e-4

/* Is the step after one of size step (relative, as in the fit), whose
 * last was last, predicted below limit? Near the optimum Newton's steps
 * shrink quadratically, step_{k+1} ~ K step_k^2, with K = step_k /
 * step_{k-1}^2 read off the last two. A chord step (the first after the
 * Hessian's own pass, chords == 1) leaves an error of the Hessian's change
 * times itself, and that change, like the gradient left after a Newton
 * step, is the third derivative's along that step: the two give the
 * change's size relative to the Hessian as about 2 step / last, so the
 * next step is about 2 step^2 / last (which is the larger of the two). */
static int
next_step_below(double step, double last, int chords, double limit)
{
	if (chords == 0)
		return step * step * step < limit * last * last;
	return 2 * step * step < limit * last;
}

/* Rows [i0, i0 + rows) of view v, rows <= WIDE (several of exp's chains
 * at once, as in a pass). */
static ALWAYS_INLINE void
predict_block(const rows_view *v, int p, const double *beta, double *ps, size_t i0,
    int rows)
{
	double eta[WIDE], w[WIDE];

	for (int j = 0; j < rows; j++)
		eta[j] = beta[0];
	for (int k = 1; k < p; k++) {
		const double *xk = view_column(v, k, i0);

		for (int j = 0; j < rows; j++)
			eta[j] += beta[k] * xk[j];
	}
	for (int j = 0; j < rows; j++)
		logistic_lane(eta[j], &ps[i0 + j], &w[j]);
}

VECTOR_CLONES static void
predict_span(const rows_view *v, int p, const double *beta, double *ps, size_t from,
    size_t to)
{
	size_t i0 = from;

	for (; i0 + WIDE <= to; i0 += WIDE)
		predict_block(v, p, beta, ps, i0, WIDE);
	if (i0 < to)
		predict_block(v, p, beta, ps, i0, (int)(to - i0));
}

/* logit_predict() of d's rows, from X or built a block at a time; 0, or -1
 * when d->rows failed */
static int
predict_rows(const logit_data *d, const double *beta, double *ps)
{
	double *block;
	int rc = 0;

	if (d->X) {
		logit_predict(d->X, d->n, d->p, beta, ps);
		return 0;
	}
	block = xreallocarray(NULL, LOGIT_BLOCK_ROWS, (size_t)d->p * sizeof *block);
	for (size_t b = 0; b < d->n && rc == 0; b += LOGIT_BLOCK_ROWS) {
		size_t count = d->n - b < LOGIT_BLOCK_ROWS ? d->n - b : LOGIT_BLOCK_ROWS;
		rows_view v = { block, count, b };

		rc = d->rows(d->rows_ctx, b, count, block);
		if (rc == 0)
			predict_span(&v, d->p, beta, ps, b, b + count);
	}
	free(block);
	return rc != 0 ? -1 : 0;
}

logit_status
logit_fit_newton(const logit_data *d, const logit_opts *o, logit_fit *fit, double *mu)
{
	int p = d->p, want_ll = !o->plain_newton;
	double lambda = o->C > 0 ? 1.0 / o->C : 0;
	size_t pp = (size_t)p * (size_t)p;
	double *H = xcalloc(pp, sizeof *H), *g = xcalloc((size_t)p, sizeof *g);
	double *Ht = xcalloc(pp, sizeof *Ht), *gt = xcalloc((size_t)p, sizeof *gt);
	double *step = xcalloc((size_t)p, sizeof *step);
	double *trial = xcalloc((size_t)p, sizeof *trial);
	double ll, obj;
	int mu_given = o->start && o->start_mu && o->plain_newton, mu_at_beta, keep_hessian;
	int chords = 0; /* gradient-only passes since the Hessian's own */
	pass_state ps = pass_state_new(d, o->threads);
	logit_status status = LOGIT_NOT_CONVERGED;

	ps.mu_in = o->start_mu;
	ps.want_ll = want_ll;
	memset(fit, 0, sizeof *fit);
	fit->p = p;
	fit->beta = xcalloc((size_t)p, sizeof *fit->beta);
	fit->se = xcalloc((size_t)p, sizeof *fit->se);
	if (o->start)
		memcpy(fit->beta, o->start, (size_t)p * sizeof *fit->beta);
	/* given probabilities are read where they are, not copied */
	ps.mu_out = mu_given ? NULL : mu;
	mu_at_beta = !mu_given;
	if (mu_given && o->start_hessian) {
		/* a chord step from the given Hessian, which is not this data's:
		 * no step is predicted from it (chords past 1), and the next pass
		 * sums its own (the step is over CHORD_STEP) */
		ll = newton_pass(&ps, fit->beta, 1, g, NULL);
		memcpy(H, o->start_hessian, pp * sizeof *H);
		chords = 2;
	} else
		ll = newton_pass(&ps, fit->beta, mu_given, g, H);
	obj = ll - penalty(fit->beta, p, lambda);
	penalise(g, H, fit->beta, p, lambda);
	for (double last_step = INFINITY;;) {
		double scale = 1, step_max = 0, ll_t = ll, obj_t = obj;
		double *swap;

		if (ps.failed) { /* the last pass's sums are not the rows' */
			status = LOGIT_ROWS_FAILED;
			break;
		}

		memcpy(Ht, H, pp * sizeof *Ht);
		memcpy(step, g, (size_t)p * sizeof *step);
		if (cholesky_solve(Ht, step, p, NULL) != 0) {
			status = LOGIT_SINGULAR;
			break;
		}
		/* relative to the coefficient: a covariate in small units has a
		 * large one, whose last bits no step below 1e-10 can reach */
		for (int k = 0; k < p; k++)
			step_max = fmax(step_max, fabs(step[k]) / fmax(1, fabs(fit->beta[k])));
		if (step_max < o->tol) {
			status = LOGIT_OK;
			break;
		}
		if (fit->iterations >= o->max_iter)
			break;
		fit->iterations++;
		if (o->plain_newton && last_step < 1e-3 && chords <= 1 &&
		    next_step_below(step_max, last_step, chords, o->tol / QUADRATIC_MARGIN)) {
			/* The step after this one would be under tol /
			 * QUADRATIC_MARGIN (next_step_below), so the pass that
			 * would only show it is skipped. The coefficients are
			 * those that pass would have stopped at, and the
			 * probabilities are made as a pass makes them; only the
			 * Hessian (for the standard errors) is an earlier one. */
			for (int k = 0; k < p; k++)
				fit->beta[k] += step[k];
			mu_at_beta = 0;
			status = LOGIT_OK;
			break;
		}
		last_step = step_max;
		/* Step halving keeps every step an ascent; the pass at the
		 * accepted point gives the next step's gradient and Hessian, and
		 * its probabilities in mu. But writing them is a fifth of a
		 * pass's memory, and a warm start's pass after a step of over
		 * 1e-3 is never its last (the next step is about the square of
		 * this one, far above tol): it writes none; were it the last
		 * after all, they are made at the end. */
		ps.mu_out = !o->plain_newton || step_max < 1e-3 ? mu : NULL;
		/* And after a step under CHORD_STEP the Hessian has moved by
		 * about as little: a plain fit keeps it and sums the gradient
		 * alone (a chord step: the next step is off by that fraction of
		 * itself, far under tol, and the pass costs about half) */
		keep_hessian = o->plain_newton && step_max < CHORD_STEP;
		chords = keep_hessian ? chords + 1 : 0;
		for (int half = 0; half < 30; half++) {
			for (int k = 0; k < p; k++)
				trial[k] = fit->beta[k] + scale * step[k];
			ll_t = newton_pass(&ps, trial, 0, gt, keep_hessian ? NULL : Ht);
			obj_t = ll_t - penalty(trial, p, lambda);
			if (ps.failed || o->plain_newton || obj_t >= obj - 1e-12 * fabs(obj))
				break;
			scale /= 2;
		}
		swap = fit->beta, fit->beta = trial, trial = swap;
		swap = g, g = gt, gt = swap;
		if (!keep_hessian)
			swap = H, H = Ht, Ht = swap;
		ll = ll_t;
		obj = obj_t;
		mu_at_beta = ps.mu_out != NULL;
		penalise(g, keep_hessian ? NULL : H, fit->beta, p, lambda);
	}
	if (status == LOGIT_OK && !mu_at_beta) {
		if (fit->iterations == 0)
			memcpy(mu, o->start_mu, d->n * sizeof *mu);
		else if (predict_rows(d, fit->beta, mu) != 0) /* as a pass makes them */
			status = LOGIT_ROWS_FAILED;
	}
	fit->converged = status == LOGIT_OK;
	fit->loglik = o->plain_newton ? NAN : ll;
	if (status != LOGIT_SINGULAR && status != LOGIT_ROWS_FAILED) {
		/* standard errors from the (penalised) Hessian at beta, or a
		 * plain fit's last one (see logit.h) */
		double *inv = xcalloc(pp, sizeof *inv);

		memcpy(Ht, H, pp * sizeof *Ht);
		if (cholesky_solve(Ht, NULL, p, inv) == 0)
			for (int k = 0; k < p; k++)
				fit->se[k] = sqrt(inv[k * p + k]);
		else
			for (int k = 0; k < p; k++)
				fit->se[k] = NAN;
		free(inv);
	}
	free(H);
	free(g);
	free(Ht);
	free(gt);
	free(step);
	free(trial);
	pass_state_free(&ps);
	return status;
}

int
logit_hessian(const logit_data *d, const double *mu, double *H)
{
	int p = d->p;
	double *g = xcalloc((size_t)p, sizeof *g), *beta = xcalloc((size_t)p, sizeof *beta);
	pass_state ps = pass_state_new(d, 1);
	int failed;

	ps.mu_in = mu;
	/* with the probabilities given, beta only makes the unused eta */
	newton_pass(&ps, beta, 1, g, H);
	failed = ps.failed;
	penalise(g, H, beta, p, 0);
	free(g), free(beta);
	pass_state_free(&ps);
	return failed ? -1 : 0;
}

void
logit_predict(const double *X, size_t n, int p, const double *beta, double *ps)
{
	rows_view v = { X, n, 0 };

	predict_span(&v, p, beta, ps, 0, n);
}

double
auc(const double *score, const uint8_t *y, size_t n)
{
	/* the treated's scores from the front, the controls' from the back, as
	 * order bits (equal bits are equal scores) */
	uint64_t *bits = xreallocarray(NULL, n + 1, sizeof *bits), *treated, *controls;
	size_t n1 = 0, n0 = 0, below = 0;
	uint64_t twice_u = 0; /* 2 U: exact, where a double sum of ranks stops at 2^53 */

	for (size_t i = 0; i < n; i++) {
		if (y[i])
			bits[n1++] = order_bits(score[i]);
		else
			bits[n - ++n0] = order_bits(score[i]);
	}
	treated = bits, controls = bits + n1;
	/* Mann-Whitney U: each treated unit beats the controls below it and
	 * ties the equal ones (one half each), a run of equal treated scores at
	 * a time. Each group sorted on its own by a radix sort of 8-byte keys:
	 * scores are nearly all distinct on continuous covariates, where a
	 * hash of the distinct values took a fifth of a fitps */
	bits_sort(treated, n1);
	bits_sort(controls, n0);
	for (size_t i = 0; i < n1;) {
		size_t run = 1, tied = 0;

		while (i + run < n1 && treated[i + run] == treated[i])
			run++;
		while (below < n0 && controls[below] < treated[i])
			below++;
		while (below + tied < n0 && controls[below + tied] == treated[i])
			tied++;
		twice_u += (uint64_t)run * (2 * (uint64_t)below + tied);
		i += run;
	}
	free(bits);
	if (n1 == 0 || n0 == 0)
		return NAN;
	return 0.5 * (double)twice_u / ((double)n1 * (double)n0);
}
