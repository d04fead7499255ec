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

/* log(1 + exp(x)) without overflow */
static double
log1pexp(double x)
{
	return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static double
penalised_loglik(const double *X, const uint8_t *y, size_t n, int p,
    const double *beta, double lambda, double *loglik)
{
	double ll = 0, pen = 0;

	for (size_t i = 0; i < n; i++) {
		const double *x = X + i * (size_t)p;
		double eta = 0;

		for (int k = 0; k < p; k++)
			eta += x[k] * beta[k];
		/* y log p + (1-y) log(1-p) = y eta - log(1 + e^eta) */
		ll += (y[i] ? eta : 0) - log1pexp(eta);
	}
	for (int k = 1; k < p; k++)
		pen += beta[k] * beta[k];
	*loglik = ll;
	return ll - 0.5 * lambda * pen;
}

logit_status
logit_fit_newton(const double *X, const uint8_t *y, size_t n, int p,
    const logit_opts *o, logit_fit *fit)
{
	double lambda = o->C > 0 ? 1.0 / o->C : 0;
	double *H = xcalloc((size_t)p * (size_t)p, sizeof *H);
	double *g = xcalloc((size_t)p, sizeof *g);
	double *trial = xcalloc((size_t)p, sizeof *trial);
	double obj, ll;
	logit_status status = LOGIT_NOT_CONVERGED;

	memset(fit, 0, sizeof *fit);
	fit->p = p;
	fit->beta = xcalloc((size_t)p, sizeof *fit->beta);
	fit->se = xcalloc((size_t)p, sizeof *fit->se);
	obj = penalised_loglik(X, y, n, p, fit->beta, lambda, &ll);
	for (fit->iterations = 0; fit->iterations < o->max_iter;) {
		double step_max = 0, scale = 1, new_obj = obj;

		/* gradient and Hessian of the penalised log-likelihood */
		memset(H, 0, (size_t)p * (size_t)p * sizeof *H);
		memset(g, 0, (size_t)p * sizeof *g);
		for (size_t i = 0; i < n; i++) {
			const double *x = X + i * (size_t)p;
			double eta = 0, pi, w, r;

			for (int k = 0; k < p; k++)
				eta += x[k] * fit->beta[k];
			pi = 1 / (1 + exp(-eta));
			w = pi * (1 - pi);
			r = y[i] - pi;
			for (int a = 0; a < p; a++) {
				double wa = w * x[a];

				g[a] += r * x[a];
				for (int b = 0; b <= a; b++)
					H[a * p + b] += wa * x[b];
			}
		}
		for (int a = 1; a < p; a++) {
			g[a] -= lambda * fit->beta[a];
			H[a * p + a] += lambda;
		}
		for (int a = 0; a < p; a++)
			for (int b = a + 1; b < p; b++)
				H[a * p + b] = H[b * p + a];
		if (cholesky_solve(H, g, p, NULL) != 0) {
			status = LOGIT_SINGULAR;
			break;
		}
		fit->iterations++;
		/* step halving keeps every step an ascent */
		for (int half = 0; half < 30; half++) {
			for (int k = 0; k < p; k++)
				trial[k] = fit->beta[k] + scale * g[k];
			new_obj = penalised_loglik(X, y, n, p, trial, lambda, &ll);
			if (new_obj >= obj - 1e-12 * fabs(obj))
				break;
			scale /= 2;
		}
		for (int k = 0; k < p; k++) {
			step_max = fmax(step_max, fabs(trial[k] - fit->beta[k]));
			fit->beta[k] = trial[k];
		}
		obj = new_obj;
		if (step_max < o->tol) {
			status = LOGIT_OK;
			break;
		}
	}
	fit->converged = status == LOGIT_OK;
	penalised_loglik(X, y, n, p, fit->beta, lambda, &fit->loglik);
	if (status != LOGIT_SINGULAR) {
		/* standard errors from the Hessian at the optimum */
		double *inv = xcalloc((size_t)p * (size_t)p, sizeof *inv);

		memset(H, 0, (size_t)p * (size_t)p * sizeof *H);
		for (size_t i = 0; i < n; i++) {
			const double *x = X + i * (size_t)p;
			double eta = 0, pi, w;

			for (int k = 0; k < p; k++)
				eta += x[k] * fit->beta[k];
			pi = 1 / (1 + exp(-eta));
			w = pi * (1 - pi);
			for (int a = 0; a < p; a++)
				for (int b = 0; b <= a; b++)
					H[a * p + b] += w * x[a] * x[b];
		}
		for (int a = 1; a < p; a++)
			H[a * p + a] += lambda;
		for (int a = 0; a < p; a++)
			for (int b = a + 1; b < p; b++)
				H[a * p + b] = H[b * p + a];
		if (cholesky_solve(H, NULL, p, inv) == 0)
			for (int k = 0; k < p; k++)
				fit->se[k] = sqrt(inv[k * p + k]);
		else
			for (int k = 0; k < p; k++)
				fit->se[k] = NAN;
		free(inv);
	}
	free(H);
	free(g);
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
