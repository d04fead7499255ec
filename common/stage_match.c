#include "stage_match.h"

#include <math.h>
#include <stdlib.h>

#include "err.h"
#include "stage.h"

int
match_distance(const match_opts *o, const double *ps, const double *count, size_t n,
    double *d, double *caliper_width, size_t *bad_row)
{
	double mean = 0, ss = 0, units = 0;

	for (size_t i = 0; i < n; i++) {
		double c = count ? count[i] : 1;

		d[i] = o->on_logit ? log(ps[i] / (1 - ps[i])) : ps[i];
		if (!isfinite(d[i])) {
			*bad_row = i;
			return -1;
		}
		mean += c * d[i];
		units += c;
	}
	mean /= units;
	for (size_t i = 0; o->caliper_sd > 0 && i < n; i++)
		ss += (count ? count[i] : 1) * (d[i] - mean) * (d[i] - mean);
	/* MatchIt's std.caliper: in SDs of the distance over all units */
	*caliper_width = o->caliper_sd > 0 && units > 1 ?
	    o->caliper_sd * sqrt(ss / (units - 1)) : 0;
	return 0;
}

void
match_run(const match_opts *o, const cli_common *cli)
{
	stage_input si;
	stage_arrays a;
	nnmatch_opts nn = o->nn;
	nnmatch_result r;
	mpseq recipe, result, *results[1] = { &result };
	double *d, *w;
	size_t bad_row;
	int wi;

	stage_open(&si, cli);
	stage_read_all(&si);
	stage_arrays_get(&si, o->treatment, o->outcome, o->ps, 1, &a);
	if (table_find(&si.rows, "w_match") >= 0)
		die("the stream already has a column 'w_match' (did match run twice?)");
	d = xreallocarray(NULL, a.n + 1, sizeof *d);
	if (match_distance(o, a.ps, NULL, a.n, d, &nn.caliper, &bad_row) != 0)
		die("row %zu has a propensity of %g, whose logit is infinite: match "
		    "--on ps, or trim such units upstream", bad_row, a.ps[bad_row]);
	wi = table_add_column(&si.rows, "w_match", COL_F64, NULL, 0);
	w = si.rows.cols[wi].data;
	if (nnmatch_att(d, a.t, a.y, a.n, &nn, w, &r) != 0)
		die("no treated unit has a control within the caliper (width %g on "
		    "the %s scale): the groups do not overlap; widen --caliper or "
		    "drop it", nn.caliper, o->on_logit ? "logit" : "ps");
	if (r.treated_unmatched > 0 && !cli->quiet)
		warnx("note: %zu of %zu treated units found no control %s and are "
		    "left out (w_match = 0; counted in the result)",
		    r.treated_unmatched, r.treated_unmatched + r.treated_matched,
		    nn.replace ? "within the caliper" : "left (or within the caliper)");
	table_add_column(&si.head->schema, "w_match", COL_F64, NULL, 0);

	mpseq_map(&recipe);
	mpseq_str(&recipe, "stage", "match");
	mpseq_i64(&recipe, "k", nn.k);
	mpseq_bool(&recipe, "replace", nn.replace);
	mpseq_f64(&recipe, "caliper", o->caliper_sd > 0 ? o->caliper_sd : NAN);
	mpseq_str(&recipe, "on", o->on_logit ? "logit" : "ps");
	mpseq_str(&recipe, "ties", nn.ties == TIES_ALL ? "all" : "first");
	mpseq_str(&recipe, "treatment", si.head->treatment);
	mpseq_str(&recipe, "outcome", si.head->outcome);
	mpseq_str(&recipe, "ps", si.head->ps);
	stream_head_add_recipe(si.head, &recipe);
	mpseq_free(&recipe);

	result_begin(&result, "match", "match_att");
	mpseq_str(&result, "estimand", "att");
	mpseq_f64(&result, "estimate", r.estimate);
	mpseq_f64(&result, "se", r.se);
	mpseq_nil(&result, "ci");
	mpseq_i64(&result, "n", (int64_t)a.n);
	mpseq_str(&result, "se_method", "abadie-imbens");
	mpseq_i64(&result, "treated_matched", (int64_t)r.treated_matched);
	mpseq_i64(&result, "treated_unmatched", (int64_t)r.treated_unmatched);
	mpseq_i64(&result, "controls_used", (int64_t)r.controls_used);
	mpseq_i64(&result, "pairs", (int64_t)r.pairs);
	mpseq_i64(&result, "k", nn.k);
	mpseq_bool(&result, "replace", nn.replace);
	mpseq_str(&result, "on", o->on_logit ? "logit" : "ps");
	mpseq_str(&result, "ties", nn.ties == TIES_ALL ? "all" : "first");
	mpseq_f64(&result, "caliper_width", nn.caliper > 0 ? nn.caliper : NAN);
	mpseq_str(&result, "weight_column", "w_match");
	stage_write(cli, si.head, &si.rows, &si.results, results, 1);
	mpseq_free(&result);
	free(d);
	stage_arrays_free(&a);
	stage_close(&si);
}
