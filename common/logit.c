#include "logit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keyed.h"

void
logit_opts_default(logit_opts *o)
{
	o->C = 0;
	o->max_iter = 100;
	o->tol = 1e-10;
	o->start = NULL;
	o->plain_newton = 0;
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

/* One pass over the rows at beta: the log-likelihood, and the gradient g
 * and lower triangle of the Hessian H of the log-likelihood (no penalty).
 * One exp and one log1p per row. */
static double
newton_pass(const double *X, const uint8_t *y, size_t n, int p, const double *beta,
    double *g, double *H, int want_ll)
{
	double ll = 0;

	memset(g, 0, (size_t)p * sizeof *g);
	memset(H, 0, (size_t)p * (size_t)p * sizeof *H);
	for (size_t i = 0; i < n; i++) {
		const double *x = X + i * (size_t)p;
		double eta = 0, e, pi, log1pexp, w, r;

		for (int k = 0; k < p; k++)
			eta += x[k] * beta[k];
		/* pi = 1/(1 + e^-eta); log(1 + e^eta), stable either side of 0 */
		if (eta >= 0) {
			e = exp(-eta);
			pi = 1 / (1 + e);
			log1pexp = want_ll ? eta + log1p(e) : 0;
		} else {
			e = exp(eta);
			pi = e / (1 + e);
			log1pexp = want_ll ? log1p(e) : 0;
		}
		ll += (y[i] ? eta : 0) - log1pexp;
		w = pi * (1 - pi);
		r = y[i] - pi;
		for (int a = 0; a < p; a++) {
			double wa = w * x[a];

			g[a] += r * x[a];
			for (int b = 0; b <= a; b++)
				H[a * p + b] += wa * x[b];
		}
	}
	return ll;
}

static double
penalty(const double *beta, int p, double lambda)
{
	double pen = 0;

	for (int k = 1; k < p; k++)
		pen += beta[k] * beta[k];
	return 0.5 * lambda * pen;
}

/* The penalised gradient and full Hessian from a pass's results. */
static void
penalise(double *g, double *H, const double *beta, int p, double lambda)
{
	for (int a = 1; a < p; a++) {
		g[a] -= lambda * beta[a];
		H[a * p + a] += lambda;
	}
	for (int a = 0; a < p; a++)
		for (int b = a + 1; b < p; b++)
			H[a * p + b] = H[b * p + a];
}

logit_status
logit_fit_newton(const double *X, const uint8_t *y, size_t n, int p,
    const logit_opts *o, logit_fit *fit)
{
	double lambda = o->C > 0 ? 1.0 / o->C : 0;
	size_t pp = (size_t)p * (size_t)p;
	double *H = xcalloc(pp, sizeof *H), *g = xcalloc((size_t)p, sizeof *g);
	double *Ht = xcalloc(pp, sizeof *Ht), *gt = xcalloc((size_t)p, sizeof *gt);
	double *step = xcalloc((size_t)p, sizeof *step);
	double *trial = xcalloc((size_t)p, sizeof *trial);
	double ll, obj;
	logit_status status = LOGIT_NOT_CONVERGED;

	memset(fit, 0, sizeof *fit);
	fit->p = p;
	fit->beta = xcalloc((size_t)p, sizeof *fit->beta);
	fit->se = xcalloc((size_t)p, sizeof *fit->se);
	if (o->start)
		memcpy(fit->beta, o->start, (size_t)p * sizeof *fit->beta);
	ll = newton_pass(X, y, n, p, fit->beta, g, H, !o->plain_newton);
	obj = ll - penalty(fit->beta, p, lambda);
	penalise(g, H, fit->beta, p, lambda);
	while (fit->iterations < o->max_iter) {
		double scale = 1, step_max = 0, ll_t = ll, obj_t = obj;
		double *swap;

		memcpy(Ht, H, pp * sizeof *Ht);
		memcpy(step, g, (size_t)p * sizeof *step);
		if (cholesky_solve(Ht, step, p, NULL) != 0) {
			status = LOGIT_SINGULAR;
			break;
		}
		fit->iterations++;
		/* step halving keeps every step an ascent; the pass at the
		 * accepted point gives the next step's gradient and Hessian */
		for (int half = 0; half < 30; half++) {
			for (int k = 0; k < p; k++)
				trial[k] = fit->beta[k] + scale * step[k];
			ll_t = newton_pass(X, y, n, p, trial, gt, Ht, !o->plain_newton);
			obj_t = ll_t - penalty(trial, p, lambda);
			if (o->plain_newton || obj_t >= obj - 1e-12 * fabs(obj))
				break;
			scale /= 2;
		}
		for (int k = 0; k < p; k++)
			step_max = fmax(step_max, fabs(trial[k] - fit->beta[k]));
		swap = fit->beta, fit->beta = trial, trial = swap;
		swap = g, g = gt, gt = swap;
		swap = H, H = Ht, Ht = swap;
		ll = ll_t;
		obj = obj_t;
		penalise(g, H, fit->beta, p, lambda);
		if (step_max < o->tol) {
			status = LOGIT_OK;
			break;
		}
	}
	fit->converged = status == LOGIT_OK;
	fit->loglik = o->plain_newton ? NAN : ll;
	if (status != LOGIT_SINGULAR) {
		/* standard errors from the (penalised) Hessian at the optimum */
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
	return status;
}

void
logit_predict(const double *X, size_t n, int p, const double *beta, double *ps)
{
	for (size_t i = 0; i < n; i++) {
		const double *x = X + i * (size_t)p;
		double eta = 0;

		for (int k = 0; k < p; k++)
			eta += x[k] * beta[k];
		ps[i] = 1 / (1 + exp(-eta));
	}
}

double
auc(const double *score, const uint8_t *y, size_t n)
{
	keyed *k = xmalloc(n * sizeof *k);
	double rank_sum = 0, n1 = 0, n0;

	for (size_t i = 0; i < n; i++)
		k[i] = (keyed){ score[i], i };
	keyed_sort(k, n);
	/* Mann-Whitney: sum of the treated's ranks, ties given their mean rank */
	for (size_t i = 0; i < n;) {
		size_t j = i;
		double mid;

		while (j < n && k[j].key == k[i].key)
			j++;
		mid = (double)(i + 1 + j) / 2;
		for (size_t m = i; m < j; m++)
			if (y[k[m].index]) {
				rank_sum += mid;
				n1++;
			}
		i = j;
	}
	free(k);
	n0 = (double)n - n1;
	if (n1 == 0 || n0 == 0)
		return NAN;
	return (rank_sum - n1 * (n1 + 1) / 2) / (n1 * n0);
}
