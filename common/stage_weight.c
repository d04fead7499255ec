#include "stage_weight.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "stage.h"

int
weight_compute(const weight_opts *o, estimand e, const uint8_t *t, const double *ps,
    const double *count, size_t n, double *w, size_t trimmed[2], size_t *capped,
    size_t *bad_row)
{
	double share1 = 0;

	if (count && o->truncate_q > 0)
		die("internal error: weight_compute cannot truncate cells");
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

static void
group_pair(mpseq *m, const char *key, double control, double treated)
{
	mpseq g;

	mpseq_map(&g);
	mpseq_f64(&g, "treated", treated);
	mpseq_f64(&g, "control", control);
	mpseq_take(m, key, &g);
}

static void
estimate_fields(mpseq *m, const char *estimand, const ipw_summary *s)
{
	mpseq_str(m, "estimand", estimand);
	mpseq_f64(m, "estimate", s->estimate);
	mpseq_f64(m, "se", s->se);
	mpseq_nil(m, "ci");
	mpseq_i64(m, "n", (int64_t)(s->n[0] + s->n[1]));
	group_pair(m, "mean_outcome", s->mean[0], s->mean[1]);
	group_pair(m, "n_group", (double)s->n[0], (double)s->n[1]);
}

static void
naive_result(mpseq *m, const ipw_summary *s)
{
	result_begin(m, "weight", "naive");
	estimate_fields(m, "naive", s);
}

static void
ipw_result(mpseq *m, const weight_opts *o, estimand e, const ipw_summary *s,
    const size_t trimmed[2], size_t capped)
{
	char col[16], name[16];

	snprintf(col, sizeof col, "w_%s", estimand_name(e));
	snprintf(name, sizeof name, "ipw_%s", estimand_name(e));
	result_begin(m, "weight", name);
	estimate_fields(m, estimand_name(e), s);
	mpseq_str(m, "weight_column", col);
	group_pair(m, "ess", s->ess[0], s->ess[1]);
	group_pair(m, "sum_weight", s->sum_w[0], s->sum_w[1]);
	group_pair(m, "max_weight", s->max_w[0], s->max_w[1]);
	group_pair(m, "trimmed", (double)trimmed[0], (double)trimmed[1]);
	mpseq_i64(m, "truncated", (int64_t)capped);
	mpseq_bool(m, "stabilized", o->stabilize && e == EST_ATE);
}

_Noreturn static void
die_infinite(estimand e, size_t row, int treated, double ps)
{
	die("row %zu (%s) has a propensity of %g, so its %s weight is infinite: "
	    "exclude such units with --trim (e.g. --trim 0.01,0.99)", row,
	    treated ? "treated" : "control", ps, estimand_name(e));
}

_Noreturn static void
die_zero_weight(estimand e, const ipw_summary *s)
{
	die("ipw_%s: every %s unit has weight 0 (all trimmed?): widen --trim",
	    estimand_name(e), s->sum_w[1] > 0 ? "control" : "treated");
}

static void
add_recipe(stream_head *h, const weight_opts *o)
{
	mpseq recipe;
	msgpack_packer *pk;
	int k = 0;

	mpseq_map(&recipe);
	mpseq_str(&recipe, "stage", "weight");
	pk = mpseq_key(&recipe, "estimands");
	for (int e = 0; e < EST_COUNT; e++)
		k += o->estimands[e];
	msgpack_pack_array(pk, (size_t)k);
	for (int e = 0; e < EST_COUNT; e++)
		if (o->estimands[e])
			mp_pack_cstr(pk, estimand_name((estimand)e));
	if (o->trim_hi > 0) {
		pk = mpseq_key(&recipe, "trim");
		msgpack_pack_array(pk, 2);
		msgpack_pack_double(pk, o->trim_lo);
		msgpack_pack_double(pk, o->trim_hi);
	} else
		mpseq_nil(&recipe, "trim");
	if (o->truncate_q > 0)
		mpseq_f64(&recipe, "truncate", o->truncate_q);
	else
		mpseq_nil(&recipe, "truncate");
	mpseq_bool(&recipe, "stabilize", o->stabilize);
	mpseq_str(&recipe, "treatment", h->treatment);
	mpseq_str(&recipe, "outcome", h->outcome);
	mpseq_str(&recipe, "ps", h->ps);
	stream_head_add_recipe(h, &recipe);
	mpseq_free(&recipe);
}

/* --truncate and --stabilize need every row (a quantile, a share). */
static void
weight_all_rows(const weight_opts *o, const cli_common *cli, stage_input *si,
    const int *wcol)
{
	stage_arrays a;
	mpseq results[EST_COUNT + 1], *list[EST_COUNT + 1];
	int nresults = 0;
	double *ones;
	ipw_summary s;

	stage_read_all(si);
	stage_arrays_get(si, NULL, NULL, NULL, 1, &a);
	ones = xreallocarray(NULL, a.n + 1, sizeof *ones);
	for (size_t i = 0; i < a.n; i++)
		ones[i] = 1;
	ipw_effect(ones, a.t, a.y, a.n, &s);
	free(ones);
	naive_result(&results[nresults], &s);
	list[nresults] = &results[nresults];
	nresults++;
	for (int e = 0; e < EST_COUNT; e++) {
		size_t trimmed[2], capped, bad;
		double *w;

		if (!o->estimands[e])
			continue;
		w = si->rows.cols[wcol[e]].data;
		if (weight_compute(o, (estimand)e, a.t, a.ps, NULL, a.n, w, trimmed, &capped,
		    &bad) != 0)
			die_infinite((estimand)e, bad, a.t[bad], a.ps[bad]);
		if (ipw_effect(w, a.t, a.y, a.n, &s) != 0)
			die_zero_weight((estimand)e, &s);
		ipw_result(&results[nresults], o, (estimand)e, &s, trimmed, capped);
		list[nresults] = &results[nresults];
		nresults++;
	}
	stage_write(cli, si->head, &si->rows, &si->results, list, nresults);
	for (int i = 0; i < nresults; i++)
		mpseq_free(&results[i]);
	stage_arrays_free(&a);
}

/* Streaming: sums per estimand, one batch in memory at a time. Problems
 * are noted as they are met and reported at the end with the same
 * messages (and counts) as when all rows are held. */
typedef struct {
	const weight_opts *o;
	const int *wcol;
	int ti, yi, pi;
	ipw_accum acc[EST_COUNT + 1]; /* [EST_COUNT]: the naive difference */
	size_t trimmed[EST_COUNT][2];
	uint8_t *t;
	double *y, *ps, *ones;
	size_t cap;
	treatment_check tcheck;
	finite_check y_check, ps_check;
	size_t range_row, inf_row[EST_COUNT];
	double range_value, inf_ps[EST_COUNT];
	int inf_treated[EST_COUNT];
	int failed;
} weight_stream;

#define NONE SIZE_MAX

static void
weight_batch(table *rows, void *ctx)
{
	weight_stream *ws = ctx;
	size_t n = rows->nrows, row0 = ws->tcheck.rows;

	if (n > ws->cap) {
		ws->cap = n;
		ws->t = xrealloc(ws->t, n);
		ws->y = xreallocarray(ws->y, n, sizeof *ws->y);
		ws->ps = xreallocarray(ws->ps, n, sizeof *ws->ps);
		ws->ones = xreallocarray(ws->ones, n, sizeof *ws->ones);
		for (size_t r = 0; r < n; r++)
			ws->ones[r] = 1;
	}
	ws->failed |= treatment_check_batch(&ws->tcheck, &rows->cols[ws->ti], n, ws->y, ws->t);
	column_to_f64(&rows->cols[ws->yi], n, ws->y);
	column_to_f64(&rows->cols[ws->pi], n, ws->ps);
	ws->failed |= finite_check_batch(&ws->y_check, ws->y, n, row0);
	ws->failed |= finite_check_batch(&ws->ps_check, ws->ps, n, row0);
	for (size_t r = 0; r < n && ws->range_row == NONE; r++)
		if (ws->ps[r] < 0 || ws->ps[r] > 1)
			ws->range_row = row0 + r, ws->range_value = ws->ps[r];
	ws->failed |= ws->range_row != NONE;
	if (ws->failed) /* the run ends in an error: only the checks go on */
		return;
	ipw_accum_add(&ws->acc[EST_COUNT], ws->ones, ws->t, ws->y, n);
	for (int e = 0; e < EST_COUNT; e++) {
		size_t trimmed[2], capped, bad;
		double *w = rows->cols[ws->wcol[e] >= 0 ? ws->wcol[e] : 0].data;

		if (!ws->o->estimands[e])
			continue;
		if (weight_compute(ws->o, (estimand)e, ws->t, ws->ps, NULL, n, w, trimmed,
		    &capped, &bad) != 0) {
			if (ws->inf_row[e] == NONE) {
				ws->inf_row[e] = row0 + bad;
				ws->inf_treated[e] = ws->t[bad];
				ws->inf_ps[e] = ws->ps[bad];
			}
			ws->failed = 1;
			continue;
		}
		ws->trimmed[e][0] += trimmed[0];
		ws->trimmed[e][1] += trimmed[1];
		ipw_accum_add(&ws->acc[e], w, ws->t, ws->y, n);
	}
}

static void
weight_streaming(const weight_opts *o, const cli_common *cli, stage_input *si,
    const int *wcol, int ti, int yi, int pi)
{
	weight_stream ws = { .o = o, .wcol = wcol, .ti = ti, .yi = yi, .pi = pi,
		.range_row = NONE };
	stream_out *out;
	ipw_summary s;
	mpseq m;
	const stream_head *h = si->head;

	for (int e = 0; e <= EST_COUNT; e++)
		ipw_accum_init(&ws.acc[e]);
	for (int e = 0; e < EST_COUNT; e++)
		ws.inf_row[e] = NONE;
	treatment_check_init(&ws.tcheck);
	out = stage_stream(si, cli, h, weight_batch, &ws);
	/* the same checks, in the same order, as weight_all_rows */
	treatment_check_end(&ws.tcheck, h->treatment);
	finite_check_end(&ws.y_check, "outcome", h->outcome);
	finite_check_end(&ws.ps_check, "propensity", h->ps);
	if (ws.range_row != NONE)
		stage_die_ps_range(h->ps, ws.range_row, ws.range_value);
	for (int e = 0; e < EST_COUNT; e++)
		if (ws.inf_row[e] != NONE)
			die_infinite((estimand)e, ws.inf_row[e], ws.inf_treated[e], ws.inf_ps[e]);
	ipw_accum_finish(&ws.acc[EST_COUNT], &s);
	naive_result(&m, &s);
	stream_out_map(out, &m);
	mpseq_free(&m);
	for (int e = 0; e < EST_COUNT; e++) {
		if (!o->estimands[e])
			continue;
		if (ipw_accum_finish(&ws.acc[e], &s) != 0)
			die_zero_weight((estimand)e, &s);
		ipw_result(&m, o, (estimand)e, &s, ws.trimmed[e], 0);
		stream_out_map(out, &m);
		mpseq_free(&m);
	}
	stream_out_end(out);
	free(ws.t);
	free(ws.y);
	free(ws.ps);
	free(ws.ones);
}

void
weight_run(const weight_opts *o, const cli_common *cli)
{
	stage_input si;
	stream_head *h;
	int wcol[EST_COUNT], ti, yi, pi;

	stage_open(&si, cli);
	h = si.head;
	stream_head_set_role(&h->treatment, o->treatment);
	stream_head_set_role(&h->outcome, o->outcome);
	stream_head_set_role(&h->ps, o->ps);
	ti = stage_numeric_column(&si.rows, stage_role(h->treatment, "treatment", "-t"),
	    "treatment", "-t");
	yi = stage_numeric_column(&si.rows, stage_role(h->outcome, "outcome", "-y"),
	    "outcome", "-y");
	pi = stage_numeric_column(&si.rows, stage_role(h->ps, "propensity (run fitps "
	    "first)", "--ps"), "propensity", "--ps");
	for (int e = 0; e < EST_COUNT; e++) {
		char col[16];

		wcol[e] = -1;
		if (!o->estimands[e])
			continue;
		snprintf(col, sizeof col, "w_%s", estimand_name((estimand)e));
		if (table_find(&si.rows, col) >= 0)
			die("the stream already has a column '%s' (did weight run twice?)", col);
		wcol[e] = table_add_column(&si.rows, col, COL_F64, NULL, 0);
		table_add_column(&h->schema, col, COL_F64, NULL, 0);
	}
	add_recipe(h, o);
	if (o->truncate_q > 0 || o->stabilize)
		weight_all_rows(o, cli, &si, wcol);
	else
		weight_streaming(o, cli, &si, wcol, ti, yi, pi);
	stage_close(&si);
}
