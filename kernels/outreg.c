/* outreg — see outreg.h. */
#include "outreg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "logit.h"
#include "xalloc.h"

const char *
outreg_family_name(outreg_family f)
{
	return f == OUTREG_LOGISTIC ? "logistic" : "linear";
}

static double
weight_of(const double *w, const uint8_t *sel, size_t i)
{
	if (sel && !sel[i])
		return 0;
	return w ? w[i] : 1;
}

/* Weighted least squares by the normal equations (p is a handful of terms;
 * Cholesky of X'WX). */
static int
fit_linear(const double *X, size_t n, int p, const double *y, const double *w,
    const uint8_t *sel, double *beta)
{
	double *A = xcalloc((size_t)p * (size_t)p + 1, sizeof *A);
	double sum_w = 0;
	int rc;

	memset(beta, 0, (size_t)p * sizeof *beta);
	for (size_t i = 0; i < n; i++) {
		double wi = weight_of(w, sel, i);

		if (!(wi > 0))
			continue;
		sum_w += wi;
		for (int a = 0; a < p; a++) {
			double xa = X[(size_t)a * n + i] * wi;

			beta[a] += xa * y[i];
			for (int b = 0; b <= a; b++)
				A[a * p + b] += xa * X[(size_t)b * n + i];
		}
	}
	if (sum_w == 0) {
		free(A);
		return OUTREG_EMPTY;
	}
	for (int a = 0; a < p; a++)
		for (int b = 0; b < a; b++)
			A[b * p + a] = A[a * p + b];
	rc = cholesky_solve(A, beta, p, NULL);
	free(A);
	return rc == 0 ? OUTREG_OK : OUTREG_SINGULAR;
}

/* Weighted logistic regression as grouped binomial data: a row of weight
 * w and outcome y is w trials with w y successes (the same score equations
 * as glm(weights = w) with quasibinomial). */
static int
fit_logistic(const double *X, size_t n, int p, const double *y, const double *w,
    const uint8_t *sel, double *beta)
{
	size_t m = 0;
	double *Xs, *trials, *succ;
	logit_opts o;
	logit_fit fit;
	logit_status st;
	int rc = OUTREG_OK;

	for (size_t i = 0; i < n; i++)
		m += weight_of(w, sel, i) > 0;
	if (m == 0)
		return OUTREG_EMPTY;
	Xs = xreallocarray(NULL, m, (size_t)p * sizeof *Xs);
	trials = xreallocarray(NULL, m, sizeof *trials);
	succ = xreallocarray(NULL, m, sizeof *succ);
	m = 0;
	for (size_t i = 0; i < n; i++) {
		double wi = weight_of(w, sel, i);

		if (!(wi > 0))
			continue;
		trials[m] = wi;
		succ[m] = wi * y[i];
		m++;
	}
	for (int a = 0; a < p; a++) {
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			if (weight_of(w, sel, i) > 0)
				Xs[(size_t)a * m + k++] = X[(size_t)a * n + i];
	}
	logit_opts_default(&o);
	{
		double *mu = xreallocarray(NULL, m, sizeof *mu);

		st = logit_fit_newton(&(logit_data){ .X = Xs, .n = m, .p = p, .trials = trials,
		    .succ = succ }, &o, &fit, mu);
		free(mu);
	}
	if (st == LOGIT_OK)
		memcpy(beta, fit.beta, (size_t)p * sizeof *beta);
	else
		rc = st == LOGIT_SINGULAR ? OUTREG_SINGULAR : OUTREG_NO_FIT;
	logit_fit_free(&fit); /* allocated whatever the status */
	free(Xs), free(trials), free(succ);
	return rc;
}

int
outreg_fit(outreg_family f, const double *X, size_t n, int p, const double *y,
    const double *w, const uint8_t *sel, double *beta)
{
	return f == OUTREG_LOGISTIC ? fit_logistic(X, n, p, y, w, sel, beta) :
	    fit_linear(X, n, p, y, w, sel, beta);
}

int
outreg_fit_arms(outreg_family f, const double *X, size_t n, int p, const uint8_t *t,
    const double *y, const double *w, double *beta1, double *beta0)
{
	uint8_t *arm = xmalloc(n + 1);
	int rc;

	for (size_t i = 0; i < n; i++)
		arm[i] = t[i] != 0;
	rc = outreg_fit(f, X, n, p, y, w, arm, beta1);
	for (size_t i = 0; i < n; i++)
		arm[i] = t[i] == 0;
	if (rc == OUTREG_OK)
		rc = outreg_fit(f, X, n, p, y, w, arm, beta0);
	free(arm);
	return rc;
}

void
outreg_predict(outreg_family f, const double *X, size_t n, int p, const double *beta,
    double *out)
{
	if (f == OUTREG_LOGISTIC) {
		logit_predict(X, n, p, beta, out);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		double v = 0;

		for (int a = 0; a < p; a++)
			v += X[(size_t)a * n + i] * beta[a];
		out[i] = v;
	}
}

int
outreg_estimate(const uint8_t *t, const double *y, const double *e, const double *m1,
    const double *m0, size_t n, outreg_estimates *out)
{
	double n1 = 0, sum_g = 0, sum_gt = 0, sum_a = 0, sum_t = 0, sum_cw = 0, sum_cwr = 0;
	double phi2 = 0, phi2_att = 0, p1, mean_cw, delta, a_t;

	for (size_t i = 0; i < n; i++) {
		if (!(e[i] > 0 && e[i] < 1))
			return -1;
		n1 += t[i] != 0;
	}
	if (n1 == 0 || n1 == (double)n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		double g = m1[i] - m0[i];

		sum_g += g;
		if (t[i]) {
			sum_gt += g;
			sum_a += g + (y[i] - m1[i]) / e[i];
			sum_t += y[i] - m0[i];
		} else {
			double wc = e[i] / (1 - e[i]);

			sum_a += g - (y[i] - m0[i]) / (1 - e[i]);
			sum_cw += wc;
			sum_cwr += wc * (y[i] - m0[i]);
		}
	}
	out->gcomp_ate = sum_g / (double)n;
	out->gcomp_att = sum_gt / n1;
	out->aipw_ate = sum_a / (double)n;
	a_t = sum_t / n1;
	delta = sum_cwr / sum_cw;
	out->aipw_att = a_t - delta;
	p1 = n1 / (double)n;
	mean_cw = sum_cw / (double)n;
	for (size_t i = 0; i < n; i++) {
		double g = m1[i] - m0[i], phi, phi_t;

		if (t[i]) {
			phi = g + (y[i] - m1[i]) / e[i] - out->aipw_ate;
			phi_t = (y[i] - m0[i] - a_t) / p1;
		} else {
			phi = g - (y[i] - m0[i]) / (1 - e[i]) - out->aipw_ate;
			phi_t = -e[i] / (1 - e[i]) * (y[i] - m0[i] - delta) / mean_cw;
		}
		phi2 += phi * phi;
		phi2_att += phi_t * phi_t;
	}
	out->aipw_ate_se = sqrt(phi2) / (double)n;
	out->aipw_att_se = sqrt(phi2_att) / (double)n;
	return 0;
}

int
outreg_adjusted_att(outreg_family f, const double *X, size_t n, int p, const uint8_t *t,
    const double *y, const double *w, double *beta1, double *beta0, double *estimate)
{
	double *m = xreallocarray(NULL, n + 1, sizeof *m), sum = 0, sum_w = 0;
	int rc = outreg_fit_arms(f, X, n, p, t, y, w, beta1, beta0);

	if (rc == OUTREG_OK) {
		double *m1 = xreallocarray(NULL, n + 1, sizeof *m1);

		outreg_predict(f, X, n, p, beta1, m1);
		outreg_predict(f, X, n, p, beta0, m);
		for (size_t i = 0; i < n; i++)
			if (t[i] && w[i] > 0) {
				sum += w[i] * (m1[i] - m[i]);
				sum_w += w[i];
			}
		free(m1);
		*estimate = sum_w > 0 ? sum / sum_w : NAN;
		if (!(sum_w > 0))
			rc = OUTREG_EMPTY;
	}
	free(m);
	return rc;
}
