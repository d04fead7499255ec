#include "stage_fitps.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "design.h"
#include "err.h"
#include "psfit.h"
#include "psmodel.h"
#include "stage.h"

/* -x as one comma-separated spec, from the option or the head's roles. */
static char *
covariate_spec(const stream_head *h)
{
	size_t len = 1;
	char *spec;

	if (h->ncovariates == 0)
		die("no covariates: name them with -x (e.g. -x engagement_tier,query_confidence)");
	for (int i = 0; i < h->ncovariates; i++)
		len += strlen(h->covariates[i]) + 1;
	spec = xcalloc(len, 1);
	for (int i = 0; i < h->ncovariates; i++) {
		if (i)
			strcat(spec, ",");
		strcat(spec, h->covariates[i]);
	}
	return spec;
}

static void
range_pair(mpseq *m, const char *key, double lo, double hi)
{
	msgpack_packer *pk = mpseq_key(m, key);

	msgpack_pack_array(pk, 2);
	mp_pack_f64(pk, lo);
	mp_pack_f64(pk, hi);
}

/* Mean propensity and treated share per level of each categorical
 * covariate: does the model reproduce the groups' opt-in rates? */
static void
calibration(mpseq *result, const table *rows, const design *d, const double *ps,
    const uint8_t *t)
{
	mpseq cal;

	mpseq_array(&cal);
	for (int k = 0; k < d->nterms; k++) {
		const char *col = d->terms[k].factors[0].column;
		int ci = table_find(rows, col), seen = 0;
		const column *c;

		for (int j = 0; j < k; j++)
			seen |= strcmp(d->terms[j].factors[0].column, col) == 0;
		if (seen || ci < 0 || rows->cols[ci].type != COL_CAT)
			continue;
		c = &rows->cols[ci];
		for (int l = 0; l < c->nlevels; l++) {
			double sum = 0, treated = 0, n = 0;
			mpseq row;

			for (size_t i = 0; i < rows->nrows; i++)
				if (((const int32_t *)c->data)[i] == l) {
					sum += ps[i];
					treated += t[i];
					n++;
				}
			mpseq_map(&row);
			mpseq_str(&row, "covariate", col);
			mpseq_str(&row, "level", c->levels[l]);
			mpseq_i64(&row, "n", (int64_t)n);
			mpseq_f64(&row, "mean_ps", n ? sum / n : NAN);
			mpseq_f64(&row, "treated_rate", n ? treated / n : NAN);
			mpseq_take(&cal, NULL, &row);
		}
	}
	mpseq_take(result, "calibration", &cal);
}

static void
model_result(mpseq *m, const table *rows, const design *d, const logit_fit *fit,
    const logit_opts *o, const double *ps, const uint8_t *t)
{
	size_t n = rows->nrows, n1 = 0;
	double lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };
	mpseq terms;

	for (size_t i = 0; i < n; i++) {
		n1 += t[i];
		lo[t[i]] = fmin(lo[t[i]], ps[i]);
		hi[t[i]] = fmax(hi[t[i]], ps[i]);
	}
	result_begin(m, "fitps", "ps_model");
	mpseq_str(m, "model", "logistic");
	if (o->C > 0)
		mpseq_f64(m, "l2", o->C);
	else
		mpseq_nil(m, "l2");
	mpseq_i64(m, "n", (int64_t)n);
	mpseq_i64(m, "treated", (int64_t)n1);
	mpseq_i64(m, "controls", (int64_t)(n - n1));
	mpseq_array(&terms);
	for (int k = 0; k <= d->nterms; k++) {
		mpseq term;

		mpseq_map(&term);
		mpseq_str(&term, "term", k ? d->terms[k - 1].name : "(intercept)");
		mpseq_f64(&term, "coef", fit->beta[k]);
		mpseq_f64(&term, "se", fit->se[k]);
		mpseq_take(&terms, NULL, &term);
	}
	mpseq_take(m, "terms", &terms);
	mpseq_i64(m, "iterations", fit->iterations);
	mpseq_bool(m, "converged", fit->converged);
	mpseq_f64(m, "loglik", fit->loglik);
	mpseq_f64(m, "auc", auc(ps, t, n));
	{
		mpseq range;

		mpseq_map(&range);
		range_pair(&range, "treated", lo[1], hi[1]);
		range_pair(&range, "control", lo[0], hi[0]);
		mpseq_take(m, "ps_range", &range);
	}
	calibration(m, rows, d, ps, t);
}

/* Drops the rows with a missing, NaN or infinite value in any column the
 * model uses, counting them per column, into a result. */
static void
drop_missing(table *rows, const stream_head *h, const design *d, mpseq *result)
{
	const char **cols = xcalloc((size_t)d->nterms * 8 + 3, sizeof *cols);
	size_t *count, dropped = 0;
	uint8_t *keep = xmalloc(rows->nrows + 1);
	int ncols = 0;
	mpseq by;

	cols[ncols++] = h->treatment;
	if (h->outcome)
		cols[ncols++] = h->outcome;
	for (int k = 0; k < d->nterms; k++)
		for (int f = 0; f < d->terms[k].nfactors; f++) {
			int seen = 0;

			for (int c = 0; c < ncols; c++)
				seen |= strcmp(cols[c], d->terms[k].factors[f].column) == 0;
			if (!seen)
				cols[ncols++] = d->terms[k].factors[f].column;
		}
	count = xcalloc((size_t)ncols, sizeof *count);
	for (size_t r = 0; r < rows->nrows; r++) {
		keep[r] = 1;
		for (int c = 0; c < ncols; c++) {
			const column *col = &rows->cols[table_find(rows, cols[c])];
			int bad = column_is_missing(col, r) ||
			    (col->type == COL_F64 && !isfinite(((const double *)col->data)[r]));

			if (bad) {
				count[c]++;
				keep[r] = 0;
			}
		}
		dropped += !keep[r];
	}
	table_keep_rows(rows, keep);
	result_begin(result, "fitps", "dropped_missing");
	mpseq_i64(result, "dropped", (int64_t)dropped);
	mpseq_i64(result, "kept", (int64_t)rows->nrows);
	mpseq_map(&by);
	for (int c = 0; c < ncols; c++)
		mpseq_i64(&by, cols[c], (int64_t)count[c]);
	mpseq_take(result, "missing_by_column", &by);
	free(cols);
	free(count);
	free(keep);
}

static void
fit_and_write(const fitps_opts *o, const cli_common *cli)
{
	stage_input si;
	stream_head *h;
	design d;
	logit_fit fit;
	uint8_t *t;
	double *X, *ps;
	size_t n;
	int psi;
	char *spec, why[512];
	mpseq recipe, result, dropped;
	mpseq *results[2] = { &result, &dropped };
	int nresults = 1;
	psmodel model;

	stage_open(&si, cli);
	h = si.head;
	stream_head_set_role(&h->treatment, o->treatment);
	stream_head_set_role(&h->outcome, o->outcome);
	stream_head_set_covariates(h, o->covariates);
	stage_role(h->treatment, "treatment", "-t");
	spec = covariate_spec(h);
	design_from_spec(&d, spec, &h->schema);
	stage_numeric_column(&h->schema, h->treatment, "treatment", "-t");
	if (h->outcome)
		stage_numeric_column(&h->schema, h->outcome, "outcome", "-y");
	if (table_find(&h->schema, o->ps_name) >= 0)
		die("the stream already has a column '%s' (did fitps run twice?): name "
		    "the new one with --ps-name", o->ps_name);

	stage_read_all(&si);
	if (o->drop_missing) {
		drop_missing(&si.rows, h, &d, &dropped);
		nresults = 2;
		if (!cli->quiet)
			warnx("note: --drop-missing left out %lld rows with missing values "
			    "(counted in the result dropped_missing)",
			    (long long)(stream_in_rows(si.in) - si.rows.nrows));
	}
	n = si.rows.nrows;
	t = xmalloc(n + 1);
	stage_treatment(&si.rows.cols[table_find(&si.rows, h->treatment)], n, t);
	X = xreallocarray(NULL, n ? n : 1, ((size_t)d.nterms + 1) * sizeof *X);
	design_matrix(&d, &si.rows, n, X);
	psi = table_add_column(&si.rows, o->ps_name, COL_F64, NULL, 0);
	ps = si.rows.cols[psi].data;
	if (psfit_fit(&d, &(logit_data){ .X = X, .n = n, .p = d.nterms + 1, .y = t },
	    &o->logit, &fit, ps, why, sizeof why) != 0)
		die("%s", why);

	table_add_column(&h->schema, o->ps_name, COL_F64, NULL, 0);
	stream_head_set_role(&h->ps, o->ps_name);
	mpseq_map(&recipe);
	mpseq_str(&recipe, "stage", "fitps");
	mpseq_str(&recipe, "treatment", h->treatment);
	mpseq_str(&recipe, "covariates", spec);
	if (o->logit.C > 0)
		mpseq_f64(&recipe, "l2", o->logit.C);
	else
		mpseq_nil(&recipe, "l2");
	mpseq_i64(&recipe, "max_iter", o->logit.max_iter);
	mpseq_f64(&recipe, "tol", o->logit.tol);
	mpseq_str(&recipe, "ps", o->ps_name);
	mpseq_bool(&recipe, "drop_missing", o->drop_missing);
	stream_head_add_recipe(h, &recipe);
	mpseq_free(&recipe);

	model_result(&result, &si.rows, &d, &fit, &o->logit, ps, t);
	if (o->save_model) {
		model.d = d;
		model.beta = fit.beta;
		model.treatment = h->treatment;
		model.C = o->logit.C;
		psmodel_save(&model, o->save_model);
	}
	stage_write(cli, h, &si.rows, &si.results, results, nresults);
	mpseq_free(&result);
	if (nresults == 2)
		mpseq_free(&dropped);
	logit_fit_free(&fit);
	design_free(&d);
	free(X);
	free(t);
	free(spec);
	stage_close(&si);
}

typedef struct {
	const psmodel *model;
	int psi;
	double *X;
	size_t cap;
	double lo, hi;
	size_t n;
} scorer;

static void
score_batch(table *rows, void *ctx)
{
	scorer *s = ctx;
	size_t p = (size_t)s->model->d.nterms + 1;
	double *ps = rows->cols[s->psi].data;

	if (rows->nrows > s->cap) {
		s->cap = rows->nrows;
		s->X = xreallocarray(s->X, s->cap, p * sizeof *s->X);
	}
	design_matrix(&s->model->d, rows, rows->nrows, s->X);
	logit_predict(s->X, rows->nrows, (int)p, s->model->beta, ps);
	for (size_t i = 0; i < rows->nrows; i++) {
		s->lo = fmin(s->lo, ps[i]);
		s->hi = fmax(s->hi, ps[i]);
	}
	s->n += rows->nrows;
}

/* Scoring holds one batch at a time: memory does not grow with the stream. */
static void
score_and_write(const fitps_opts *o, const cli_common *cli)
{
	stage_input si;
	stream_head *h;
	psmodel model;
	scorer s = { .lo = INFINITY, .hi = -INFINITY };
	stream_out *out;
	mpseq recipe, inline_model, result;

	psmodel_load(&model, o->model);
	stage_open(&si, cli);
	h = si.head;
	if (table_find(&h->schema, o->ps_name) >= 0)
		die("the stream already has a column '%s': name the new one with "
		    "--ps-name", o->ps_name);
	for (int k = 0; k < model.d.nterms; k++)
		for (int f = 0; f < model.d.terms[k].nfactors; f++)
			stage_column(&h->schema, model.d.terms[k].factors[f].column,
			    "model covariate", "the stream (it must have the columns "
			    "the model was fitted on)");
	stream_head_set_role(&h->treatment, model.treatment);
	stream_head_set_role(&h->treatment, o->treatment);
	stream_head_set_role(&h->outcome, o->outcome);
	stream_head_set_role(&h->ps, o->ps_name);
	table_add_column(&h->schema, o->ps_name, COL_F64, NULL, 0);
	s.model = &model;
	s.psi = table_add_column(&si.rows, o->ps_name, COL_F64, NULL, 0);
	mpseq_map(&recipe);
	mpseq_str(&recipe, "stage", "fitps");
	mpseq_str(&recipe, "ps", o->ps_name);
	mpseq_map(&inline_model);
	psmodel_pack(&model, &inline_model);
	mpseq_take(&recipe, "model", &inline_model);
	stream_head_add_recipe(h, &recipe);
	mpseq_free(&recipe);

	out = stage_stream(&si, cli, h, score_batch, &s);
	result_begin(&result, "fitps", "ps_scored");
	mpseq_str(&result, "model_file", o->model);
	mpseq_i64(&result, "n", (int64_t)s.n);
	{
		msgpack_packer *pk = mpseq_key(&result, "ps_range");

		msgpack_pack_array(pk, 2);
		mp_pack_f64(pk, s.n ? s.lo : NAN);
		mp_pack_f64(pk, s.n ? s.hi : NAN);
	}
	stream_out_map(out, &result);
	stream_out_end(out);
	mpseq_free(&result);
	free(s.X);
	psmodel_free(&model);
	stage_close(&si);
}

void
fitps_run(const fitps_opts *o, const cli_common *cli)
{
	if (o->model)
		score_and_write(o, cli);
	else
		fit_and_write(o, cli);
}
