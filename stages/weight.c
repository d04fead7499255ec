/* weight — inverse-probability weights and the weighted effect.
 *
 * Contract: needs treatment, outcome and propensity (roles set by fitps, or
 * -t/-y/--ps); adds a column w_<estimand> per estimand; makes the results
 * naive (unweighted difference) and ipw_<estimand> (Hajek estimate with its
 * standard error, effective sample size, largest weights, trimmed and
 * truncated counts). It streams, one batch in memory at a time, unless
 * --truncate or --stabilize need every row (a quantile, a share). */
#include "weight.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "design.h"
#include "err.h"
#include "ipwvar.h"
#include "mpo.h"
#include "replay.h"
#include "stage.h"
#include "xalloc.h"

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
	mpseq_nil(m, "ci");
	mpseq_i64(m, "n", (int64_t)(s->n[0] + s->n[1]));
	group_pair(m, "mean_outcome", s->mean[0], s->mean[1]);
	group_pair(m, "n_group", (double)s->n[0], (double)s->n[1]);
}

/* The sandwich's context: the propensity model the stream's ps came from
 * (the recipe's last fitps entry, a logistic fit of the same column), its
 * coefficients (the upstream ps_model), and the clusters. */
typedef struct {
	int ok;                  /* the model is known: the M-estimation SE */
	const char *why_not;     /* else why the weights are held fixed */
	design d;
	double *beta, C;
	int p;
	int cluster_col;         /* -1: none */
	const char *cluster;
	ipwvar *var[EST_COUNT + 1]; /* [EST_COUNT]: the naive difference */
	double *X;               /* a batch's model matrix */
	int64_t *cl;             /* a batch's cluster ids */
	double *half;            /* 1/2s: the naive difference's propensities */
	size_t cap, half_n;
} sandwich;

static void
sandwich_open(sandwich *sw, const weight_params *o, const stream_head *h, const table *schema)
{
	memset(sw, 0, sizeof *sw);
	sw->cluster_col = -1;
	if (o->cluster) {
		sw->cluster = o->cluster;
		sw->cluster_col = stage_column(schema, o->cluster, "cluster", "--cluster");
		if (schema->cols[sw->cluster_col].type == COL_F64)
			die("cluster column '%s' is f64: give a whole-number or categorical "
			    "column (an id)", o->cluster);
	}
	if (stage_inside_only())
		/* the model's estimating equations sum over every row, and this
		 * stage sees only those inside */
		sw->why_not = "the common support leaves rows of the propensity model's fit "
		    "out of this stage (boot's interval includes both)";
	else if (stage_ps_model(h, h->ps, schema, &sw->d, &sw->C, &sw->why_not) == 0) {
		sw->p = sw->d.nterms + 1;
		sw->beta = xcalloc((size_t)sw->p, sizeof *sw->beta);
		sw->ok = 1;
	}
	for (int e = 0, first = -1; e < EST_COUNT; e++)
		if (sw->ok && o->estimands[e]) {
			/* the first estimand's sums the logit block for all */
			sw->var[e] = first < 0 ? ipwvar_new((estimand)e, sw->p) :
			    ipwvar_new_sharing((estimand)e, sw->var[first]);
			first = first < 0 ? e : first;
		}
	if (sw->cluster)
		sw->var[EST_COUNT] = ipwvar_new(EST_ATE, 1);
}

/* Once the upstream results are in: a penalised fit's coefficients (its
 * penalty enters the sandwich), from fitps's ps_model. */
static void
sandwich_finish(sandwich *sw, const rawlist *results)
{
	msgpack_unpacked r;
	int found = 0;

	if (!sw->ok || !(sw->C > 0))
		return;
	msgpack_unpacked_init(&r);
	for (int i = results->n - 1; i >= 0 && !found; i--) {
		const msgpack_object *terms;

		msgpack_unpacked_destroy(&r); /* the result before */
		mpraw_unpack(&results->items[i], &r);
		if (!mpo_is_str(mpo_get(&r.data, "name"), "ps_model"))
			continue;
		terms = mpo_get(&r.data, "terms");
		found = terms && terms->type == MSGPACK_OBJECT_ARRAY &&
		    terms->via.array.size == (uint32_t)sw->p;
		for (int k = 0; found && k < sw->p; k++)
			found = mpo_number(mpo_get(&terms->via.array.ptr[k], "coef"), &sw->beta[k]) == 0;
	}
	msgpack_unpacked_destroy(&r);
	if (!found) {
		sw->ok = 0;
		sw->why_not = "the penalised fit's coefficients (fitps's ps_model) are not in the "
		    "stream";
	}
}

/* A batch's (or all rows') sums; w[e] the estimands' weights, scale the
 * stabilisation's per group (NULL: none). */
static void
sandwich_add(sandwich *sw, const table *rows, size_t n, const uint8_t *t, const double *ps,
    const double *y, double *const *w, const double *scale, const double *ones)
{
	char why[512];

	if (!sw->ok && !sw->cluster)
		return;
	if (n > sw->cap) {
		sw->cap = n;
		sw->X = xreallocarray(sw->X, n, (size_t)(sw->p > 0 ? sw->p : 1) * sizeof *sw->X);
		sw->cl = xreallocarray(sw->cl, n, sizeof *sw->cl);
		sw->half = xreallocarray(sw->half, n, sizeof *sw->half);
	}
	if (sw->cluster) {
		const column *c = &rows->cols[table_find(rows, sw->cluster)];

		for (size_t i = 0; i < n; i++) {
			if (column_is_missing(c, i))
				die("cluster column '%s' is missing at %s", sw->cluster, stage_row(i));
			sw->cl[i] = c->type == COL_CAT ? ((const int32_t *)c->data)[i] :
			    c->type == COL_BOOL ? ((const uint8_t *)c->data)[i] :
			    ((const int64_t *)c->data)[i];
		}
		/* the naive difference: fixed weights of 1 (never a formula's: its
		 * propensity of 1/2 would weigh 2), an intercept-only X */
		for (size_t i = sw->half_n; i < n; i++)
			sw->half[i] = 0.5;
		sw->half_n = n > sw->half_n ? n : sw->half_n;
		ipwvar_add(sw->var[EST_COUNT], ones, n, t, sw->half, y, ones, NULL, sw->cl);
	}
	if (!sw->ok)
		return;
	if (design_matrix(&sw->d, rows, n, sw->X, why, sizeof why) != 0)
		die("the sandwich SE: %s", why);
	for (int e = 0; e < EST_COUNT; e++)
		if (sw->var[e])
			ipwvar_add(sw->var[e], sw->X, n, t, ps, y, w[e], e == EST_ATE ? scale : NULL,
			    sw->cluster ? sw->cl : NULL);
}

/* The SE fields of a result: se (the sandwich, clustered with --cluster),
 * se_method, and the weights-held-fixed SE beside it. */
static void
sandwich_fields(mpseq *m, const sandwich *sw, ipwvar *var, double se_fixed, int naive)
{
	double se;
	size_t clusters;

	if (naive) {
		if (sw->cluster && ipwvar_se(var, NULL, 0, 1, &se, &clusters) == 0) {
			mpseq_f64(m, "se", se);
			mpseq_f64(m, "se_unclustered", se_fixed);
			mpseq_str(m, "se_method", "cluster-robust");
			mpseq_str(m, "cluster", sw->cluster);
			mpseq_i64(m, "clusters", (int64_t)clusters);
		} else
			mpseq_f64(m, "se", se_fixed);
		return;
	}
	if (sw->ok && var && ipwvar_se(var, sw->beta, sw->C, sw->cluster != NULL, &se,
	    &clusters) == 0) {
		mpseq_f64(m, "se", se);
		mpseq_f64(m, "se_fixed_weights", se_fixed);
		mpseq_str(m, "se_method", sw->cluster ? "M-estimation, cluster-robust (the "
		    "propensity model's estimation included)" : "M-estimation (the propensity "
		    "model's estimation included: Lunceford & Davidian 2004)");
		if (sw->cluster) {
			mpseq_str(m, "cluster", sw->cluster);
			mpseq_i64(m, "clusters", (int64_t)clusters);
		}
		return;
	}
	mpseq_f64(m, "se", se_fixed);
	mpseq_str(m, "se_method", "weights held fixed");
	mpseq_str(m, "se_why", sw->why_not);
}

static void
sandwich_free(sandwich *sw)
{
	for (int e = 0; e <= EST_COUNT; e++)
		ipwvar_free(sw->var[e]);
	design_free(&sw->d);
	free(sw->beta), free(sw->X), free(sw->cl), free(sw->half);
}

/* Each group's effective sample size as a share of its units, with a
 * warning when the weights leave a group with less than a fifth. */
static void
ess_share(mpseq *m, estimand e, const ipw_summary *s, int quiet)
{
	double share[2];

	for (int g = 0; g < 2; g++)
		share[g] = s->n[g] ? s->ess[g] / (double)s->n[g] : 0;
	group_pair(m, "ess_share", share[0], share[1]);
	for (int g = 0; g < 2; g++)
		if (!quiet && share[g] < ESS_WARN)
			err_warn("warning: under w_%s the %s' effective sample size is %.0f of "
			    "%zu (%.1f%%): a few units carry the estimate; look at the weights "
			    "(--trim auto, a better model)", estimand_name(e),
			    g ? "treated" : "controls", s->ess[g], s->n[g], 100 * share[g]);
}

static void
naive_result(mpseq *m, const ipw_summary *s, const pshist *hist, const sandwich *sw,
    const stage_outcomes *outs, int k)
{
	stage_result_begin(m, "weight", "naive", outs, k);
	estimate_fields(m, "naive", s);
	sandwich_fields(m, sw, sw->var[EST_COUNT], s->se, 1);
	stage_ps_hist(m, hist);
}

static void
ipw_result(mpseq *m, const weight_params *o, const ipw_opts *used, estimand e,
    const ipw_summary *s, const size_t trimmed[2], size_t capped,
    const ipw_positivity *pos, const pshist *hist, const sandwich *sw, int quiet,
    const stage_outcomes *outs, int k)
{
	char col[16], name[16];

	ipw_summary kept = *s; /* n: the units --trim left in */

	for (int g = 0; g < 2; g++)
		kept.n[g] -= trimmed[g];
	s = &kept;
	snprintf(col, sizeof col, "w_%s", estimand_name(e));
	snprintf(name, sizeof name, "ipw_%s", estimand_name(e));
	stage_result_begin(m, "weight", name, outs, k);
	estimate_fields(m, estimand_name(e), s);
	sandwich_fields(m, sw, sw->var[e], s->se, 0);
	mpseq_str(m, "weight_column", col);
	group_pair(m, "ess", s->ess[0], s->ess[1]);
	group_pair(m, "sum_weight", s->sum_w[0], s->sum_w[1]);
	group_pair(m, "max_weight", s->max_w[0], s->max_w[1]);
	group_pair(m, "trimmed", (double)trimmed[0], (double)trimmed[1]);
	if (o->adjust.trim_auto) { /* the band the rule chose */
		mpseq_f64_pair(m, "trim_band", used->trim_lo, used->trim_hi > 0 ? used->trim_hi : 1);
		mpseq_str(m, "trim_rule", "crump");
	} else if (used->trim_hi > 0) { /* --trim LO,HI: for the overlap plot */
		mpseq_f64_pair(m, "trim_band", used->trim_lo, used->trim_hi);
		mpseq_str(m, "trim_rule", "fixed");
	}
	mpseq_i64(m, "truncated", (int64_t)capped);
	mpseq_bool(m, "stabilized", o->adjust.stabilize && e == EST_ATE);
	ess_share(m, e, s, quiet || k > 0); /* said once, for the first outcome */
	stage_positivity(m, pos); /* warned once, by the stage */
	stage_ps_hist(m, hist);
}

_Noreturn static void
die_infinite(estimand e, size_t row, int treated, double ps)
{
	die("the %s unit at %s has a propensity of %g, so its %s weight is infinite: "
	    "exclude such units with --trim (e.g. --trim 0.01,0.99)",
	    treated ? "treated" : "control", stage_row(row), ps, estimand_name(e));
}

_Noreturn static void
die_zero_weight(estimand e, const ipw_summary *s)
{
	die("ipw_%s: every %s unit has weight 0 (all trimmed?): widen --trim",
	    estimand_name(e), s->sum_w[1] > 0 ? "control" : "treated");
}

/* --trim sets the common support for the stages after (stage.h): the
 * column in_support, added with its role unless an earlier rule made it
 * (whose rows outside this stage does not see). Returns its column in
 * rows, or -1 without --trim. */
static int
support_column(const weight_params *o, stage_input *si)
{
	stream_head *h = si->head;
	int c;

	if (!o->adjust.trim_auto && !(o->adjust.trim_hi > 0))
		return -1;
	if (h->support)
		return table_find(&si->rows, h->support);
	if (table_find(&h->schema, STAGE_SUPPORT_COLUMN) >= 0)
		die("the stream has a column '%s' but no common support: weight --trim would "
		    "make that column", STAGE_SUPPORT_COLUMN);
	c = table_add_column(&si->rows, STAGE_SUPPORT_COLUMN, COL_BOOL, NULL, 0);
	table_add_column(&h->schema, STAGE_SUPPORT_COLUMN, COL_BOOL, NULL, 0);
	stream_head_set_role(&h->support, STAGE_SUPPORT_COLUMN);
	return c;
}

/* The rows --trim leaves in (ps in the band used) are inside; the others
 * are listed (--dropped), rows numbered from row0 as the stage sees them. */
static void
mark_support(table *rows, int col, const double *ps, size_t n, size_t row0,
    const ipw_opts *used, stage_dropped *list)
{
	uint8_t *in = rows->cols[col].data;
	char why[128];

	snprintf(why, sizeof why, "trimmed: ps not in [%.15g, %.15g]", used->trim_lo,
	    used->trim_hi);
	for (size_t i = 0; i < n; i++) {
		in[i] = !(used->trim_hi > 0 && (ps[i] < used->trim_lo || ps[i] > used->trim_hi));
		if (!in[i])
			stage_dropped_row(list, rows, i, stage_stream_row(row0 + i), why);
	}
}

/* --truncate and --stabilize need every row (a quantile, a share). */
static void
weight_all_rows(const weight_params *o, const cli_common *cli, stage_input *si,
    const int *wcol, int support_col, stage_dropped *dropped, const stage_outcomes *outs)
{
	stage_arrays a;
	int K = outs->n, per = EST_COUNT + 1;
	mpseq *results = xcalloc((size_t)K * (size_t)per, sizeof *results);
	mpseq **list = xcalloc((size_t)K * (size_t)per, sizeof *list);
	int nresults = 0;
	double *ones, *w[EST_COUNT] = { NULL }, scale[2], share1 = 0, *y;
	ipw_summary s0, s[EST_COUNT];
	ipw_opts used;
	ipw_positivity pos;
	pshist hist0, hist[EST_COUNT];
	size_t trimmed[EST_COUNT][2], capped[EST_COUNT];

	stage_read_all(si);
	stage_arrays_get(si, NULL, NULL, NULL, 1, &a);
	ones = xreallocarray(NULL, a.n + 1, sizeof *ones);
	for (size_t i = 0; i < a.n; i++) {
		ones[i] = 1;
		share1 += a.t[i];
	}
	share1 = a.n ? share1 / (double)a.n : 0;
	scale[0] = 1 - share1, scale[1] = share1;
	pshist_init(&hist0);
	pshist_add(&hist0, a.t, a.ps, NULL, a.n);
	used = ipw_resolve(&o->adjust, a.ps, NULL, a.n);
	ipw_positivity_init(&pos, o->band[0], o->band[1]);
	ipw_positivity_add(&pos, a.t, a.ps, NULL, a.n);
	stage_positivity_warn(&pos, cli->quiet);
	/* the weights: one set, whatever the outcome */
	for (int e = 0; e < EST_COUNT; e++) {
		size_t bad;

		if (!o->estimands[e])
			continue;
		w[e] = si->rows.cols[wcol[e]].data;
		if (ipw_adjusted_weights(&used, (estimand)e, a.t, a.ps, NULL, a.n, w[e], trimmed[e],
		    &capped[e], &bad) != 0)
			die_infinite((estimand)e, bad, a.t[bad], a.ps[bad]);
		pshist_init(&hist[e]);
		pshist_add(&hist[e], a.t, a.ps, w[e], a.n);
	}
	if (support_col >= 0)
		mark_support(&si->rows, support_col, a.ps, a.n, 0, &used, dropped);
	y = xreallocarray(NULL, a.n + 1, sizeof *y);
	for (int k = 0; k < K; k++) {
		sandwich sw;

		if (k == 0)
			memcpy(y, a.y, a.n * sizeof *y);
		else
			stage_finite(&si->rows.cols[outs->cols[k]], a.n, y, "outcome");
		ipw_effect(ones, a.t, y, a.n, &s0);
		for (int e = 0; e < EST_COUNT; e++)
			if (o->estimands[e] && ipw_effect(w[e], a.t, y, a.n, &s[e]) != 0)
				die_zero_weight((estimand)e, &s[e]);
		sandwich_open(&sw, o, si->head, &si->rows);
		sandwich_add(&sw, &si->rows, a.n, a.t, a.ps, y, w,
		    o->adjust.stabilize ? scale : NULL, ones);
		sandwich_finish(&sw, &si->results);
		naive_result(&results[nresults], &s0, &hist0, &sw, outs, k);
		list[nresults] = &results[nresults];
		nresults++;
		for (int e = 0; e < EST_COUNT; e++) {
			if (!o->estimands[e])
				continue;
			ipw_result(&results[nresults], o, &used, (estimand)e, &s[e], trimmed[e],
			    capped[e], &pos, &hist[e], &sw, cli->quiet, outs, k);
			list[nresults] = &results[nresults];
			nresults++;
		}
		sandwich_free(&sw);
	}
	stage_write(cli, si->head, &si->rows, &si->results, list, nresults);
	for (int i = 0; i < nresults; i++)
		mpseq_free(&results[i]);
	free(results);
	free(list);
	free(ones);
	free(y);
	stage_arrays_free(&a);
}

/* Streaming: sums per estimand, one batch in memory at a time. Problems
 * are noted as they are met and reported at the end with the same
 * messages (and counts) as when all rows are held. */
typedef struct {
	const weight_params *o;
	const int *wcol;
	int ti, yi, pi;
	int support_col;        /* --trim's in_support, or -1 */
	stage_dropped *list;    /* --dropped */
	ipw_accum acc[EST_COUNT + 1]; /* [EST_COUNT]: the naive difference */
	pshist hist[EST_COUNT + 1];
	size_t trimmed[EST_COUNT][2];
	uint8_t *t;
	double *y, *ps, *ones;
	size_t cap;
	treatment_check tcheck;
	finite_check y_check, ps_check;
	ipw_positivity pos;
	size_t range_row, inf_row[EST_COUNT];
	double range_value, inf_ps[EST_COUNT];
	int inf_treated[EST_COUNT];
	int failed;
	sandwich sw;
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
	pshist_add(&ws->hist[EST_COUNT], ws->t, ws->ps, NULL, n);
	ipw_positivity_add(&ws->pos, ws->t, ws->ps, NULL, n);
	for (int e = 0; e < EST_COUNT; e++) {
		size_t trimmed[2], capped, bad;
		double *w = rows->cols[ws->wcol[e] >= 0 ? ws->wcol[e] : 0].data;

		if (!ws->o->estimands[e])
			continue;
		if (ipw_adjusted_weights(&ws->o->adjust, (estimand)e, ws->t, ws->ps, NULL, n, w, trimmed,
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
		pshist_add(&ws->hist[e], ws->t, ws->ps, w, n);
	}
	if (!ws->failed && ws->support_col >= 0)
		mark_support(rows, ws->support_col, ws->ps, n, row0, &ws->o->adjust, ws->list);
	if (!ws->failed) {
		double *w[EST_COUNT] = { NULL };

		for (int e = 0; e < EST_COUNT; e++)
			if (ws->o->estimands[e])
				w[e] = rows->cols[ws->wcol[e]].data;
		sandwich_add(&ws->sw, rows, n, ws->t, ws->ps, ws->y, w, NULL, ws->ones);
	}
}

static void
weight_streaming(const weight_params *o, const cli_common *cli, stage_input *si,
    const int *wcol, int ti, int yi, int pi, int support_col, stage_dropped *list)
{
	weight_stream ws = { .o = o, .wcol = wcol, .ti = ti, .yi = yi, .pi = pi,
		.support_col = support_col, .list = list, .range_row = NONE };
	stream_out *out;
	ipw_summary s;
	mpseq m;
	const stream_head *h = si->head;

	for (int e = 0; e <= EST_COUNT; e++) {
		ipw_accum_init(&ws.acc[e]);
		pshist_init(&ws.hist[e]);
	}
	for (int e = 0; e < EST_COUNT; e++)
		ws.inf_row[e] = NONE;
	treatment_check_init(&ws.tcheck);
	ipw_positivity_init(&ws.pos, o->band[0], o->band[1]);
	sandwich_open(&ws.sw, o, h, &si->rows);
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
	sandwich_finish(&ws.sw, &si->results);
	naive_result(&m, &s, &ws.hist[EST_COUNT], &ws.sw, NULL, 0);
	stream_out_map(out, &m);
	mpseq_free(&m);
	stage_positivity_warn(&ws.pos, cli->quiet);
	for (int e = 0; e < EST_COUNT; e++) {
		if (!o->estimands[e])
			continue;
		if (ipw_accum_finish(&ws.acc[e], &s) != 0)
			die_zero_weight((estimand)e, &s);
		ipw_result(&m, o, &o->adjust, (estimand)e, &s, ws.trimmed[e], 0, &ws.pos,
		    &ws.hist[e], &ws.sw, cli->quiet, NULL, 0);
		stream_out_map(out, &m);
		mpseq_free(&m);
	}
	stream_out_end(out);
	sandwich_free(&ws.sw);
	free(ws.t);
	free(ws.y);
	free(ws.ps);
	free(ws.ones);
}

/* The column of each estimand: w_ate, ... */
static const char *const weight_columns[EST_COUNT] = {
	[EST_ATE] = "w_ate", [EST_ATT] = "w_att", [EST_ATC] = "w_atc", [EST_ATO] = "w_ato",
};

static int
weight_adds(const void *params, const char **names, int max)
{
	const weight_params *o = params;
	int n = 0;

	for (int e = 0; e < EST_COUNT && n < max; e++)
		if (o->estimands[e])
			names[n++] = weight_columns[e];
	return n;
}

static void
weight_run(const void *params, const stage_roles *roles, const cli_common *cli)
{
	const weight_params *o = params;
	stage_input si;
	stream_head *h;
	int wcol[EST_COUNT], ti, yi, pi, first, sc;
	stage_dropped list;
	stage_outcomes outs;

	stage_open(&si, cli);
	h = si.head;
	stream_head_set_role(&h->treatment, roles->treatment);
	stream_head_set_role(&h->ps, roles->ps);
	stage_outcomes_get(&si, roles->outcome, &outs);
	stage_check_roles(h);
	ti = stage_numeric_column(&si.rows, stage_role(h->treatment, "treatment", "-t"),
	    "treatment", "-t");
	yi = outs.cols[0];
	pi = stage_numeric_column(&si.rows, stage_role(h->ps, "propensity (run fitps "
	    "first)", "--ps"), "propensity", "--ps");
	first = stage_claim_columns(&weight_module, o, &si.rows, &h->schema, NULL);
	for (int e = 0, k = 0; e < EST_COUNT; e++)
		wcol[e] = o->estimands[e] ? first + k++ : -1;
	sc = support_column(o, &si);
	stage_dropped_open(&list, o->dropped, o->dropped_id, &h->schema);
	stage_add_recipe(&weight_module, o, h);
	if (o->adjust.truncate_q > 0 || o->adjust.stabilize || o->adjust.trim_auto || outs.n > 1)
		weight_all_rows(o, cli, &si, wcol, sc, &list, &outs);
	else
		weight_streaming(o, cli, &si, wcol, ti, yi, pi, sc, &list);
	stage_dropped_close(&list);
	stage_outcomes_free(&outs);
	stage_input_free(&si);
}

/* The recipe entry, written and read side by side. */
static void
weight_recipe_write(const void *params, const stream_head *h, mpseq *entry)
{
	const weight_params *o = params;
	msgpack_packer *pk;
	int k = 0;

	pk = mpseq_key(entry, "estimands");
	for (int e = 0; e < EST_COUNT; e++)
		k += o->estimands[e];
	msgpack_pack_array(pk, (size_t)k);
	for (int e = 0; e < EST_COUNT; e++)
		if (o->estimands[e])
			mp_pack_cstr(pk, estimand_name((estimand)e));
	if (o->adjust.trim_auto)
		mpseq_str(entry, "trim", "auto");
	else if (o->adjust.trim_hi > 0)
		mpseq_f64_pair(entry, "trim", o->adjust.trim_lo, o->adjust.trim_hi);
	else
		mpseq_nil(entry, "trim");
	if (o->adjust.truncate_q > 0)
		mpseq_f64(entry, "truncate", o->adjust.truncate_q);
	else
		mpseq_nil(entry, "truncate");
	mpseq_bool(entry, "stabilize", o->adjust.stabilize);
	recipe_write_roles(entry, h);
}

static int
weight_recipe_read(void *params, const msgpack_object *e, char *why, size_t whylen)
{
	weight_params *o = params;
	const msgpack_object *list = mpo_get(e, "estimands"), *trim = mpo_get(e, "trim");

	memset(o, 0, sizeof *o);
	o->band[0] = POSITIVITY_LO;
	o->band[1] = POSITIVITY_HI;
	if (list == NULL || list->type != MSGPACK_OBJECT_ARRAY || list->via.array.size == 0) {
		snprintf(why, whylen, "the recipe's weight entry has no list of estimands");
		return -1;
	}
	for (uint32_t i = 0; i < list->via.array.size; i++) {
		char *name = mpo_strdup(&list->via.array.ptr[i]);
		estimand est;
		int known = name && estimand_parse(name, &est) == 0;

		free(name);
		if (!known) {
			snprintf(why, whylen, "the recipe's weight entry names an unknown estimand");
			return -1;
		}
		o->estimands[est] = 1;
	}
	if (mpo_is_str(trim, "auto"))
		o->adjust.trim_auto = 1;
	else if (trim && trim->type != MSGPACK_OBJECT_NIL) {
		if (trim->type != MSGPACK_OBJECT_ARRAY || trim->via.array.size != 2 ||
		    mpo_number(&trim->via.array.ptr[0], &o->adjust.trim_lo) != 0 ||
		    mpo_number(&trim->via.array.ptr[1], &o->adjust.trim_hi) != 0) {
			snprintf(why, whylen, "the recipe's weight entry has a 'trim' that is "
			    "not [LO, HI] or \"auto\"");
			return -1;
		}
	}
	if (recipe_get_number(e, "weight", "truncate", &o->adjust.truncate_q, why, whylen) ||
	    recipe_get_bool(e, "weight", "stabilize", &o->adjust.stabilize, why, whylen))
		return -1;
	return 0;
}

/* Replay: naive and ipw_<estimand> on a replicate. */
#define TARGET_NAIVE EST_COUNT

static int
weight_target(const void *params, const char *name)
{
	const weight_params *o = params;
	estimand e;

	if (strcmp(name, "naive") == 0)
		return TARGET_NAIVE;
	if (strncmp(name, "ipw_", 4) == 0 && estimand_parse(name + 4, &e) == 0 &&
	    o->estimands[e])
		return (int)e;
	return -1;
}

/* What a replicate's targets share: --trim auto's band, chosen once per
 * replicate (a sort of its units), and, under plain options, every
 * target's estimate, made in one pass over the cells by the first target
 * asked (ipw_estimates_cells). */
typedef struct {
	uint64_t replicate;
	ipw_opts used;
	uint64_t formed_replicate;
	int formed_status[IPW_FORMED_MAX];
	double formed[IPW_FORMED_MAX];
} weight_scratch;

static weight_scratch *
scratch_of(replay_view *v)
{
	weight_scratch **ws = (weight_scratch **)replay_view_scratch(v);

	if (*ws == NULL) {
		*ws = xcalloc(1, sizeof **ws);
		(*ws)->replicate = (*ws)->formed_replicate = replay_view_replicate(v) - 1;
	}
	return *ws;
}

static const ipw_opts *
replicate_opts(const weight_params *o, replay_view *v, const double *ps,
    const double *count, size_t n)
{
	weight_scratch *ws;

	if (!o->adjust.trim_auto)
		return &o->adjust;
	ws = scratch_of(v);
	if (ws->replicate != replay_view_replicate(v)) {
		ws->used = ipw_resolve(&o->adjust, ps, count, n);
		ws->replicate = replay_view_replicate(v);
	}
	return &ws->used;
}

/* Weights as ipw_weights makes them, nothing done to them after: what
 * ipw_estimates_cells computes. */
static int
plain_weights(const weight_params *o)
{
	return !o->adjust.trim_auto && !(o->adjust.trim_hi > 0) && !(o->adjust.truncate_q > 0) &&
	    !(o->adjust.stabilize && o->estimands[EST_ATE]);
}

/* Target's estimate under plain weights: every target's made at once. */
static replicate_status
formed_estimate(const weight_params *o, int target, replay_view *v, double *out)
{
	weight_scratch *ws = scratch_of(v);
	int k = 0, status;

	if (ws->formed_replicate != replay_view_replicate(v)) {
		const replay_cells *c = replay_view_cells(v);
		estimand e[IPW_FORMED_MAX];
		double est[IPW_FORMED_MAX];
		int st[IPW_FORMED_MAX];

		e[k++] = EST_COUNT; /* TARGET_NAIVE */
		for (int q = 0; q < EST_COUNT; q++)
			if (o->estimands[q])
				e[k++] = (estimand)q;
		ipw_estimates_cells(e, k, c->t, c->ps, c->count, c->ysum, c->n, est, st);
		for (int q = 0; q < k; q++) { /* each in its target's place */
			ws->formed[e[q]] = est[q];
			ws->formed_status[e[q]] = st[q];
		}
		ws->formed_replicate = replay_view_replicate(v);
	}
	status = ws->formed_status[target];
	*out = ws->formed[target];
	return status == 0 ? REPLICATE_OK : status == IPW_INFINITE_WEIGHT ?
	    REPLICATE_INFINITE_WEIGHT : REPLICATE_ZERO_WEIGHT;
}

static replicate_status
weight_estimate(const void *params, int target, replay_view *v, double *out)
{
	const weight_params *o = params;
	const replay_cells *c = replay_view_cells(v);
	estimand e = (estimand)target;
	size_t trimmed[2], capped, bad;
	ipw_summary sum;

	if (plain_weights(o))
		return formed_estimate(o, target, v, out);
	if (target == TARGET_NAIVE)
		return ipw_estimate_cells(NULL, c->t, c->count, c->ysum, c->n, out) == 0 ?
		    REPLICATE_OK : REPLICATE_ZERO_WEIGHT;
	if (o->adjust.truncate_q > 0) { /* a quantile over units: on the rows */
		const replay_units *u = replay_view_units(v);

		if (ipw_adjusted_weights(replicate_opts(o, v, u->ps, NULL, u->n), e, u->t, u->ps,
		    NULL, u->n, u->w, trimmed, &capped, &bad) != 0)
			return REPLICATE_INFINITE_WEIGHT;
		if (ipw_effect(u->w, u->t, u->y, u->n, &sum) != 0)
			return REPLICATE_ZERO_WEIGHT;
		*out = sum.estimate;
		return REPLICATE_OK;
	}
	if (ipw_adjusted_weights(replicate_opts(o, v, c->ps, c->count, c->n), e, c->t, c->ps,
	    c->count, c->n, c->w, trimmed, &capped, &bad) != 0)
		return REPLICATE_INFINITE_WEIGHT;
	if (ipw_estimate_cells(c->w, c->t, c->count, c->ysum, c->n, out) != 0)
		return REPLICATE_ZERO_WEIGHT;
	return REPLICATE_OK;
}

/* --trim's band on a replicate (the one its estimates used), the common
 * support of the steps after. */
static int
weight_support(const void *params, replay_view *v, double band[2])
{
	const weight_params *o = params;
	const replay_cells *c;
	const ipw_opts *used;

	if (!o->adjust.trim_auto && !(o->adjust.trim_hi > 0))
		return 0;
	c = replay_view_cells(v);
	used = replicate_opts(o, v, c->ps, c->count, c->n);
	if (!(used->trim_hi > 0))
		return 0;
	band[0] = used->trim_lo;
	band[1] = used->trim_hi;
	return 1;
}

static const replay_ops weight_replay = {
	.target = weight_target,
	.estimate = weight_estimate,
	.scratch_free = free,
	.support = weight_support,
};

/* Options. */
enum { OPT_TRIM = OPT_PROGRAM_BASE, OPT_TRUNCATE, OPT_STABILIZE, OPT_BAND, OPT_CLUSTER,
	OPT_DROPPED, OPT_DROPPED_ID };

static const struct option weight_longopts[] = {
	{ "estimand", required_argument, NULL, 'e' },
	{ "trim", required_argument, NULL, OPT_TRIM },
	{ "truncate", required_argument, NULL, OPT_TRUNCATE },
	{ "stabilize", no_argument, NULL, OPT_STABILIZE },
	{ "band", required_argument, NULL, OPT_BAND },
	{ "cluster", required_argument, NULL, OPT_CLUSTER },
	{ "dropped", required_argument, NULL, OPT_DROPPED },
	{ "dropped-id", required_argument, NULL, OPT_DROPPED_ID },
	{ NULL, 0, NULL, 0 },
};

static const char weight_usage[] =
    "usage: weight [--estimand LIST] [--trim LO,HI|auto] [--truncate Q] [--stabilize]\n"
    "              [--band LO,HI] [--cluster COL] [-t COL] [-y COL] [--ps COL]\n"
    "              [stream options]\n"
    "\n"
    "Adds inverse-probability weights and estimates the effect as the\n"
    "difference of weighted (Hajek, normalised) outcome means. The SE is the\n"
    "M-estimation sandwich that includes the estimation of the propensity model\n"
    "(Lunceford & Davidian 2004; WeightIt's vcov = \"asympt\") when the stream's\n"
    "ps come from fitps's logistic model, else the weights are held fixed.\n"
    "\n"
    "  -e, --estimand LIST  comma-separated: ate, att, atc, ato (overlap);\n"
    "                       default ate. Adds columns w_ate, w_att, ...\n"
    "  --trim LO,HI         rows with ps outside [LO, HI] get weight 0 (counted),\n"
    "                       and every later stage leaves them out (the common\n"
    "                       support: column in_support, as fitps --common-support)\n"
    "  --trim auto          the band by Crump et al. (2009)'s optimal rule,\n"
    "                       chosen on the data (and on each bootstrap resample)\n"
    "  --truncate Q         cap each group's weights at their Q-quantile\n"
    "  --stabilize          multiply ATE weights by the share of their group\n"
    "  --band LO,HI         positivity check: report the share of each group with\n"
    "                       ps outside [LO, HI] and warn past 2% (default 0.05,0.95)\n"
    "  --cluster COL        cluster-robust SEs: units of one COL value (a workspace)\n"
    "                       are not independent\n"
    "  --dropped FILE       list the rows --trim leaves out as CSV (row, line,\n"
    "                       reason; the stream's rows from 0)\n"
    "  --dropped-id COL     add this column's values (a user id) to the list\n"
    "  -t, -y, --ps COL     override the treatment, outcome, propensity roles\n"
    "  -y A,B               several outcomes: the results for each, B's named NAME.B\n"
    "                       (the first stays the outcome role)\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  gen | fitps -t opt_in_agent_mode -y task_completed \\\n"
    "      -x engagement_tier,query_confidence | weight --estimand ate,att | report\n";

static void
weight_finish(void *params, const stage_roles *roles)
{
	const weight_params *o = params;

	(void)roles;
	if (o->dropped_id && !o->dropped)
		die_usage("--dropped-id names the rows of --dropped: give --dropped FILE too");
	if (o->dropped && !o->adjust.trim_auto && !(o->adjust.trim_hi > 0))
		die_usage("--dropped lists the rows --trim leaves out: give --trim");
}

static void
weight_defaults(void *params)
{
	weight_params *o = params;

	memset(o, 0, sizeof *o);
	o->estimands[EST_ATE] = 1;
	o->band[0] = POSITIVITY_LO;
	o->band[1] = POSITIVITY_HI;
}

static void
parse_estimands(weight_params *o, const char *list)
{
	char buf[256], *tok, *save;

	if (strlen(list) >= sizeof buf)
		die_usage("--estimand list too long");
	/* ATE as ate: estimands are named in capitals in every paper */
	for (size_t i = 0; list[i]; i++)
		buf[i] = (char)tolower((unsigned char)list[i]);
	buf[strlen(list)] = '\0';
	memset(o->estimands, 0, sizeof o->estimands);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		estimand e;

		if (estimand_parse(tok, &e) != 0)
			die_usage("unknown estimand '%s' (ate, att, atc or ato)", tok);
		o->estimands[e] = 1;
	}
}

static void
weight_option(void *params, int opt, const char *arg)
{
	weight_params *o = params;

	switch (opt) {
	case 'e': parse_estimands(o, arg); break;
	case OPT_TRIM:
		o->adjust.trim_auto = strcmp(arg, "auto") == 0;
		if (!o->adjust.trim_auto)
			cli_band("--trim", arg, &o->adjust.trim_lo, &o->adjust.trim_hi);
		break;
	case OPT_BAND: cli_band("--band", arg, &o->band[0], &o->band[1]); break;
	case OPT_CLUSTER: o->cluster = arg; break;
	case OPT_DROPPED: o->dropped = arg; break;
	case OPT_DROPPED_ID: o->dropped_id = arg; break;
	case OPT_TRUNCATE:
		o->adjust.truncate_q = cli_double("--truncate", arg, 0.5, 1);
		break;
	case OPT_STABILIZE: o->adjust.stabilize = 1; break;
	}
}

/* The options that make the entry again (cmdline.h). */
static int
weight_command(const void *params, const void *defaults, cmdline *cmd)
{
	const weight_params *o = params;
	char list[64] = "";

	(void)defaults;
	for (int e = 0; e < EST_COUNT; e++)
		if (o->estimands[e])
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
			    list[0] ? "," : "", estimand_name((estimand)e));
	if (strcmp(list, "ate") != 0)
		cmdline_opt(cmd, "-e", list);
	if (o->adjust.trim_auto)
		cmdline_opt(cmd, "--trim", "auto");
	else if (o->adjust.trim_hi > 0)
		cmdline_num_pair(cmd, "--trim", o->adjust.trim_lo, o->adjust.trim_hi);
	if (o->adjust.truncate_q > 0)
		cmdline_num(cmd, "--truncate", o->adjust.truncate_q);
	if (o->adjust.stabilize)
		cmdline_word(cmd, "--stabilize");
	return 0;
}

const stage_module weight_module = {
	.name = "weight",
	.usage = weight_usage,
	.shortopts = "e:",
	.role_options = ROLE_TREATMENT | ROLE_OUTCOME | ROLE_PS,
	.longopts = weight_longopts,
	.params_size = sizeof(weight_params),
	.defaults = weight_defaults,
	.option = weight_option,
	.recipe_write = weight_recipe_write,
	.recipe_read = weight_recipe_read,
	.command = weight_command,
	.adds = weight_adds,
	.finish = weight_finish,
	.run = weight_run,
	.replay = &weight_replay,
};
