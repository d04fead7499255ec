/* ipwvar — see ipwvar.h. */
#include "ipwvar.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hashbits.h"
#include "xalloc.h"

/* Per cluster: sum (t - e) x (p), then per group g sums of w (y - shift_g)
 * and w, and the units. */
#define CL_WIDTH(p) ((size_t)(p) + 5)

struct ipwvar {
	estimand e;
	int p;
	size_t n;
	const ipwvar *model;         /* whose Abb and Bbb these are (NULL: its own) */
	double *Abb, *Bbb;           /* p x p (NULL when shared) */
	double shift[2];
	int shifted[2];
	double S[2], SY[2], SW2[2], SW2Y[2], SW2Y2[2];
	double *Bgb_y[2], *Bgb_1[2]; /* p: sum w (t - e) y x, sum w (t - e) x */
	double *Agb_y[2], *Agb_1[2]; /* p: sum d y x, sum d x (d = dw/dbeta / x) */
	/* clusters: open addressing from a cluster's id to its row of sums */
	int64_t *keys;
	uint32_t *slot;              /* cluster index + 1; 0: empty */
	size_t nslots, nclusters, cap;
	double *cl;                  /* nclusters x CL_WIDTH(p) */
};

ipwvar *
ipwvar_new(estimand e, int p)
{
	ipwvar *v = xcalloc(1, sizeof *v);
	size_t pp = (size_t)p * (size_t)p;

	v->e = e;
	v->p = p;
	v->Abb = xcalloc(pp, sizeof *v->Abb);
	v->Bbb = xcalloc(pp, sizeof *v->Bbb);
	for (int g = 0; g < 2; g++) {
		v->Bgb_y[g] = xcalloc((size_t)p, sizeof(double));
		v->Bgb_1[g] = xcalloc((size_t)p, sizeof(double));
		v->Agb_y[g] = xcalloc((size_t)p, sizeof(double));
		v->Agb_1[g] = xcalloc((size_t)p, sizeof(double));
	}
	return v;
}

ipwvar *
ipwvar_new_sharing(estimand e, const ipwvar *model)
{
	ipwvar *v = ipwvar_new(e, model->p);

	free(v->Abb), free(v->Bbb); /* the model's are read instead */
	v->Abb = v->Bbb = NULL;
	v->model = model;
	return v;
}

void
ipwvar_free(ipwvar *v)
{
	if (v == NULL)
		return;
	free(v->Abb), free(v->Bbb);
	for (int g = 0; g < 2; g++)
		free(v->Bgb_y[g]), free(v->Bgb_1[g]), free(v->Agb_y[g]), free(v->Agb_1[g]);
	free(v->keys), free(v->slot), free(v->cl);
	free(v);
}

/* d w / d beta over x for a unit of group g: (dw/de) e (1 - e). */
static double
weight_slope(estimand e, int g, double ps)
{
	switch (e) {
	case EST_ATE: return g ? -(1 - ps) / ps : ps / (1 - ps);
	case EST_ATT: return g ? 0 : ps / (1 - ps);
	case EST_ATC: return g ? -(1 - ps) / ps : 0;
	case EST_ATO: return g ? -ps * (1 - ps) : ps * (1 - ps);
	default: return 0;
	}
}

static double *
cluster_row(ipwvar *v, int64_t id)
{
	size_t width = CL_WIDTH(v->p), s;

	if (2 * (v->nclusters + 1) > v->nslots) {
		size_t old = v->nslots, size = old ? 2 * old : 1024;
		int64_t *keys = xcalloc(size, sizeof *keys);
		uint32_t *slot = xcalloc(size, sizeof *slot);

		for (size_t k = 0; k < old; k++)
			if (v->slot[k]) {
				size_t t = hash_slot((uint64_t)v->keys[k], size);

				while (slot[t])
					t = (t + 1) & (size - 1);
				keys[t] = v->keys[k];
				slot[t] = v->slot[k];
			}
		free(v->keys), free(v->slot);
		v->keys = keys, v->slot = slot, v->nslots = size;
	}
	s = hash_slot((uint64_t)id, v->nslots);
	while (v->slot[s] && v->keys[s] != id)
		s = (s + 1) & (v->nslots - 1);
	if (v->slot[s] == 0) {
		if (v->nclusters == v->cap) {
			v->cap = v->cap ? 2 * v->cap : 1024;
			v->cl = xreallocarray(v->cl, v->cap, width * sizeof *v->cl);
		}
		memset(v->cl + v->nclusters * width, 0, width * sizeof *v->cl);
		v->keys[s] = id;
		v->slot[s] = (uint32_t)++v->nclusters;
	}
	return v->cl + (size_t)(v->slot[s] - 1) * width;
}

void
ipwvar_add(ipwvar *v, const double *X, size_t n, const uint8_t *t, const double *e,
    const double *y, const double *w, const double *scale, const int64_t *cluster)
{
	int p = v->p, own_model = v->model == NULL;

	for (size_t i = 0; i < n; i++) {
		int g = t[i] != 0;
		double ps = e[i], r = g - ps, wi = w[i], yi, d;
		double formula = ipw_weight(v->e, g, ps) * (scale ? scale[g] : 1);

		if (!v->shifted[g]) { /* the sums of y about the group's first value */
			v->shift[g] = y[i];
			v->shifted[g] = 1;
		}
		yi = y[i] - v->shift[g];
		/* a weight trimmed to 0 or capped is not the formula's: it counts
		 * as fixed; a stabilised one is the formula's times its group's scale */
		d = wi == formula ? weight_slope(v->e, g, ps) * (scale ? scale[g] : 1) : 0;
		v->n++;
		for (int a = 0; a < p; a++) {
			double xa = X[(size_t)a * n + i];

			for (int b = 0; own_model && b <= a; b++) {
				double xab = xa * X[(size_t)b * n + i];

				v->Abb[a * p + b] += ps * (1 - ps) * xab;
				v->Bbb[a * p + b] += r * r * xab;
			}
			v->Bgb_y[g][a] += wi * r * yi * xa;
			v->Bgb_1[g][a] += wi * r * xa;
			v->Agb_y[g][a] += d * yi * xa;
			v->Agb_1[g][a] += d * xa;
		}
		v->S[g] += wi;
		v->SY[g] += wi * yi;
		v->SW2[g] += wi * wi;
		v->SW2Y[g] += wi * wi * yi;
		v->SW2Y2[g] += wi * wi * yi * yi;
		if (cluster) {
			double *row = cluster_row(v, cluster[i]);

			for (int a = 0; a < p; a++)
				row[a] += r * X[(size_t)a * n + i];
			row[p + 2 * g] += wi * yi;
			row[p + 2 * g + 1] += wi;
			row[p + 4] += 1;
		}
	}
}

/* Solves M z = c for a q x q M (row-major) by Gaussian elimination with
 * partial pivoting, M and c overwritten; returns -1 when singular. */
static int
solve(double *M, double *c, int q)
{
	for (int k = 0; k < q; k++) {
		int piv = k;

		for (int i = k + 1; i < q; i++)
			if (fabs(M[i * q + k]) > fabs(M[piv * q + k]))
				piv = i;
		if (!(fabs(M[piv * q + k]) > 0))
			return -1;
		if (piv != k) {
			for (int j = 0; j < q; j++) {
				double tmp = M[k * q + j];

				M[k * q + j] = M[piv * q + j];
				M[piv * q + j] = tmp;
			}
			{
				double tmp = c[k];

				c[k] = c[piv];
				c[piv] = tmp;
			}
		}
		for (int i = k + 1; i < q; i++) {
			double f = M[i * q + k] / M[k * q + k];

			for (int j = k; j < q; j++)
				M[i * q + j] -= f * M[k * q + j];
			c[i] -= f * c[k];
		}
	}
	for (int k = q - 1; k >= 0; k--) {
		for (int j = k + 1; j < q; j++)
			c[k] -= M[k * q + j] * c[j];
		c[k] /= M[k * q + k];
	}
	return 0;
}

int
ipwvar_se(const ipwvar *v, const double *beta, double C, int clustered, double *se,
    size_t *clusters)
{
	int p = v->p, q = p + 2;
	const ipwvar *model = v->model ? v->model : v;
	double *A = xcalloc((size_t)q * (size_t)q, sizeof *A);
	double *B = xcalloc((size_t)q * (size_t)q, sizeof *B);
	double *a = xcalloc((size_t)q, sizeof *a), mu[2], var = 0, n = (double)v->n;
	int rc = 0;

	*clusters = clustered ? v->nclusters : v->n;
	if (!(v->S[0] > 0 && v->S[1] > 0)) {
		free(A), free(B), free(a);
		return -1;
	}
	for (int g = 0; g < 2; g++)
		mu[g] = v->SY[g] / v->S[g]; /* about the group's shift */
	/* A = -d psi / d theta: the logit block, then the means */
	for (int i = 0; i < p; i++)
		for (int j = 0; j <= i; j++) {
			A[i * q + j] = A[j * q + i] = model->Abb[i * p + j];
			B[i * q + j] = B[j * q + i] = model->Bbb[i * p + j];
		}
	if (C > 0)
		for (int i = 1; i < p; i++) {
			A[i * q + i] += 1 / C;
			for (int j = 1; j < p; j++) /* B -= (D b)(D b)' / (C^2 n) */
				B[i * q + j] -= beta[i] * beta[j] / (C * C * n);
		}
	for (int g = 0; g < 2; g++) {
		int row = p + (g ? 0 : 1); /* mu1 then mu0 */

		A[row * q + row] = v->S[g];
		for (int j = 0; j < p; j++)
			A[row * q + j] = -(v->Agb_y[g][j] - mu[g] * v->Agb_1[g][j]);
		B[row * q + row] = v->SW2Y2[g] - 2 * mu[g] * v->SW2Y[g] + mu[g] * mu[g] * v->SW2[g];
		for (int j = 0; j < p; j++)
			B[row * q + j] = B[j * q + row] = v->Bgb_y[g][j] - mu[g] * v->Bgb_1[g][j];
	}
	if (clustered) {
		/* B from the clusters' summed estimating functions, times G/(G-1) */
		size_t width = CL_WIDTH(p), G = v->nclusters;
		double *u = xcalloc((size_t)q, sizeof *u);

		memset(B, 0, (size_t)q * (size_t)q * sizeof *B);
		for (size_t c = 0; c < G; c++) {
			const double *row = v->cl + c * width;

			for (int j = 0; j < p; j++)
				u[j] = row[j] - (C > 0 && j > 0 ? beta[j] / C * row[p + 4] / n : 0);
			u[p] = row[p + 2] - mu[1] * row[p + 3];
			u[p + 1] = row[p] - mu[0] * row[p + 1];
			for (int i = 0; i < q; i++)
				for (int j = 0; j < q; j++)
					B[i * q + j] += u[i] * u[j];
		}
		for (int i = 0; i < q * q; i++)
			B[i] *= G > 1 ? (double)G / (double)(G - 1) : 1;
		free(u);
	}
	/* a = A^-T c: solve A' a = c */
	{
		double *At = xcalloc((size_t)q * (size_t)q, sizeof *At);

		for (int i = 0; i < q; i++)
			for (int j = 0; j < q; j++)
				At[i * q + j] = A[j * q + i];
		a[p] = 1;
		a[p + 1] = -1;
		rc = solve(At, a, q);
		free(At);
	}
	if (rc == 0) {
		for (int i = 0; i < q; i++)
			for (int j = 0; j < q; j++)
				var += a[i] * B[i * q + j] * a[j];
		*se = var > 0 ? sqrt(var) : 0;
	}
	free(A), free(B), free(a);
	return rc;
}
