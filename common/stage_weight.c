#include "stage_weight.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "stage.h"

int
weight_compute(const weight_opts *o, estimand e, const uint8_t *t, const double *ps,
    size_t n, double *w, size_t trimmed[2], size_t *capped, size_t *bad_row)
{
	double share1 = 0;

	trimmed[0] = trimmed[1] = 0;
	for (size_t i = 0; i < n; i++)
		share1 += t[i];
	share1 /= (double)n;
	for (size_t i = 0; i < n; i++) {
		if (o->trim_hi > 0 && (ps[i] < o->trim_lo || ps[i] > o->trim_hi)) {
			w[i] = 0;
			trimmed[t[i]]++;
			continue;
		}
		w[i] = ipw_weight(e, t[i], ps[i]);
		if (!isfinite(w[i])) {
			*bad_row = i;
			return -1;
		}
		if (o->stabilize && e == EST_ATE)
			w[i] *= t[i] ? share1 : 1 - share1;
	}
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

void
weight_run(const weight_opts *o, const cli_common *cli)
{
	stage_input si;
	stage_arrays a;
	mpseq recipe, *results[EST_COUNT + 1];
	int nresults = 0;
	double *ones;
	ipw_summary s;

	stage_open(&si, cli);
	stage_read_all(&si);
	stage_arrays_get(&si, o->treatment, o->outcome, o->ps, 1, &a);

	ones = xreallocarray(NULL, a.n + 1, sizeof *ones);
	for (size_t i = 0; i < a.n; i++)
		ones[i] = 1;
	ipw_effect(ones, a.t, a.y, a.n, &s);
	free(ones);
	results[nresults] = xmalloc(sizeof(mpseq));
	result_begin(results[nresults], "weight", "naive");
	estimate_fields(results[nresults++], "naive", &s);

	mpseq_map(&recipe);
	mpseq_str(&recipe, "stage", "weight");
	{
		msgpack_packer *pk = mpseq_key(&recipe, "estimands");
		int k = 0;

		for (int e = 0; e < EST_COUNT; e++)
			k += o->estimands[e];
		msgpack_pack_array(pk, (size_t)k);
		for (int e = 0; e < EST_COUNT; e++)
			if (o->estimands[e])
				mp_pack_cstr(pk, estimand_name((estimand)e));
	}
	if (o->trim_hi > 0) {
		msgpack_packer *pk = mpseq_key(&recipe, "trim");

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
	mpseq_str(&recipe, "treatment", si.head->treatment);
	mpseq_str(&recipe, "outcome", si.head->outcome);
	mpseq_str(&recipe, "ps", si.head->ps);
	stream_head_add_recipe(si.head, &recipe);
	mpseq_free(&recipe);

	for (int e = 0; e < EST_COUNT; e++) {
		char col[16], name[16];
		size_t trimmed[2], capped, bad;
		double *w;
		int wi;
		mpseq *m;

		if (!o->estimands[e])
			continue;
		snprintf(col, sizeof col, "w_%s", estimand_name((estimand)e));
		snprintf(name, sizeof name, "ipw_%s", estimand_name((estimand)e));
		if (table_find(&si.rows, col) >= 0)
			die("the stream already has a column '%s' (did weight run twice?)", col);
		wi = table_add_column(&si.rows, col, COL_F64, NULL, 0);
		w = si.rows.cols[wi].data; /* after the call: it may move cols */
		table_add_column(&si.head->schema, col, COL_F64, NULL, 0);
		if (weight_compute(o, (estimand)e, a.t, a.ps, a.n, w, trimmed, &capped,
		    &bad) != 0)
			die("row %zu (%s) has a propensity of %g, so its %s weight is "
			    "infinite: exclude such units with --trim (e.g. --trim "
			    "0.01,0.99)", bad, a.t[bad] ? "treated" : "control", a.ps[bad],
			    estimand_name((estimand)e));
		if (ipw_effect(w, a.t, a.y, a.n, &s) != 0)
			die("%s: every %s unit has weight 0 (all trimmed?): widen --trim",
			    name, s.sum_w[1] > 0 ? "control" : "treated");
		m = results[nresults++] = xmalloc(sizeof(mpseq));
		result_begin(m, "weight", name);
		estimate_fields(m, estimand_name((estimand)e), &s);
		mpseq_str(m, "weight_column", col);
		group_pair(m, "ess", s.ess[0], s.ess[1]);
		group_pair(m, "sum_weight", s.sum_w[0], s.sum_w[1]);
		group_pair(m, "max_weight", s.max_w[0], s.max_w[1]);
		group_pair(m, "trimmed", (double)trimmed[0], (double)trimmed[1]);
		mpseq_i64(m, "truncated", (int64_t)capped);
		mpseq_bool(m, "stabilized", o->stabilize && e == EST_ATE);
	}
	stage_write(cli, si.head, &si.rows, &si.results, results, nresults);
	for (int i = 0; i < nresults; i++) {
		mpseq_free(results[i]);
		free(results[i]);
	}
	stage_arrays_free(&a);
	stage_close(&si);
}
