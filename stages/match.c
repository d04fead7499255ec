/* match — nearest-neighbour matching on the propensity score, for the ATT.
 *
 * Contract: needs treatment, outcome and propensity (roles, or -t/-y/--ps);
 * adds w_match (1 for a matched treated unit, a control's summed shares, 0
 * for the unmatched); makes the result match_att (estimate, Abadie-Imbens
 * SE, treated matched and unmatched, controls used). Holds every row of
 * the columns it reads (match_holds); the others wait apart, in memory up
 * to --memory-mb and then in a temporary file (stage_read_all_holding). */
#include "match.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "design.h"
#include "keyed.h"
#include "lanes.h"
#include "err.h"
#include "mpo.h"
#include "replay.h"
#include "rowgroup.h"
#include "stage.h"
#include "xalloc.h"

/* The distances and the caliper's width on their scale: C SDs of the
 * distance, or C itself with --raw-caliper. */
static int
match_distances(const match_params *o, const double *ps, const double *count, size_t n,
    double *d, double *width, size_t *bad)
{
	int rc = nnmatch_distance(o->on_logit, o->raw_caliper ? 0 : o->caliper_sd, ps, count, n,
	    d, width, bad);

	if (o->raw_caliper)
		*width = o->caliper_sd;
	return rc;
}

/* The design of a spec (fitps's syntax) for the rows, without its
 * intercept: n x q, column-major, into *X. Returns q, or -1 with why. */
static int
spec_matrix(const char *spec, const table *rows, const char *origin, double **X, char *why,
    size_t whylen)
{
	double *full;
	size_t n = rows->nrows;
	int p = stage_spec_design(spec, rows, origin, NULL, &full, why, whylen);

	if (p < 0)
		return -1;
	*X = xreallocarray(NULL, n + 1, (size_t)p * sizeof **X);
	memcpy(*X, full + n, (size_t)(p - 1) * n * sizeof *full);
	free(full);
	return p - 1;
}

/* The rows' strata (--exact: numbered by equal values of its columns, in
 * order of first appearance; NULL without) and covariates (--mahalanobis,
 * n x q). Returns 0, or -1 with why. */
static int
match_row_data(const char *exact, const char *mahal, const table *rows, int64_t **stratum,
    double **X, int *q, char *why, size_t whylen)
{
	size_t n = rows->nrows;

	*stratum = NULL;
	*X = NULL;
	*q = 0;
	if (exact) {
		double *E;
		int qe = spec_matrix(exact, rows, "--exact", &E, why, whylen);
		uint32_t *g;

		if (qe < 0)
			return -1;
		g = xreallocarray(NULL, n + 1, sizeof *g);
		if (qe > 0 && rowgroup(E, n, qe, g) == 0 && n > 0) {
			snprintf(why, whylen, "--exact: too many rows to group");
			free(E), free(g);
			return -1;
		}
		*stratum = xreallocarray(NULL, n + 1, sizeof **stratum);
		for (size_t i = 0; i < n; i++)
			(*stratum)[i] = qe > 0 ? (int64_t)g[i] : 0;
		free(E), free(g);
	}
	if (mahal) {
		if ((*q = spec_matrix(mahal, rows, "--mahalanobis", X, why, whylen)) < 0) {
			free(*stratum);
			*stratum = NULL;
			return -1;
		}
		if (*q == 0 || *q > 64) {
			snprintf(why, whylen, "--mahalanobis wants 1 to 64 covariate terms, not %d", *q);
			free(*stratum), free(*X);
			*stratum = NULL, *X = NULL;
			return -1;
		}
	}
	return 0;
}

/* The whitened covariates of n units (unit i is stream row row[i], or i
 * when row is NULL) into a new array; NULL when the covariance is
 * singular. */
static double *
whitened(const double *row_x, size_t nrows, int q, const size_t *row, const uint8_t *t,
    size_t n)
{
	double *X = xreallocarray(NULL, n + 1, (size_t)q * sizeof *X);
	double *Z = xreallocarray(NULL, n + 1, (size_t)q * sizeof *Z);

	for (int c = 0; c < q; c++)
		for (size_t i = 0; i < n; i++)
			X[(size_t)c * n + i] = row_x[(size_t)c * nrows + (row ? row[i] : i)];
	if (nnmatch_mahalanobis(X, t, n, q, Z) != 0) {
		free(Z);
		Z = NULL;
	}
	free(X);
	return Z;
}

/* --pairs FILE: one line per pair, as MatchIt's get_matches() in long form. */
static void
write_pairs(const char *path, const nnmatch_pairs *pairs, const int64_t *set,
    const table *rows, const char *id_col)
{
	FILE *f = fopen(path, "w");
	int idc = id_col ? table_find(rows, id_col) : -1;

	if (f == NULL)
		die("--pairs: cannot write %s:", path);
	if (id_col && idc < 0)
		die("--pairs-id: no column '%s' in the stream", id_col);
	fprintf(f, "match_set,treated_row,control_row,weight%s\n", idc >= 0 ?
	    ",treated_id,control_id" : "");
	for (size_t q = 0; q < pairs->n; q++) {
		size_t a = pairs->treated[q], b = pairs->control[q];

		fprintf(f, "%lld,%zu,%zu,%.17g", set ? (long long)set[a] : -1LL,
		    stage_stream_row(a), stage_stream_row(b), pairs->weight[q]);
		if (idc >= 0) {
			fputc(',', f);
			csv_write_cell(f, &rows->cols[idc], a);
			fputc(',', f);
			csv_write_cell(f, &rows->cols[idc], b);
		}
		fputc('\n', f);
	}
	if (fflush(f) != 0 || ferror(f) || fclose(f) != 0)
		die("--pairs: writing %s:", path);
}

static const char *
ties_name(ties_rule r)
{
	return r == TIES_ALL ? "all" : r == TIES_FIRST ? "first" : "matchit";
}

/* w_match, and without replacement match_set: the number of each unit's
 * matched set (its treated unit's, in matching order), for what needs the
 * pairs themselves (sensitivity's Rosenbaum bounds). */
static int
match_adds(const void *params, const char **names, int max)
{
	const match_params *o = params;
	int n = 0;

	if (n < max)
		names[n++] = "w_match";
	if (!o->nn.replace && n < max)
		names[n++] = "match_set";
	return n;
}

static int match_reads(const void *params, const char *column);

/* What match_run reads of the rows, and so holds: the roles, the
 * columns its options name, and the propensity model's (the AI 2016
 * adjustment rebuilds its design). The rest it passes on unread. */
typedef struct {
	const match_params *o;
	const stream_head *h;
	const stage_outcomes *outs;
	char *ps_spec, *covariates;
} match_holding;

static int
match_holds(const char *column, void *ctx)
{
	const match_holding *m = ctx;
	const char *named[] = { m->h->ps, m->o->pairs_id, m->o->dropped_id };

	for (size_t i = 0; i < sizeof named / sizeof *named; i++)
		if (named[i] && strcmp(named[i], column) == 0)
			return STAGE_HOLD;
	for (int k = 1; k < m->outs->n; k++)
		if (strcmp(m->outs->names[k], column) == 0)
			return STAGE_HOLD;
	if (match_reads(m->o, column) ||
	    (m->ps_spec && spec_names_column(m->ps_spec, column)) ||
	    (m->o->adjust && !m->o->adjust_formula && m->covariates &&
	    spec_names_column(m->covariates, column)))
		return STAGE_HOLD;
	/* read into 0/1 bytes and doubles (stage_arrays_get), then given back */
	if ((m->h->treatment && strcmp(m->h->treatment, column) == 0) ||
	    strcmp(m->outs->names[0], column) == 0)
		return STAGE_HOLD_ONCE;
	return STAGE_PASS;
}

static void
match_run(const void *params, const stage_roles *roles, const cli_common *cli)
{
	const match_params *o = params;
	stage_input si;
	stage_arrays a;
	nnmatch_opts nn = o->nn;
	nnmatch_result r;
	mpseq *result, *results2, **results;
	int nresults = 0;
	match_params rec = *o;
	char *owned_formula = NULL;
	const double *d;
	double *d_logit = NULL, *w, *w_col, *y, treated_mean;
	size_t bad_row;
	int wi, si_set = -1, rc;
	int64_t *set = NULL, *set_col = NULL;
	stage_outcomes outs;
	stage_writer *writer = NULL;
	nnmatch_work work = { 0 }; /* the matching's, then the adjustment's */
	match_holding hold;
	stage_spill_opts spill;

	stage_open(&si, cli);
	stream_head_set_role(&si.head->treatment, roles->treatment);
	stream_head_set_role(&si.head->ps, roles->ps);
	stage_outcomes_get(&si, roles->outcome, &outs);
	stage_check_new_columns(&match_module, o, &si.head->schema, NULL);
	hold = (match_holding){ .o = o, .h = si.head, .outs = &outs,
	    .ps_spec = stage_ps_model_spec(si.head), .covariates = stage_covariate_spec(si.head) };
	spill = (stage_spill_opts){ .memory_bytes = (size_t)(o->spill_mb * 1048576.0),
	    .dir = o->temp_dir };
	stage_read_all_holding(&si, match_holds, &hold, &spill);
	/* the outcomes' columns among those held */
	for (int k = 0; k < outs.n; k++)
		outs.cols[k] = table_find(&si.rows, outs.names[k]);
	stage_arrays_get(&si, NULL, NULL, NULL, 1, &a);
	{
		const char *once[2] = { si.head->treatment, outs.names[0] };

		for (int k = 0; k < 2; k++)
			if (match_holds(once[k], &hold) == STAGE_HOLD_ONCE)
				stage_release_column(&si, once[k]);
	}
	free(hold.ps_spec);
	free(hold.covariates);
	results = xcalloc(2 * (size_t)outs.n, sizeof *results);
	result = xcalloc(2 * (size_t)outs.n, sizeof *result);
	/* the outcome matched on: the first one's own array, a copy only when
	 * there are more to fill it with (a ten-million-row study saves 80 MB) */
	y = outs.n > 1 ? xreallocarray(NULL, a.n + 1, sizeof *y) : a.y;
	if (o->adjust) {
		/* --adjust's terms and family as resolved, for the recipe */
		if (!rec.adjust_formula && !(rec.adjust_formula = owned_formula =
		    stage_covariate_spec(si.head)))
			die("--adjust: no terms for the outcome model: give --adjust-formula (or "
			    "-x at fitps)");
		if (rec.adjust_family_auto) {
			rec.adjust_family = stage_binary(a.y, a.n) ? OUTREG_LOGISTIC : OUTREG_LINEAR;
			for (int k = 1; k < outs.n; k++) {
				stage_finite(&si.rows.cols[outs.cols[k]], a.n, y, "outcome");
				if ((stage_binary(y, a.n) ? OUTREG_LOGISTIC : OUTREG_LINEAR) !=
				    rec.adjust_family)
					die_usage("--adjust-family auto is %s for '%s' but not for '%s': "
					    "give --adjust-family (one for every outcome)",
					    outreg_family_name(rec.adjust_family), outs.names[0],
					    outs.names[k]);
			}
		}
		rec.adjust_family_auto = 0;
	}
	/* on ps, the distance is the propensity column itself */
	if (o->on_logit)
		d_logit = xreallocarray(NULL, a.n + 1, sizeof *d_logit);
	d = d_logit ? d_logit : a.ps;
	if (match_distances(o, a.ps, NULL, a.n, d_logit, &nn.caliper, &bad_row) != 0)
		die("%s has a propensity of %g, whose logit is infinite: match "
		    "--on ps, or trim such units upstream", stage_row(bad_row), a.ps[bad_row]);
	wi = table_add_column(&si.rows, "w_match", COL_F64, NULL, 0);
	if (!nn.replace)
		si_set = table_add_column(&si.rows, "match_set", COL_I64, NULL, 0);
	w_col = si.rows.cols[wi].data;
	if (si_set >= 0)
		set_col = si.rows.cols[si_set].data;
	/* the matching is the same for every outcome: its columns, the pairs,
	 * the notes and the list of the unmatched are the first outcome's */
	w = w_col;
	set = set_col;
	for (int k = 0; k < outs.n; k++) {
		int first = k == 0;

		if (k == 0) {
			if (y != a.y)
				memcpy(y, a.y, a.n * sizeof *y);
		} else {
			stage_finite(&si.rows.cols[outs.cols[k]], a.n, y, "outcome");
			if (k == 1) {
				w = xreallocarray(NULL, a.n + 1, sizeof *w);
				set = set_col ? xreallocarray(NULL, a.n + 1, sizeof *set) : NULL;
			}
		}
		treated_mean = 0;
		if (o->exact || o->mahal || o->pairs) {
			/* strata, the Mahalanobis distance, or the pairs: the general walk */
			nnmatch_problem pb = { .d = d, .t = a.t, .y = y, .n = a.n };
			nnmatch_pairs pairs;
			int64_t *stratum;
			double *X, *Z = NULL;
			char why[512];

			if (match_row_data(o->exact, o->mahal, &si.rows, &stratum, &X, &pb.q, why,
			    sizeof why) != 0)
				die("%s", why);
			if (pb.q > 0 && (Z = whitened(X, a.n, pb.q, NULL, a.t, a.n)) == NULL)
				die("--mahalanobis %s: the covariates' pooled covariance is singular (a "
				    "constant covariate, or one that is a combination of others): drop it",
				    o->mahal);
			pb.stratum = stratum;
			pb.Z = Z;
			rc = nnmatch_att_problem(&pb, &nn, w, &r, set, o->pairs && first ? &pairs : NULL);
			if (rc == 0 && o->pairs && first)
				write_pairs(o->pairs, &pairs, set, &si.rows, o->pairs_id);
			if (o->pairs && first)
				nnmatch_pairs_free(&pairs);
			free(stratum), free(X), free(Z);
		} else if (si_set >= 0)
			rc = nnmatch_att_sets(d, a.t, y, a.n, &nn, w, &r, set);
		else
			rc = nnmatch_att(d, a.t, y, a.n, &nn, w, &r, &work);
		for (size_t i = 0; set && i < a.n; i++)
			if (set[i] < 0)
				set[i] = I64_MISSING; /* unmatched */
		if (k == outs.n - 1) {
			/* the last matching done: the logits' pages go back before the
			 * adjustment takes its own */
			free(d_logit);
			d = d_logit = NULL;
		}
		if (rc != 0)
			die("no treated unit has a control within the caliper (width %g on "
			    "the %s scale): the groups do not overlap; widen --caliper or "
			    "drop it", nn.caliper, o->on_logit ? "logit" : "ps");
		if (r.treated_unmatched > 0 && !cli->quiet && first)
			err_warn("note: %zu of %zu treated units found no control %s and are "
			    "left out (w_match = 0; counted in the result)",
			    r.treated_unmatched, r.treated_unmatched + r.treated_matched,
			    nn.replace ? "within the caliper" : "left (or within the caliper)");
		if (o->dropped && first) {
			stage_dropped list;
			const char *why = o->exact ? "unmatched: no control in its --exact cell (or "
			    "within the caliper)" : nn.replace ? "unmatched: no control within the "
			    "caliper" : "unmatched: no control left (or within the caliper)";

			stage_dropped_open(&list, o->dropped, o->dropped_id, &si.rows);
			for (size_t i = 0; i < a.n; i++)
				if (a.t[i] && !(w[i] > 0))
					stage_dropped_row(&list, &si.rows, i, stage_stream_row(i), why);
			stage_dropped_close(&list);
		}
		if (first) {
			table_add_column(&si.head->schema, "w_match", COL_F64, NULL, 0);
			if (si_set >= 0)
				table_add_column(&si.head->schema, "match_set", COL_I64, NULL, 0);
			stage_add_recipe(&match_module, &rec, si.head);
			/* the rows are final (later outcomes' weights are their own
			 * arrays): they go out while the results are made */
			writer = stage_write_held(cli, si.head, &si);
		}
		/* the matched treated units' mean outcome, and the controls' it is
		 * compared with (for sensitivity's risk ratio) */
		for (size_t i = 0; i < a.n; i++)
			if (a.t[i] && w[i] > 0)
				treated_mean += y[i] / (double)r.treated_matched;

		results[nresults] = &result[nresults];
		mpseq *res = results[nresults++];
		stage_result_begin(res, "match", "match_att", &outs, k);
		mpseq_str(res, "estimand", "att");
		mpseq_f64(res, "estimate", r.estimate);
		mpseq_f64(res, "se", r.se);
		mpseq_nil(res, "ci");
		mpseq_i64(res, "n", (int64_t)a.n);
		{
			mpseq means;

			mpseq_map(&means);
			mpseq_f64(&means, "treated", treated_mean);
			mpseq_f64(&means, "control", treated_mean - r.estimate);
			mpseq_take(res, "mean_outcome", &means);
		}
		mpseq_str(res, "se_method", "abadie-imbens");
		{
			/* Abadie & Imbens (2016): the logistic propensity's estimation
			 * included, for matching with replacement on the score alone */
			design psd;
			double C, adj;
			const char *why_not = "only for matching with replacement on the score alone";
			stage_design_blocks blocks;
			char why_unread[600];
			int rc_adj;

			if (stage_inside_only())
				why_not = "the common support leaves rows of the propensity model's fit "
				    "out of this stage";
			else if (nn.replace && !o->exact && !o->mahal &&
			    stage_ps_model(si.head, si.head->ps, &si.rows, &psd, &C, &why_not) == 0) {
				why_not = NULL;
				if (C > 0)
					why_not = "the propensity model is penalised (--l2)";
				else {
					blocks = (stage_design_blocks){ .d = &psd, .rows = &si.rows };
					rc_adj = nnmatch_ai2016_adjustment(a.ps, a.t, y, stage_design_block,
					    &blocks, a.n, psd.nterms + 1, nn.k, 4, r.estimate, &adj, &work);
					if (rc_adj == -2) {
						snprintf(why_unread, sizeof why_unread, "the propensity model's "
						    "columns cannot be read: %s", blocks.why);
						why_not = why_unread;
					} else if (rc_adj != 0)
						why_not = "the adjustment's information matrix is singular";
					else
						mpseq_f64(res, "se_ai2016", sqrt(fmax(0, r.se * r.se + adj)));
				}
				design_free(&psd);
			}
			if (why_not)
				mpseq_str(res, "se_ai2016_why", why_not);
		}
		mpseq_i64(res, "treated_matched", (int64_t)r.treated_matched);
		mpseq_i64(res, "treated_unmatched", (int64_t)r.treated_unmatched);
		mpseq_i64(res, "controls_used", (int64_t)r.controls_used);
		mpseq_i64(res, "pairs", (int64_t)r.pairs);
		mpseq_i64(res, "k", nn.k);
		mpseq_bool(res, "replace", nn.replace);
		mpseq_str(res, "on", o->on_logit ? "logit" : "ps");
		mpseq_str(res, "ties", ties_name(nn.ties));
		mpseq_f64(res, "caliper_width", nn.caliper > 0 ? nn.caliper : NAN);
		mpseq_str(res, "weight_column", "w_match");
		if (si_set >= 0)
			mpseq_str(res, "set_column", "match_set");
		{
			pshist hist;

			pshist_init(&hist);
			pshist_add(&hist, a.t, a.ps, w, a.n);
			stage_ps_hist(res, &hist);
		}
		if (o->adjust) {
			/* MatchIt's recommended outcome model on the matched sample */
			const char *formula = rec.adjust_formula;
			char why[512];
			double *X, *b1, *b0, estimate;
			int p, rc;

			if ((p = stage_spec_design(formula, &si.rows, "--adjust-formula", NULL, &X, why, sizeof why)) < 0)
				die("%s", why);
			b1 = xcalloc((size_t)p, sizeof *b1);
			b0 = xcalloc((size_t)p, sizeof *b0);
			rc = outreg_adjusted_att(rec.adjust_family, X, a.n, p, a.t, y, w, b1, b0, &estimate);
			free(X), free(b1), free(b0);
			X = b1 = b0 = NULL;
			if (rc != OUTREG_OK)
				die("--adjust: the outcome model '%s' cannot be fitted on the matched %s "
				    "(%s): drop terms, or --adjust-family linear", formula,
				    rc == OUTREG_EMPTY ? "sample" : "units", rc == OUTREG_SINGULAR ?
				    "a term constant in an arm, or a combination of others" :
				    rc == OUTREG_NO_FIT ? "the logistic fit did not converge" : "an arm is empty");
			results2 = &result[nresults];
			results[nresults++] = results2;
			stage_result_begin(results2, "match", "match_reg_att", &outs, k);
			mpseq_str(results2, "estimand", "att");
			mpseq_f64(results2, "estimate", estimate);
			mpseq_nil(results2, "se");
			mpseq_nil(results2, "ci");
			mpseq_i64(results2, "n", (int64_t)a.n);
			mpseq_str(results2, "se_method", "none (boot gives one)");
			mpseq_str(results2, "outcome_model", outreg_family_name(rec.adjust_family));
			mpseq_str(results2, "formula", formula);
			mpseq_str(results2, "weight_column", "w_match");
			free(X), free(b1), free(b0);
		}
	}
	if (w != w_col)
		free(w), free(set);
	stage_write_results(writer, &si.results, results, nresults);
	for (int i = 0; i < nresults; i++)
		mpseq_free(results[i]);
	free(results), free(result);
	nnmatch_work_free(&work);
	if (y != a.y)
		free(y);
	stage_outcomes_free(&outs);
	free(owned_formula);
	stage_arrays_free(&a);
	stage_input_free(&si);
}

/* The recipe entry, written and read side by side. */
static void
match_recipe_write(const void *params, const stream_head *h, mpseq *entry)
{
	const match_params *o = params;

	mpseq_i64(entry, "k", o->nn.k);
	mpseq_bool(entry, "replace", o->nn.replace);
	mpseq_f64(entry, "caliper", o->caliper_sd > 0 ? o->caliper_sd : NAN);
	if (o->raw_caliper) /* absent: in SDs, as streams before it */
		mpseq_bool(entry, "raw_caliper", 1);
	mpseq_str(entry, "on", o->on_logit ? "logit" : "ps");
	mpseq_str(entry, "ties", ties_name(o->nn.ties));
	if (o->exact) /* absent: none, as streams before them */
		mpseq_str(entry, "exact", o->exact);
	if (o->mahal)
		mpseq_str(entry, "mahalanobis", o->mahal);
	if (o->adjust && !o->adjust_family_auto) { /* as resolved by the run */
		mpseq_str(entry, "adjust_formula", o->adjust_formula);
		mpseq_str(entry, "adjust_family", outreg_family_name(o->adjust_family));
	}
	recipe_write_roles(entry, h);
}

static int
match_recipe_read(void *params, const msgpack_object *e, char *why, size_t whylen)
{
	match_params *o = params;
	double k = 1;
	char *on = NULL, *ties = NULL, *family = NULL;
	int rc = 0;

	memset(o, 0, sizeof *o);
	if (recipe_get_number(e, "match", "k", &k, why, whylen) ||
	    recipe_get_bool(e, "match", "replace", &o->nn.replace, why, whylen) ||
	    recipe_get_number(e, "match", "caliper", &o->caliper_sd, why, whylen) ||
	    recipe_get_bool(e, "match", "raw_caliper", &o->raw_caliper, why, whylen) ||
	    recipe_get_str(e, "match", "on", &on, why, whylen) ||
	    recipe_get_str(e, "match", "ties", &ties, why, whylen) ||
	    recipe_get_str(e, "match", "exact", &o->exact_read, why, whylen) ||
	    recipe_get_str(e, "match", "mahalanobis", &o->mahal_read, why, whylen) ||
	    recipe_get_str(e, "match", "adjust_formula", &o->adjust_read, why, whylen) ||
	    recipe_get_str(e, "match", "adjust_family", &family, why, whylen))
		rc = -1;
	else if (o->adjust_read && (!family || !cli_choice(family, "linear,logistic"))) {
		snprintf(why, whylen, "the recipe's match entry has an adjust_formula without a "
		    "family (linear or logistic)");
		rc = -1;
	}
	else if (!(k >= 1 && k <= 1000 && k == (int)k)) {
		snprintf(why, whylen, "the recipe's match entry has k = %g (a whole number "
		    "from 1 to 1000 was written)", k);
		rc = -1;
	} else if ((on && !cli_choice(on, "ps,logit")) || (ties && !cli_choice(ties, "all,first,matchit"))) {
		snprintf(why, whylen, "the recipe's match entry has an unknown 'on' or 'ties'");
		rc = -1;
	}
	o->nn.k = (int)k;
	o->exact = o->exact_read;
	o->mahal = o->mahal_read;
	/* the roles the entry ran with, for the weighted bootstrap's terms */
	if (rc == 0 && (recipe_get_str(e, "match", "treatment", &o->role_t, why, whylen) ||
	    recipe_get_str(e, "match", "outcome", &o->role_y, why, whylen) ||
	    recipe_get_str(e, "match", "ps", &o->role_ps, why, whylen)))
		rc = -1;
	if (o->adjust_read) {
		o->adjust = 1;
		o->adjust_formula = o->adjust_read;
		o->adjust_family = strcmp(family, "logistic") == 0 ? OUTREG_LOGISTIC : OUTREG_LINEAR;
	}
	free(family);
	o->on_logit = on && strcmp(on, "logit") == 0;
	o->nn.ties = ties && strcmp(ties, "first") == 0 ? TIES_FIRST :
	    ties && strcmp(ties, "matchit") == 0 ? TIES_MATCHIT : TIES_ALL;
	free(on);
	free(ties);
	return rc;
}

/* Replay: match_att on a replicate, on its cells when the matching allows
 * (k = 1 with replacement and all ties), else on its rows in stream order
 * (matches depend on row order). */
static int
match_target(const void *params, const char *name)
{
	const match_params *o = params;

	if (strcmp(name, "match_att") == 0)
		return 0;
	return o->adjust && strcmp(name, "match_reg_att") == 0 ? 1 : -1;
}

/* A thread's memory for match's replay: the matching's work, and the
 * linear form's terms in the order of the replicate's counts (boot's order
 * of the rows, known from the first replicate on). */
typedef struct {
	nnmatch_work work;
	double *zeta;
	const size_t *laid_out_by; /* the counts' pos the terms follow */
} match_scratch;

static match_scratch *
match_scratch_of(replay_view *v)
{
	match_scratch **ms = (match_scratch **)replay_view_scratch(v);

	if (*ms == NULL)
		*ms = xcalloc(1, sizeof **ms);
	return *ms;
}

/* Each stream row's term at its place among the counts, laid out once a
 * thread: a replicate then reads both in order (gathering each row's
 * count in stream order was a tenth of a replicate on continuous
 * covariates). */
static const double *
zeta_in_count_order(match_scratch *ms, const match_params *o, const replay_counts *c)
{
	if (ms->laid_out_by != c->pos) {
		free(ms->zeta);
		ms->zeta = xcalloc(c->n + 1, sizeof *ms->zeta);
		for (size_t i = 0; i < c->n; i++)
			ms->zeta[c->pos[i]] = o->row_zeta[i];
		ms->laid_out_by = c->pos;
	}
	return ms->zeta;
}

/* sum of count[i] zeta[i], in LANES sums of every LANES-th row added up in
 * order: the same bits whether or not the compiler vectorises it. Built
 * for each vector width (boot sums it every replicate): the baseline
 * build converted the counts one pair at a time. */
VECTOR_CLONES static double
counted_sum(const uint32_t *count, const double *zeta, size_t n)
{
	double lane[LANES] = { 0 }, sum = 0;
	size_t i = 0;

	for (; i + LANES <= n; i += LANES)
		for (int j = 0; j < LANES; j++)
			lane[j] += (double)count[i + j] * zeta[i + j];
	for (int j = 0; i + (size_t)j < n; j++)
		lane[j] += (double)count[i + j] * zeta[i + j];
	for (int j = 0; j < LANES; j++)
		sum += lane[j];
	return sum;
}

static replicate_status
match_estimate(const void *params, int target, replay_view *v, double *out)
{
	const match_params *o = params;
	nnmatch_opts nn = o->nn;
	nnmatch_result mr;
	size_t bad;

	if (o->weighted_boot && target == 0) {
		/* the matches kept, the resample's counts reweighting the linear form:
		 * tau* = tau + (sum of the drawn rows' zeta - sum zeta) / N1; the
		 * support, as the matching, the full data's */
		const replay_counts *c = replay_view_counts(v);
		const double *zeta = zeta_in_count_order(match_scratch_of(v), o, c);

		*out = o->tau_hat + (counted_sum(c->count, zeta, c->n) - o->zeta_sum) /
		    (double)o->n1_matched;
		return REPLICATE_OK;
	}
	if (nnmatch_by_blocks(&nn) && !o->exact && !o->mahal && target == 0) {
		const replay_cells *c = replay_view_cells(v);
		/* no ysq: boot needs the estimate, not its standard error */
		nnmatch_cells cells = { c->t, c->d, c->count, c->ysum, NULL, c->n };

		if (match_distances(o, c->ps, c->count, c->n, c->d, &nn.caliper, &bad) != 0)
			return REPLICATE_INFINITE_WEIGHT;
		if (nnmatch_att_cells(&cells, &nn, NULL, &mr, &match_scratch_of(v)->work) != 0)
			return REPLICATE_NO_MATCH;
	} else {
		const replay_units *u = replay_view_units(v);
		nnmatch_problem pb = { .d = u->d, .t = u->t, .y = u->y, .n = u->n, .q = o->q };
		int64_t *stratum = NULL;
		double *Z = NULL;
		int rc;

		if (match_distances(o, u->ps, NULL, u->n, u->d, &nn.caliper, &bad) != 0)
			return REPLICATE_INFINITE_WEIGHT;
		if (o->row_stratum) { /* each unit in its row's stratum */
			stratum = xreallocarray(NULL, u->n + 1, sizeof *stratum);
			for (size_t i = 0; i < u->n; i++)
				stratum[i] = o->row_stratum[u->row[i]];
		}
		/* the covariance of the resample's own units, as the stage's */
		if (o->q > 0 && (Z = whitened(o->row_x, o->nrows, o->q, u->row, u->t, u->n)) == NULL) {
			free(stratum);
			return REPLICATE_FIT_FAILED;
		}
		pb.stratum = stratum;
		pb.Z = Z;
		rc = nnmatch_att_problem(&pb, &nn, u->w, &mr, NULL, NULL);
		free(stratum), free(Z);
		if (rc != 0)
			return REPLICATE_NO_MATCH;
		if (target == 1) { /* the regression on the resample's matched units */
			size_t n = u->n;
			int p = o->p_adj;
			double *X = xreallocarray(NULL, n + 1, (size_t)p * sizeof *X);
			double *b1 = xcalloc((size_t)p, sizeof *b1), *b0 = xcalloc((size_t)p, sizeof *b0);

			for (int c = 0; c < p; c++)
				for (size_t i = 0; i < n; i++)
					X[(size_t)c * n + i] = o->row_adj[(size_t)c * o->nrows + u->row[i]];
			rc = outreg_adjusted_att(o->adjust_family, X, n, p, u->t, u->y, u->w, b1, b0,
			    out);
			free(X), free(b1), free(b0);
			return rc == OUTREG_OK ? REPLICATE_OK : REPLICATE_OUTCOME_FAILED;
		}
	}
	*out = mr.estimate;
	return REPLICATE_OK;
}

static void
match_scratch_free(void *scratch)
{
	match_scratch *ms = scratch;

	nnmatch_work_free(&ms->work);
	free(ms->zeta);
	free(ms);
}

/* --exact and --mahalanobis read columns beyond the roles: boot keeps
 * them, and each row's stratum and covariates are kept here, once. */
static int
match_reads(const void *params, const char *column)
{
	const match_params *o = params;
	const char *specs[2] = { o->exact, o->mahal };

	for (int k = 0; k < 2; k++)
		if (specs[k] && spec_names_column(specs[k], column))
			return 1;
	return o->adjust && o->adjust_formula && spec_names_column(o->adjust_formula, column);
}

/* The weighted bootstrap's terms (Otsu & Rai 2017, the ATT): a matched
 * treated unit's zeta = (y_i - the mean of its controls) - tau; a
 * control's -K_j e_j, K_j its summed shares (w_match) and e_j = (y_j -
 * y_l) / sqrt 2, l the nearest other control (Abadie & Imbens' estimate of
 * the residual); 0 for the unmatched. The matching is the stage's, on the
 * stream's propensities. */
static int
weighted_terms(match_params *o, const table *rows, char *why, size_t whylen)
{
	size_t n = rows->nrows, bad = 0;
	uint8_t *t;
	double *y, *ps, *d, *w, *mean_c;
	size_t *got;
	nnmatch_opts nn = o->nn;
	nnmatch_result r;
	nnmatch_pairs pairs;
	nnmatch_problem pb;
	int64_t *stratum;
	double *X, *Z = NULL;
	int q, ti, yi, pi, rc;

	ti = o->role_t ? table_find(rows, o->role_t) : -1;
	yi = o->role_y ? table_find(rows, o->role_y) : -1;
	pi = o->role_ps ? table_find(rows, o->role_ps) : -1;
	if (ti < 0 || yi < 0 || pi < 0) {
		snprintf(why, whylen, "the weighted bootstrap needs the treatment, outcome and "
		    "propensity columns");
		return -1;
	}
	t = xmalloc(n + 1);
	y = xreallocarray(NULL, n + 1, sizeof *y);
	ps = xreallocarray(NULL, n + 1, sizeof *ps);
	d = xreallocarray(NULL, n + 1, sizeof *d);
	w = xreallocarray(NULL, n + 1, sizeof *w);
	column_to_f64(&rows->cols[yi], n, y);
	column_to_f64(&rows->cols[pi], n, ps);
	column_to_f64(&rows->cols[ti], n, d);
	for (size_t i = 0; i < n; i++)
		t[i] = d[i] != 0;
	if (match_distances(o, ps, NULL, n, d, &nn.caliper, &bad) != 0 ||
	    match_row_data(o->exact, o->mahal, rows, &stratum, &X, &q, why, whylen) != 0) {
		if (!why[0])
			snprintf(why, whylen, "a propensity of 0 or 1 at row %zu", bad);
		free(t), free(y), free(ps), free(d), free(w);
		return -1;
	}
	if (q > 0)
		Z = whitened(X, n, q, NULL, t, n);
	pb = (nnmatch_problem){ .d = d, .t = t, .y = y, .n = n, .stratum = stratum, .Z = Z, .q = q };
	rc = nnmatch_att_problem(&pb, &nn, w, &r, NULL, &pairs);
	free(stratum), free(X), free(Z);
	if (rc != 0) {
		snprintf(why, whylen, "no treated unit could be matched on the full data");
		free(t), free(y), free(ps), free(d), free(w);
		return -1;
	}
	mean_c = xcalloc(n + 1, sizeof *mean_c);
	got = xcalloc(n + 1, sizeof *got);
	for (size_t k = 0; k < pairs.n; k++) {
		mean_c[pairs.treated[k]] += pairs.weight[k] * y[pairs.control[k]];
		got[pairs.treated[k]]++;
	}
	o->row_zeta = xcalloc(n + 1, sizeof *o->row_zeta);
	o->tau_hat = r.estimate;
	o->n1_matched = r.treated_matched;
	{
		/* each control's nearest other control, on the distance */
		keyed *c = xreallocarray(NULL, n + 1, sizeof *c);
		size_t nc = 0;

		for (size_t i = 0; i < n; i++)
			if (!t[i])
				c[nc++] = (keyed){ d[i], i };
		keyed_sort(c, nc);
		for (size_t k = 0; k < nc; k++) {
			size_t j = c[k].index, l = j;
			double best = INFINITY;

			if (k > 0 && d[j] - c[k - 1].key < best)
				best = d[j] - c[k - 1].key, l = c[k - 1].index;
			if (k + 1 < nc && c[k + 1].key - d[j] < best)
				l = c[k + 1].index;
			if (w[j] > 0 && l != j)
				o->row_zeta[j] = -w[j] * (y[j] - y[l]) / sqrt(2);
		}
		free(c);
	}
	for (size_t i = 0; i < n; i++)
		if (t[i] && got[i] > 0)
			o->row_zeta[i] = y[i] - mean_c[i] - o->tau_hat;
	o->zeta_sum = 0;
	for (size_t i = 0; i < n; i++)
		o->zeta_sum += o->row_zeta[i];
	nnmatch_pairs_free(&pairs);
	free(mean_c), free(got), free(t), free(y), free(ps), free(d), free(w);
	return 0;
}

/* weighted_terms on the rows inside the common support (where the stage
 * matched), the others' terms 0. */
static int
weighted_terms_inside(match_params *o, const table *rows, const uint8_t *inside, char *why,
    size_t whylen)
{
	table in;
	size_t *at, m = 0;
	double *zeta;
	int rc;

	if (inside == NULL)
		return weighted_terms(o, rows, why, whylen);
	at = xreallocarray(NULL, rows->nrows + 1, sizeof *at);
	for (size_t i = 0; i < rows->nrows; i++)
		if (inside[i])
			at[m++] = i;
	table_init(&in);
	table_copy_schema(&in, rows);
	table_gather(&in, rows, at, m);
	rc = weighted_terms(o, &in, why, whylen);
	table_free(&in);
	if (rc == 0) {
		zeta = xcalloc(rows->nrows + 1, sizeof *zeta);
		for (size_t k = 0; k < m; k++)
			zeta[at[k]] = o->row_zeta[k];
		free(o->row_zeta);
		o->row_zeta = zeta;
	}
	free(at);
	return rc;
}

static int
match_prepare_rows(void *params, const table *rows, const uint8_t *inside, char *why,
    size_t whylen)
{
	match_params *o = params;

	o->nrows = rows->nrows;
	why[0] = '\0';
	if (o->weighted_boot && weighted_terms_inside(o, rows, inside, why, whylen) != 0)
		return -1;
	if (o->adjust && (o->p_adj = stage_spec_design(o->adjust_formula, rows, "the recipe's "
	    "match entry", NULL, &o->row_adj, why, whylen)) < 0)
		return -1;
	if (!o->exact && !o->mahal)
		return 0;
	return match_row_data(o->exact, o->mahal, rows, &o->row_stratum, &o->row_x, &o->q,
	    why, whylen);
}

static void
match_params_free(void *params)
{
	match_params *o = params;

	free(o->exact_read);
	free(o->mahal_read);
	free(o->adjust_read);
	free(o->row_stratum);
	free(o->row_x);
	free(o->row_adj);
	free(o->row_zeta);
	free(o->role_t), free(o->role_y), free(o->role_ps);
	o->role_t = o->role_y = o->role_ps = NULL;
	o->row_zeta = NULL;
	o->exact_read = o->mahal_read = o->adjust_read = NULL;
	o->row_stratum = NULL;
	o->row_x = o->row_adj = NULL;
}

/* boot --matching weighted|refit: match_att by the weighted bootstrap
 * (the default: the plain one re-matches, which Abadie & Imbens (2008)
 * show is not valid for nearest-neighbour matching) or refitted. */
static void
match_boot_option(void *params, const char *name, const char *value)
{
	match_params *o = params;

	if (strcmp(name, "matching") == 0)
		o->weighted_boot = strcmp(value, "weighted") == 0;
	if (strcmp(name, "outcome") == 0) { /* the weighted bootstrap's terms' */
		free(o->role_y);
		o->role_y = xstrdup(value);
	}
}

static const char *
match_method(const void *params, int target)
{
	const match_params *o = params;

	return o->weighted_boot && target == 0 ? "weighted bootstrap (Otsu & Rai 2017): the "
	    "full data's matches kept, their linear form reweighted by each resample" : NULL;
}

static const replay_ops match_replay = {
	.target = match_target,
	.estimate = match_estimate,
	.scratch_free = match_scratch_free,
	.reads = match_reads,
	.prepare_rows = match_prepare_rows,
	.option = match_boot_option,
	.method = match_method,
};

/* Options. */
enum { OPT_NO_REPLACE = OPT_PROGRAM_BASE, OPT_CALIPER, OPT_RAW_CALIPER, OPT_ON, OPT_TIES,
	OPT_EXACT, OPT_MAHAL, OPT_PAIRS, OPT_PAIRS_ID, OPT_ADJUST, OPT_ADJUST_FORMULA,
	OPT_ADJUST_FAMILY, OPT_DROPPED, OPT_DROPPED_ID, OPT_MEMORY_MB, OPT_TEMP_DIR };

static const struct option match_longopts[] = {
	{ "k", required_argument, NULL, 'k' },
	{ "no-replace", no_argument, NULL, OPT_NO_REPLACE },
	{ "caliper", required_argument, NULL, OPT_CALIPER },
	{ "raw-caliper", no_argument, NULL, OPT_RAW_CALIPER },
	{ "on", required_argument, NULL, OPT_ON },
	{ "ties", required_argument, NULL, OPT_TIES },
	{ "exact", required_argument, NULL, OPT_EXACT },
	{ "mahalanobis", required_argument, NULL, OPT_MAHAL },
	{ "pairs", required_argument, NULL, OPT_PAIRS },
	{ "pairs-id", required_argument, NULL, OPT_PAIRS_ID },
	{ "dropped", required_argument, NULL, OPT_DROPPED },
	{ "dropped-id", required_argument, NULL, OPT_DROPPED_ID },
	{ "adjust", no_argument, NULL, OPT_ADJUST },
	{ "adjust-formula", required_argument, NULL, OPT_ADJUST_FORMULA },
	{ "adjust-family", required_argument, NULL, OPT_ADJUST_FAMILY },
	{ "memory-mb", required_argument, NULL, OPT_MEMORY_MB },
	{ "temp-dir", required_argument, NULL, OPT_TEMP_DIR },
	{ NULL, 0, NULL, 0 },
};

static const char match_usage[] =
    "usage: match [-k K] [--no-replace] [--caliper C [--raw-caliper]] [--on ps|logit]\n"
    "             [--ties all|first|matchit] [--exact COLS] [--mahalanobis COLS]\n"
    "             [--pairs FILE [--pairs-id COL]] [--adjust [--adjust-formula TERMS]\n"
    "             [--adjust-family F]] [--memory-mb MB] [--temp-dir DIR]\n"
    "             [-t COL] [-y COL] [--ps COL] [stream options]\n"
    "\n"
    "Matches each treated unit to its K nearest controls on the propensity\n"
    "score and estimates the effect on the treated (ATT).\n"
    "\n"
    "  -k K               controls per treated unit (default 1)\n"
    "  --no-replace       use each control once, as MatchIt: K rounds in which\n"
    "                     each treated unit (largest score first; equal scores\n"
    "                     lowest row first) takes its nearest control left\n"
    "  --caliper C        no match farther than C standard deviations of the\n"
    "                     distance (MatchIt's std.caliper); default none\n"
    "  --raw-caliper      C is in units of the distance itself (ps, or its logit\n"
    "                     with --on logit), not SDs (std.caliper = FALSE)\n"
    "  --on ps|logit      match on the score or its logit (default ps)\n"
    "  --ties RULE        of controls equally far: all (default with replacement)\n"
    "                     uses every one tied at the K-th distance with shared\n"
    "                     weight; first the lowest row (default without\n"
    "                     replacement); matchit the one next to the treated\n"
    "                     unit in the order of all units by score, then row\n"
    "                     (the smaller score on a tie), as MatchIt\n"
    "  --exact COLS       match only within equal values of these columns\n"
    "                     (MatchIt's exact; fitps's -x syntax)\n"
    "  --mahalanobis COLS match on the Mahalanobis distance of these covariates\n"
    "                     (pooled within-group covariance, as MatchIt), the\n"
    "                     score still ordering the treated and bounding\n"
    "                     --caliper (MatchIt's mahvars); O(n1 n0): slow past a\n"
    "                     few hundred thousand pairs of units\n"
    "  --pairs FILE       write every matched pair as CSV (match_set,\n"
    "                     treated_row, control_row, weight; rows from 0): the\n"
    "                     long form of MatchIt's get_matches()\n"
    "  --pairs-id COL     add this column's values of both rows (a user id)\n"
    "  --dropped FILE     list the treated units left unmatched as CSV (row,\n"
    "                     line, reason; the stream's rows from 0)\n"
    "  --dropped-id COL   add this column's values (a user id) to the list\n"
    "  --adjust           also match_reg_att: the outcome regression on the\n"
    "                     matched sample that MatchIt's vignette recommends\n"
    "                     (Y ~ T * X weighted by w_match; the effect averaged\n"
    "                     over the matched treated units); boot gives its SE\n"
    "  --adjust-formula TERMS  its X (fitps's -x syntax; default the stream's\n"
    "                     covariates)\n"
    "  --adjust-family F  auto (logistic for a 0/1 outcome, else linear),\n"
    "                     linear or logistic\n"
    "  --memory-mb MB     the columns match passes on without reading them (an\n"
    "                     id, other weights) stay in memory up to MB megabytes\n"
    "                     (default 256), then go to a temporary file, as\n"
    "                     sort(1) spills: memory is then what match reads\n"
    "  --temp-dir DIR     that file's directory (default $TMPDIR, else /tmp)\n"
    "  -t, -y, --ps COL   override the treatment, outcome, propensity roles\n"
    "  -y A,B             several outcomes: the results for each, B's named NAME.B\n"
    "                     (the first stays the outcome role)\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  ... | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier \\\n"
    "      | match -k 1 --ties all | report\n";

static void
match_defaults(void *params)
{
	match_params *o = params;

	memset(o, 0, sizeof *o);
	o->nn.k = 1;
	o->nn.replace = 1;
	o->nn.ties = TIES_ALL;
	o->adjust_family_auto = 1;
	o->spill_mb = 256;
}

static void
match_option(void *params, int opt, const char *arg)
{
	match_params *o = params;

	switch (opt) {
	case 'k': o->nn.k = (int)cli_int("-k", arg, 1, 1000); break;
	case OPT_NO_REPLACE: o->nn.replace = 0; break;
	case OPT_CALIPER: o->caliper_sd = cli_double("--caliper", arg, 1e-9, 100); break;
	case OPT_RAW_CALIPER: o->raw_caliper = 1; break;
	case OPT_ON:
		if (!cli_choice(arg, "ps,logit"))
			die_usage("--on wants ps or logit, not '%s'", arg);
		o->on_logit = strcmp(arg, "logit") == 0;
		break;
	case OPT_TIES:
		if (!cli_choice(arg, "all,first,matchit"))
			die_usage("--ties wants all, first or matchit, not '%s'", arg);
		o->nn.ties = strcmp(arg, "all") == 0 ? TIES_ALL : strcmp(arg, "first") == 0 ?
		    TIES_FIRST : TIES_MATCHIT;
		o->ties_given = 1;
		break;
	case OPT_EXACT: o->exact = arg; break;
	case OPT_MAHAL: o->mahal = arg; break;
	case OPT_PAIRS: o->pairs = arg; break;
	case OPT_PAIRS_ID: o->pairs_id = arg; break;
	case OPT_DROPPED: o->dropped = arg; break;
	case OPT_DROPPED_ID: o->dropped_id = arg; break;
	case OPT_MEMORY_MB: o->spill_mb = cli_double("--memory-mb", arg, 0, 1e9); break;
	case OPT_TEMP_DIR: o->temp_dir = arg; break;
	case OPT_ADJUST: o->adjust = 1; break;
	case OPT_ADJUST_FORMULA: o->adjust = 1; o->adjust_formula = arg; break;
	case OPT_ADJUST_FAMILY:
		if (!cli_choice(arg, "auto,linear,logistic"))
			die_usage("--adjust-family wants auto, linear or logistic, not '%s'", arg);
		o->adjust = 1;
		o->adjust_family_auto = arg[0] == 'a';
		o->adjust_family = arg[1] == 'o' ? OUTREG_LOGISTIC : OUTREG_LINEAR;
		break;
	}
}

static void
match_finish(void *params, const stage_roles *roles)
{
	match_params *o = params;

	(void)roles;
	if (o->raw_caliper && !(o->caliper_sd > 0))
		die_usage("--raw-caliper says what --caliper's width is in: give --caliper too");
	if (o->pairs_id && !o->pairs)
		die_usage("--pairs-id names the rows of --pairs: give --pairs FILE too");
	if (o->dropped_id && !o->dropped)
		die_usage("--dropped-id names the rows of --dropped: give --dropped FILE too");
	if (!o->nn.replace) {
		if (o->ties_given && o->nn.ties == TIES_ALL)
			die_usage("--ties all shares controls between treated units, which "
			    "--no-replace forbids: use --ties first or matchit");
		if (!o->ties_given)
			o->nn.ties = TIES_FIRST;
	}
}

/* The options that make the entry again (cmdline.h). */
static int
match_command(const void *params, const void *defaults, cmdline *cmd)
{
	const match_params *o = params, *d = defaults;

	if (o->nn.k != d->nn.k) {
		char k[16];

		snprintf(k, sizeof k, "%d", o->nn.k);
		cmdline_opt(cmd, "-k", k);
	}
	if (!o->nn.replace)
		cmdline_word(cmd, "--no-replace");
	if (o->caliper_sd > 0)
		cmdline_num(cmd, "--caliper", o->caliper_sd);
	if (o->raw_caliper)
		cmdline_word(cmd, "--raw-caliper");
	if (o->on_logit)
		cmdline_opt(cmd, "--on", "logit");
	if (o->nn.ties != d->nn.ties && !(!o->nn.replace && o->nn.ties == TIES_FIRST))
		cmdline_opt(cmd, "--ties", ties_name(o->nn.ties));
	if (o->exact)
		cmdline_opt(cmd, "--exact", o->exact);
	if (o->mahal)
		cmdline_opt(cmd, "--mahalanobis", o->mahal);
	if (o->adjust) {
		cmdline_opt(cmd, "--adjust-formula", o->adjust_formula);
		cmdline_opt(cmd, "--adjust-family", outreg_family_name(o->adjust_family));
	}
	return 0;
}

const stage_module match_module = {
	.name = "match",
	.usage = match_usage,
	.shortopts = "k:",
	.role_options = ROLE_TREATMENT | ROLE_OUTCOME | ROLE_PS,
	.longopts = match_longopts,
	.params_size = sizeof(match_params),
	.defaults = match_defaults,
	.option = match_option,
	.finish = match_finish,
	.recipe_write = match_recipe_write,
	.recipe_read = match_recipe_read,
	.command = match_command,
	.adds = match_adds,
	.run = match_run,
	.replay = &match_replay,
	.params_free = match_params_free,
};
