/* gbm — see gbm.h. */
#include "gbm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgboost/c_api.h>

#include "keyed.h"
#include "xalloc.h"

const char *
gbm_stop_name(gbm_stop s)
{
	return s == GBM_STOP_ES_MEAN ? "es.mean" : s == GBM_STOP_KS_MAX ? "ks.max" : "none";
}

int
gbm_stop_parse(const char *name, gbm_stop *s)
{
	if (strcmp(name, "es.mean") == 0)
		*s = GBM_STOP_ES_MEAN;
	else if (strcmp(name, "ks.max") == 0)
		*s = GBM_STOP_KS_MAX;
	else if (strcmp(name, "none") == 0)
		*s = GBM_STOP_NONE;
	else
		return -1;
	return 0;
}

void
gbm_opts_default(gbm_opts *o)
{
	*o = (gbm_opts){ .trees = 500, .depth = 3, .eta = 0.1, .subsample = 1, .seed = 0,
		.stop = GBM_STOP_ES_MEAN, .stop_att = 0 };
}

/* XGBoost's message is its check's line followed by a stack trace of its
 * internals: the user gets the line. */
static int
xgb_failed(const char *what, char *why, size_t whylen)
{
	const char *said = XGBGetLastError();
	int line = (int)strcspn(said, "\n");
	snprintf(why, whylen, "XGBoost: %s: %.*s", what, line, said);
	return -1;
}

/* Rows in canonical order: by their covariates, lexicographically. qsort
 * has no context argument, and boot fits in several threads at once: the
 * comparator's matrix is each thread's own. */
static _Thread_local const double *sort_X;
static _Thread_local size_t sort_n;
static _Thread_local int sort_p;

static int
by_covariates(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	for (int c = 1; c < sort_p; c++) {
		double x = sort_X[(size_t)c * sort_n + i], y = sort_X[(size_t)c * sort_n + j];

		if (x != y)
			return x < y ? -1 : 1;
	}
	return (i > j) - (i < j);
}

/* The covariates of rows idx[0..m) as a row-major float matrix. */
static float *
features(const double *X, size_t n, int p, const size_t *idx, size_t m)
{
	int q = p > 1 ? p - 1 : 1;
	float *f = xreallocarray(NULL, m + 1, (size_t)q * sizeof *f);

	for (size_t r = 0; r < m; r++)
		for (int c = 0; c < q; c++)
			f[r * (size_t)q + (size_t)c] = p > 1 ? (float)X[(size_t)(c + 1) * n + idx[r]] : 0;
	return f;
}

static int
set_params(BoosterHandle b, const gbm_opts *o, char *why, size_t whylen)
{
	char depth[16], eta[40], sub[40], seed[32];
	const char *params[][2] = {
		{ "objective", "binary:logistic" }, { "tree_method", "exact" },
		{ "nthread", "1" }, { "base_score", "0.5" }, { "verbosity", "0" },
		{ "max_depth", depth }, { "eta", eta }, { "subsample", sub }, { "seed", seed },
	};

	snprintf(depth, sizeof depth, "%d", o->depth);
	snprintf(eta, sizeof eta, "%.17g", o->eta);
	snprintf(sub, sizeof sub, "%.17g", o->subsample);
	snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
	for (size_t k = 0; k < sizeof params / sizeof *params; k++)
		if (XGBoosterSetParam(b, params[k][0], params[k][1]) != 0)
			return xgb_failed("setting a parameter", why, whylen);
	return 0;
}

/* Predictions of trees [begin, end) for the rows of dm into out (n):
 * probabilities, or margins (without the base margin's 0 from base_score
 * 0.5). */
static int
predict_range(BoosterHandle b, DMatrixHandle dm, size_t n, int begin, int end, int margin,
    double *out, char *why, size_t whylen)
{
	char config[200];
	const bst_ulong *shape;
	bst_ulong dim;
	const float *res;

	snprintf(config, sizeof config, "{\"type\": %d, \"training\": false, \"iteration_begin\": "
	    "%d, \"iteration_end\": %d, \"strict_shape\": false}", margin ? 1 : 0, begin, end);
	if (XGBoosterPredictFromDMatrix(b, dm, config, &shape, &dim, &res) != 0)
		return xgb_failed("predicting", why, whylen);
	for (size_t i = 0; i < n; i++)
		out[i] = res[i];
	return 0;
}

/* The balance of the rows under propensities ps: es.mean or ks.max. */
typedef struct {
	const double *X, *units, *treated;
	size_t n;
	int p;
	int att;
	double *sd;      /* per column: the SMD's denominator */
	size_t **order;  /* per column: rows by value */
} balance_check;

static void
balance_init(balance_check *bc, const double *X, size_t n, int p, const double *units,
    const double *treated, int att)
{
	*bc = (balance_check){ X, units, treated, n, p, att, NULL, NULL };
	bc->sd = xcalloc((size_t)p + 1, sizeof *bc->sd);
	bc->order = xcalloc((size_t)p + 1, sizeof *bc->order);
	for (int c = 1; c < p; c++) {
		const double *x = X + (size_t)c * n;
		double s[2] = { 0, 0 }, ss[2] = { 0, 0 }, m[2] = { 0, 0 }, var[2];
		int binary = 1;
		keyed *k = xreallocarray(NULL, n + 1, sizeof *k);

		for (size_t i = 0; i < n; i++) {
			double u1 = treated[i], u0 = units[i] - treated[i];

			binary &= x[i] == 0 || x[i] == 1;
			s[1] += u1, s[0] += u0;
			m[1] += u1 * x[i], m[0] += u0 * x[i];
		}
		for (int g = 0; g < 2; g++)
			m[g] = s[g] > 0 ? m[g] / s[g] : 0;
		for (size_t i = 0; i < n; i++) {
			double d1 = x[i] - m[1], d0 = x[i] - m[0];

			ss[1] += treated[i] * d1 * d1;
			ss[0] += (units[i] - treated[i]) * d0 * d0;
		}
		for (int g = 0; g < 2; g++)
			var[g] = binary ? (s[g] > 0 ? ss[g] / s[g] : 0) :
			    (s[g] > 1 ? ss[g] / (s[g] - 1) : 0);
		bc->sd[c] = att ? sqrt(var[1]) : sqrt((var[0] + var[1]) / 2);
		for (size_t i = 0; i < n; i++)
			k[i] = (keyed){ x[i], i };
		keyed_sort(k, n);
		bc->order[c] = xreallocarray(NULL, n + 1, sizeof *bc->order[c]);
		for (size_t i = 0; i < n; i++)
			bc->order[c][i] = k[i].index;
		free(k);
	}
}

static void
balance_free(balance_check *bc)
{
	for (int c = 1; c < bc->p; c++)
		free(bc->order[c]);
	free(bc->order);
	free(bc->sd);
}

static double
balance_criterion(const balance_check *bc, const double *ps, gbm_stop stop, double *w1,
    double *w0)
{
	size_t n = bc->n;
	double total = 0, worst = 0, s1 = 0, s0 = 0;
	int cols = 0;

	for (size_t i = 0; i < n; i++) {
		double e = ps[i];

		w1[i] = bc->treated[i] * (bc->att ? 1 : 1 / e);
		w0[i] = (bc->units[i] - bc->treated[i]) * (bc->att ? e / (1 - e) : 1 / (1 - e));
		s1 += w1[i];
		s0 += w0[i];
	}
	for (int c = 1; c < bc->p; c++) {
		const double *x = bc->X + (size_t)c * n;
		double m1 = 0, m0 = 0, f1 = 0, f0 = 0, ks = 0;

		if (stop == GBM_STOP_ES_MEAN) {
			for (size_t i = 0; i < n; i++)
				m1 += w1[i] * x[i], m0 += w0[i] * x[i];
			m1 /= s1, m0 /= s0;
			if (bc->sd[c] > 0)
				total += fabs(m1 - m0) / bc->sd[c];
			cols++;
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			size_t i = bc->order[c][k];

			f1 += w1[i] / s1;
			f0 += w0[i] / s0;
			/* the CDFs step once per distinct value */
			if (k + 1 == n || x[bc->order[c][k + 1]] != x[i])
				ks = fmax(ks, fabs(f1 - f0));
		}
		worst = fmax(worst, ks);
	}
	return stop == GBM_STOP_ES_MEAN ? (cols ? total / cols : 0) : worst;
}

int
gbm_fit(const gbm_opts *o, const double *X, size_t n, int p, const double *units,
    const double *treated, gbm_model *m, double *ps, double *curve, double *criterion,
    char *why, size_t whylen)
{
	size_t *idx = xreallocarray(NULL, n + 1, sizeof *idx), *train_idx, rows = 0;
	int q = p > 1 ? p - 1 : 1, rc = 0, best = o->trees;
	float *f, *label, *weight, *fall;
	DMatrixHandle train = NULL, all = NULL;
	BoosterHandle b = NULL;
	double best_value = INFINITY, *margin = NULL, *step = NULL, *w1 = NULL, *w0 = NULL;
	balance_check bc = { 0 };

	memset(m, 0, sizeof *m);
	*criterion = NAN;
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	sort_X = X, sort_n = n, sort_p = p;
	qsort(idx, n, sizeof *idx, by_covariates);
	train_idx = xreallocarray(NULL, 2 * n + 1, sizeof *train_idx);
	label = xreallocarray(NULL, 2 * n + 1, sizeof *label);
	weight = xreallocarray(NULL, 2 * n + 1, sizeof *weight);
	for (size_t k = 0; k < n; k++) {
		size_t i = idx[k];
		double w[2] = { units[i] - treated[i], treated[i] };

		for (int y = 1; y >= 0; y--)
			if (w[y] > 0) {
				train_idx[rows] = i;
				label[rows] = (float)y;
				weight[rows++] = (float)w[y];
			}
	}
	free(idx);
	f = features(X, n, p, train_idx, rows);
	if (XGDMatrixCreateFromMat(f, rows, (bst_ulong)q, NAN, &train) != 0 ||
	    XGDMatrixSetFloatInfo(train, "label", label, rows) != 0 ||
	    XGDMatrixSetFloatInfo(train, "weight", weight, rows) != 0) {
		rc = xgb_failed("making the training matrix", why, whylen);
		goto out;
	}
	/* every row, in the caller's order, for the predictions */
	{
		size_t *self = xreallocarray(NULL, n + 1, sizeof *self);

		for (size_t i = 0; i < n; i++)
			self[i] = i;
		fall = features(X, n, p, self, n);
		free(self);
		rc = XGDMatrixCreateFromMat(fall, n, (bst_ulong)q, NAN, &all);
		free(fall);
		if (rc != 0) {
			rc = xgb_failed("making the prediction matrix", why, whylen);
			goto out;
		}
	}
	if (XGBoosterCreate(&train, 1, &b) != 0) {
		rc = xgb_failed("creating the booster", why, whylen);
		goto out;
	}
	if ((rc = set_params(b, o, why, whylen)) != 0)
		goto out;
	if (o->stop != GBM_STOP_NONE) {
		margin = xcalloc(n + 1, sizeof *margin);
		step = xcalloc(n + 1, sizeof *step);
		w1 = xcalloc(n + 1, sizeof *w1);
		w0 = xcalloc(n + 1, sizeof *w0);
		balance_init(&bc, X, n, p, units, treated, o->stop_att);
	}
	for (int k = 0; k < o->trees; k++) {
		if (XGBoosterUpdateOneIter(b, k, train) != 0) {
			rc = xgb_failed("boosting", why, whylen);
			break;
		}
		if (o->stop == GBM_STOP_NONE)
			continue;
		/* tree k's margins added to the others': the propensities after k + 1 */
		if ((rc = predict_range(b, all, n, k, k + 1, 1, step, why, whylen)) != 0)
			break;
		for (size_t i = 0; i < n; i++) {
			margin[i] += step[i];
			ps[i] = 1 / (1 + exp(-margin[i]));
		}
		{
			double v = balance_criterion(&bc, ps, o->stop, w1, w0);

			if (curve)
				curve[k] = v;
			if (v < best_value) {
				best_value = v;
				best = k + 1;
			}
		}
	}
	if (o->stop != GBM_STOP_NONE) {
		balance_free(&bc);
		*criterion = best_value;
	}
	if (rc == 0)
		rc = predict_range(b, all, n, 0, best, 0, ps, why, whylen);
	if (rc == 0) {
		m->booster = b;
		m->trees = best;
		b = NULL;
	}
out:
	if (b)
		XGBoosterFree(b);
	if (train)
		XGDMatrixFree(train);
	if (all)
		XGDMatrixFree(all);
	free(f), free(label), free(weight), free(train_idx);
	free(margin), free(step), free(w1), free(w0);
	return rc;
}

int
gbm_predict(const gbm_model *m, const double *X, size_t n, int p, double *ps, char *why,
    size_t whylen)
{
	size_t *self = xreallocarray(NULL, n + 1, sizeof *self);
	int q = p > 1 ? p - 1 : 1, rc;
	float *f;
	DMatrixHandle dm;

	for (size_t i = 0; i < n; i++)
		self[i] = i;
	f = features(X, n, p, self, n);
	free(self);
	if (XGDMatrixCreateFromMat(f, n, (bst_ulong)q, NAN, &dm) != 0) {
		free(f);
		return xgb_failed("making the prediction matrix", why, whylen);
	}
	rc = predict_range(m->booster, dm, n, 0, m->trees, 0, ps, why, whylen);
	XGDMatrixFree(dm);
	free(f);
	return rc;
}

int
gbm_save(const gbm_model *m, char **bytes, size_t *len, char *why, size_t whylen)
{
	bst_ulong n;
	const char *buf;

	if (XGBoosterSaveModelToBuffer(m->booster, "{\"format\": \"ubj\"}", &n, &buf) != 0)
		return xgb_failed("saving the model", why, whylen);
	*bytes = xmalloc(n + 1);
	memcpy(*bytes, buf, n);
	*len = n;
	return 0;
}

int
gbm_load(gbm_model *m, const void *bytes, size_t len, int trees, char *why, size_t whylen)
{
	BoosterHandle b;
	int rounds = 0;

	memset(m, 0, sizeof *m);
	if (XGBoosterCreate(NULL, 0, &b) != 0)
		return xgb_failed("creating the booster", why, whylen);
	if (XGBoosterLoadModelFromBuffer(b, bytes, len) != 0 ||
	    XGBoosterBoostedRounds(b, &rounds) != 0) {
		XGBoosterFree(b);
		return xgb_failed("reading the model", why, whylen);
	}
	if (trees < 1 || trees > rounds) {
		snprintf(why, whylen, "the model has %d trees, not the %d it says it uses", rounds,
		    trees);
		XGBoosterFree(b);
		return -1;
	}
	m->booster = b;
	m->trees = trees;
	return 0;
}

void
gbm_model_free(gbm_model *m)
{
	if (m->booster)
		XGBoosterFree(m->booster);
	m->booster = NULL;
}
