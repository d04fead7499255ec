/* fitps — the propensity model: who opts in, given the covariates?
 *
 * Contract: needs the treatment (0/1) and covariate columns, named here or
 * in the head's roles; adds a column `ps` (--ps-name) and the role `ps`;
 * makes the result ps_model (terms, coefficients and standard errors,
 * iterations, log-likelihood, AUC, ps range per group, calibration per
 * level). With --model it scores with a saved model instead, one batch at a
 * time, and makes ps_scored. Its replay refits the model on each
 * replicate's groups (or holds a saved model's propensities fixed). */
#include "fitps.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "design.h"
#include "err.h"
#include "rowgroup.h"
#include "mpo.h"
#include "psfit.h"
#include "psmodel.h"
#include "replay.h"
#include "stage.h"
#include "xalloc.h"

/* The message of a design that cannot be built from -x: usage errors for a
 * malformed spec, data errors for columns that cannot be used. */
static void
design_or_die(design *d, const char *spec, const table *schema)
{
	char why[512];
	int rc = design_from_spec(d, spec, schema, "-x", why, sizeof why);

	if (rc == DESIGN_BAD_SPEC)
		die_usage("%s", why);
	if (rc != DESIGN_OK)
		die("%s", why);
}

/* A design_matrix() status, dying with the advice fitps gives on missing
 * values. */
static void
design_status_or_die(int rc, const char *why)
{
	if (rc == DESIGN_MISSING)
		die("%s: remove or impute them upstream, drop and count them with "
		    "fitps --drop-missing, or model them with --missing ind", why);
	if (rc != 0)
		die("%s", why);
}

/* design_matrix of rows [0, n), or the death design_status_or_die gives */
static void
matrix_or_die(const design *d, const table *t, size_t n, double *X)
{
	char why[512];

	design_status_or_die(design_matrix(d, t, n, X, why, sizeof why), why);
}

/* -x as one comma-separated spec, from the option or the head's roles. */
static char *
covariate_spec(const stream_head *h)
{
	char *spec = stage_covariate_spec(h);

	if (spec == NULL)
		die("no covariates: name them with -x (e.g. -x engagement_tier,query_confidence)");
	return spec;
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

/* What every propensity model's result has: counts, AUC, the ps range by
 * group, positivity, the histogram, the calibration by level. */
static void
model_summary(mpseq *m, const table *rows, const design *d, const fitps_params *p,
    const double *ps, const uint8_t *t, int quiet)
{
	ipw_positivity pos;
	size_t n = rows->nrows;
	double lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };

	for (size_t i = 0; i < n; i++) {
		lo[t[i]] = fmin(lo[t[i]], ps[i]);
		hi[t[i]] = fmax(hi[t[i]], ps[i]);
	}
	mpseq_f64(m, "auc", auc(ps, t, n));
	{
		mpseq range;

		mpseq_map(&range);
		mpseq_f64_pair(&range, "treated", lo[1], hi[1]);
		mpseq_f64_pair(&range, "control", lo[0], hi[0]);
		mpseq_take(m, "ps_range", &range);
	}
	ipw_positivity_init(&pos, p->band[0], p->band[1]);
	ipw_positivity_add(&pos, t, ps, NULL, n);
	stage_positivity(m, &pos);
	stage_positivity_warn(&pos, quiet);
	{
		pshist hist;

		pshist_init(&hist);
		pshist_add(&hist, t, ps, NULL, n);
		stage_ps_hist(m, &hist);
	}
	calibration(m, rows, d, ps, t);
}

static void
model_counts(mpseq *m, const uint8_t *t, size_t n)
{
	size_t n1 = 0;

	for (size_t i = 0; i < n; i++)
		n1 += t[i];
	mpseq_i64(m, "n", (int64_t)n);
	mpseq_i64(m, "treated", (int64_t)n1);
	mpseq_i64(m, "controls", (int64_t)(n - n1));
}

static void
model_result(mpseq *m, const table *rows, const design *d, const logit_fit *fit,
    const fitps_params *p, const double *ps, const uint8_t *t, int quiet)
{
	const logit_opts *o = &p->logit;
	mpseq terms;

	result_begin(m, "fitps", "ps_model");
	mpseq_str(m, "model", "logistic");
	if (o->C > 0)
		mpseq_f64(m, "l2", o->C);
	else
		mpseq_nil(m, "l2");
	model_counts(m, t, rows->nrows);
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
	model_summary(m, rows, d, p, ps, t, quiet);
}

/* A boosted model's result: its options, the trees chosen and the balance
 * criterion after each tree (twang's plot of the stop method). */
static void
gbm_result(mpseq *m, const table *rows, const design *d, const fitps_params *p,
    const gbm_model *g, const double *curve, double criterion, const double *ps,
    const uint8_t *t, int quiet)
{
	mpseq list;

	result_begin(m, "fitps", "ps_model");
	mpseq_str(m, "model", "gbm");
	mpseq_str(m, "library", "XGBoost (C API), exact greedy, one thread");
	model_counts(m, t, rows->nrows);
	mpseq_i64(m, "trees", g->trees);
	mpseq_i64(m, "trees_max", p->gbm.trees);
	mpseq_i64(m, "depth", p->gbm.depth);
	mpseq_f64(m, "eta", p->gbm.eta);
	mpseq_f64(m, "subsample", p->gbm.subsample);
	mpseq_i64(m, "seed", (int64_t)p->gbm.seed);
	mpseq_str(m, "stop", gbm_stop_name(p->gbm.stop));
	if (p->gbm.stop != GBM_STOP_NONE) {
		mpseq_str(m, "stop_estimand", p->gbm.stop_att ? "att" : "ate");
		mpseq_f64(m, "criterion", criterion);
		mpseq_array(&list);
		for (int k = 0; k < p->gbm.trees; k++)
			mp_pack_f64(mpseq_item(&list), curve[k]);
		mpseq_take(m, "criterion_by_trees", &list);
	}
	mpseq_array(&list);
	for (int k = 0; k < d->nterms; k++)
		mpseq_str(&list, NULL, d->terms[k].name);
	mpseq_take(m, "features", &list);
	model_summary(m, rows, d, p, ps, t, quiet);
}

/* The boosted fit of the rows: on their distinct covariate rows, each with
 * its units and treated units (gbm.h), the propensities back per row. */
static void
gbm_fit_rows(const fitps_params *o, const double *X, size_t n, int p, const uint8_t *t,
    gbm_model *g, double *ps, double *curve, double *criterion)
{
	uint32_t *group = xreallocarray(NULL, n + 1, sizeof *group);
	size_t ng = rowgroup(X, n, p, group);
	double *G, *units, *treated, *gps;
	char why[512];

	if (ng == 0 && n > 0)
		die("%zu rows are too many to group for boosting", n);
	G = xreallocarray(NULL, ng + 1, (size_t)p * sizeof *G);
	units = xcalloc(ng + 1, sizeof *units);
	treated = xcalloc(ng + 1, sizeof *treated);
	gps = xreallocarray(NULL, ng + 1, sizeof *gps);
	for (size_t i = 0; i < n; i++) {
		units[group[i]] += 1;
		treated[group[i]] += t[i];
		for (int c = 0; c < p; c++)
			G[(size_t)c * ng + group[i]] = X[(size_t)c * n + i];
	}
	if (gbm_fit(&o->gbm, G, ng, p, units, treated, g, gps, curve, criterion, why,
	    sizeof why) != 0)
		die("%s", why);
	for (size_t i = 0; i < n; i++)
		ps[i] = gps[group[i]];
	free(group), free(G), free(units), free(treated), free(gps);
}

/* Drops the rows with a missing, NaN or infinite value in any column the
 * model uses (with --missing ind, in the treatment or outcome: covariates
 * are filled), counting them per column, into a result. */
/* Returns the kept rows' positions in the input (free it). */
static size_t *
drop_missing(table *rows, const stream_head *h, const design *d, int covariates,
    stage_dropped *list, mpseq *result)
{
	const char **cols = xcalloc((size_t)d->nterms * 8 + 3, sizeof *cols);
	size_t *count, dropped = 0, *kept_at, nkept = 0;
	uint8_t *keep = xmalloc(rows->nrows + 1);
	int ncols = 0;
	mpseq by;

	cols[ncols++] = h->treatment;
	if (h->outcome)
		cols[ncols++] = h->outcome;
	for (int k = 0; k < d->nterms && covariates; k++)
		for (int f = 0; f < d->terms[k].nfactors; f++) {
			int seen = 0;

			for (int c = 0; c < ncols; c++)
				seen |= strcmp(cols[c], d->terms[k].factors[f].column) == 0;
			if (!seen)
				cols[ncols++] = d->terms[k].factors[f].column;
		}
	count = xcalloc((size_t)ncols, sizeof *count);
	for (size_t r = 0; r < rows->nrows; r++) {
		int first = -1;

		keep[r] = 1;
		for (int c = 0; c < ncols; c++) {
			const column *col = &rows->cols[table_find(rows, cols[c])];
			int bad = column_is_missing(col, r) ||
			    (col->type == COL_F64 && !isfinite(((const double *)col->data)[r]));

			if (bad) {
				count[c]++;
				keep[r] = 0;
				first = first < 0 ? c : first;
			}
		}
		if (first >= 0) {
			char why[320];

			snprintf(why, sizeof why, "missing: %s", cols[first]);
			stage_dropped_row(list, rows, r, r, why);
		}
		dropped += !keep[r];
	}
	kept_at = xreallocarray(NULL, rows->nrows + 1, sizeof *kept_at);
	for (size_t r = 0; r < rows->nrows; r++)
		if (keep[r])
			kept_at[nkept++] = r;
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
	return kept_at;
}

/* A category of hundreds of levels in -x is a dummy per level, and rarely
 * meant (an id, or dates read as text: 899 dummies took 4.5 minutes once,
 * with no word): said, naming the column, once. */
#define MANY_LEVELS 200

static void
warn_many_levels(const design *d, const table *schema, int quiet)
{
	for (int k = 0; k < d->nterms && !quiet; k++)
		for (int f = 0; f < d->terms[k].nfactors; f++) {
			const char *col = d->terms[k].factors[f].column;
			int ci = table_find(schema, col), seen = 0;

			for (int j = 0; j < k && !seen; j++)
				for (int g = 0; g < d->terms[j].nfactors; g++)
					seen |= strcmp(d->terms[j].factors[g].column, col) == 0;
			for (int g = 0; g < f; g++)
				seen |= strcmp(d->terms[k].factors[g].column, col) == 0;
			if (!seen && ci >= 0 && schema->cols[ci].type == COL_CAT &&
			    schema->cols[ci].nlevels > MANY_LEVELS)
				err_warn("warning: covariate '%s' is categorical with %d levels: %d "
				    "dummies, slow to fit and rarely meant (an id? dates? csv2mp reads "
				    "ISO dates as days; --f64 reads numbers kept as text)", col,
				    schema->cols[ci].nlevels, schema->cols[ci].nlevels - 1);
		}
}

/* --missing ind's result: each covariate filled, its missing rows and its
 * fill (a number's median; nil: a category's missing values are no level),
 * and the note on stderr. */
static void
fills_result(mpseq *m, const design_fills *f, size_t n, int quiet)
{
	mpseq cols;

	result_begin(m, "fitps", "missing_indicators");
	mpseq_i64(m, "n", (int64_t)n);
	mpseq_map(&cols);
	for (int i = 0; i < f->n; i++) {
		mpseq c;

		mpseq_map(&c);
		mpseq_i64(&c, "missing", (int64_t)f->cols[i].missing);
		if (f->cols[i].numeric)
			mpseq_f64(&c, "fill", f->cols[i].fill);
		else
			mpseq_nil(&c, "fill");
		mpseq_take(&cols, f->cols[i].column, &c);
		if (!quiet)
			err_warn("note: --missing ind: covariate '%s' has %zu missing values: "
			    "term %s:<NA> added, the values %s", f->cols[i].column,
			    f->cols[i].missing, f->cols[i].column, f->cols[i].numeric ?
			    "filled with its median" : "counted as no level");
	}
	mpseq_take(m, "columns", &cols);
	if (f->n == 0 && !quiet)
		err_warn("note: --missing ind: no covariate has a missing value");
}

/* A stream with a common support has had its rows split by a model's
 * propensities: a model fitted after that over every row would make the
 * split wrong for the stages after. */
static void
refuse_second_model(const stream_head *h)
{
	if (h->support)
		die("the stream has a common support already (column '%s', set by a rule "
		    "after an earlier model): fit the propensity model before the rule",
		    h->support);
}

/* --common-support: the band the rule keeps, the column in_support (0
 * outside it) and its role, and the result; every later stage leaves the
 * rows outside out (stage.h). */
static void
common_support(mpseq *m, table *rows, stream_head *h, const fitps_params *o,
    const uint8_t *t, const double *ps, size_t n, const size_t *input_row,
    stage_dropped *list, int quiet)
{
	double band[2];
	size_t outside[2] = { 0, 0 }, inside[2] = { 0, 0 };
	uint8_t *in;
	int col;
	char why[256];

	if (ipw_support_band(o->support, o->support_band, t, ps, NULL, n, band) != 0)
		die("--common-support %s: a group has no unit", support_rule_name(o->support));
	col = table_add_column(rows, STAGE_SUPPORT_COLUMN, COL_BOOL, NULL, 0);
	table_add_column(&h->schema, STAGE_SUPPORT_COLUMN, COL_BOOL, NULL, 0);
	stream_head_set_role(&h->support, STAGE_SUPPORT_COLUMN);
	in = rows->cols[col].data;
	snprintf(why, sizeof why, "outside the common support (%s): ps not in [%.15g, %.15g]",
	    support_rule_name(o->support), band[0], band[1]);
	for (size_t i = 0; i < n; i++) {
		in[i] = ps[i] >= band[0] && ps[i] <= band[1];
		(in[i] ? inside : outside)[t[i]]++;
		if (!in[i])
			stage_dropped_row(list, rows, i, input_row ? input_row[i] : i, why);
	}
	for (int g = 0; g < 2; g++)
		if (inside[g] == 0)
			die("--common-support %s keeps [%g, %g]: no %s unit is inside it",
			    support_rule_name(o->support), band[0], band[1],
			    g ? "treated" : "control");
	result_begin(m, "fitps", "common_support");
	mpseq_str(m, "rule", support_rule_name(o->support));
	mpseq_f64_pair(m, "band", band[0], band[1]);
	mpseq_str(m, "column", STAGE_SUPPORT_COLUMN);
	mpseq_i64(m, "n", (int64_t)n);
	{
		mpseq g;

		mpseq_map(&g);
		mpseq_i64(&g, "treated", (int64_t)outside[1]);
		mpseq_i64(&g, "control", (int64_t)outside[0]);
		mpseq_take(m, "outside", &g);
		mpseq_map(&g);
		mpseq_i64(&g, "treated", (int64_t)inside[1]);
		mpseq_i64(&g, "control", (int64_t)inside[0]);
		mpseq_take(m, "inside", &g);
	}
	if (!quiet)
		err_warn("note: --common-support %s keeps ps in [%.6g, %.6g]: %zu treated and %zu "
		    "control units are outside, and every later stage leaves them out (column "
		    "%s)", support_rule_name(o->support), band[0], band[1], outside[1],
		    outside[0], STAGE_SUPPORT_COLUMN);
}

static void
fit_and_write(const fitps_params *o, const stage_roles *roles, const cli_common *cli)
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
	mpseq result_store[4];
	mpseq *results[4] = { &result_store[0], &result_store[1], &result_store[2],
		&result_store[3] };
	mpseq *const result = results[0];
	int nresults = 1;
	psmodel model;
	fitps_params rec = *o; /* the recipe's: with the fills found */
	stage_dropped dropped_list;
	size_t *kept_at = NULL; /* --drop-missing: the rows' places in the input */
	gbm_model g;
	double *curve = NULL, criterion = 0;
	stage_writer *writer;

	stage_open(&si, cli);
	h = si.head;
	stream_head_set_role(&h->treatment, roles->treatment);
	stream_head_set_role(&h->outcome, roles->outcome);
	stream_head_set_covariates(h, roles->covariates);
	stage_check_roles(h);
	refuse_second_model(h);
	stage_role(h->treatment, "treatment", "-t");
	spec = covariate_spec(h);
	design_or_die(&d, spec, &h->schema);
	warn_many_levels(&d, &h->schema, cli->quiet);
	stage_numeric_column(&h->schema, h->treatment, "treatment", "-t");
	if (h->outcome)
		stage_numeric_column(&h->schema, h->outcome, "outcome", "-y");
	stage_check_new_columns(&fitps_module, o, &h->schema, "name the new one with "
	    "--ps-name");

	stage_dropped_open(&dropped_list, o->dropped, o->dropped_id, &h->schema);
	stage_read_all(&si);
	if (o->drop_missing) {
		kept_at = drop_missing(&si.rows, h, &d, !o->missing_ind, &dropped_list,
		    results[nresults++]);
		stage_rows_renumbered(h);
		if (!cli->quiet)
			err_warn("note: --drop-missing left out %lld rows with missing values "
			    "(counted in the result dropped_missing)",
			    (long long)(stream_in_rows(si.in) - si.rows.nrows));
	}
	n = si.rows.nrows;
	if (o->missing_ind) {
		if (design_find_fills(&d, &si.rows, n, &rec.fills, why, sizeof why) != 0)
			die("--missing ind: %s", why);
		design_apply_fills(&d, &rec.fills);
		fills_result(results[nresults++], &rec.fills, n, cli->quiet);
	}
	t = xmalloc(n + 1);
	stage_treatment(&si.rows.cols[table_find(&si.rows, h->treatment)], n, t);
	if (o->boosted) { /* the booster groups rows on every column */
		X = xreallocarray(NULL, n ? n : 1, ((size_t)d.nterms + 1) * sizeof *X);
		matrix_or_die(&d, &si.rows, n, X);
	} else {
		/* the logistic fit builds its covariates a block of rows at a
		 * time in each pass, from the columns (a matrix would be 8 bytes
		 * a term a row, and its fresh pages cost as much as the fit) */
		X = NULL;
		design_status_or_die(design_check(&d, &si.rows, n, why, sizeof why), why);
	}
	psi = table_add_column(&si.rows, o->ps_name, COL_F64, NULL, 0);
	ps = si.rows.cols[psi].data;
	memset(&fit, 0, sizeof fit);
	memset(&model, 0, sizeof model);
	memset(&g, 0, sizeof g);
	if (o->boosted) {
		curve = xcalloc((size_t)o->gbm.trees + 1, sizeof *curve);
		gbm_fit_rows(o, X, n, d.nterms + 1, t, &g, ps, curve, &criterion);
		/* the recipe: the trees chosen, refitted as they are by boot */
		rec.gbm_trees_max = o->gbm.trees;
		rec.gbm.trees = g.trees;
	} else {
		/* the full data's fit may sum its rows on every core: the same
		 * bits whatever their number (logit.h); a replicate's stays on
		 * its worker's */
		logit_opts full = o->logit;
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		stage_design_blocks blocks = { .d = &d, .rows = &si.rows };
		int rc;

		full.threads = cores > 1 ? (int)cores : 1;
		rc = psfit_fit(&d, &(logit_data){ .rows = stage_design_block, .rows_ctx = &blocks,
		    .n = n, .p = d.nterms + 1, .y = t }, &full, &fit, ps, why, sizeof why);
		if (rc == PSFIT_ROWS_FAILED)
			die("%s: %s", why, blocks.why);
		if (rc != 0)
			die("%s", why);
	}
	/* the boosted fit's matrix (the logistic fit has none): nothing after
	 * the fit reads it, not the rows' results nor the writing (ten million
	 * rows of the realistic model: 480 MB) */
	free(X);
	X = NULL;
	table_add_column(&h->schema, o->ps_name, COL_F64, NULL, 0);
	stream_head_set_role(&h->ps, o->ps_name);
	stage_add_recipe(&fitps_module, &rec, h);
	if (o->support != SUPPORT_NONE)
		common_support(results[nresults++], &si.rows, h, o, t, ps, n, kept_at,
		    &dropped_list, cli->quiet);
	stage_dropped_close(&dropped_list);
	/* the rows are final: they go out while the model's result (its AUC,
	 * calibration and histogram: a tenth of a fit on ten million rows)
	 * and the saved model are made */
	writer = stage_write_rows(cli, h, &si.rows);
	if (o->boosted) {
		gbm_result(result, &si.rows, &d, o, &g, curve, criterion, ps, t, cli->quiet);
		if (o->save_model) {
			model.d = d;
			model.treatment = h->treatment;
			model.trees = g.trees;
			psmodel_note_levels(&model, &h->schema);
			if (gbm_save(&g, &model.xgb, &model.xgb_len, why, sizeof why) != 0)
				die("%s", why);
			psmodel_save(&model, o->save_model);
			psmodel_levels_free(&model);
			free(model.xgb);
		}
		gbm_model_free(&g);
		free(curve);
	} else {
		model_result(result, &si.rows, &d, &fit, o, ps, t, cli->quiet);
		if (o->save_model) {
			model.d = d;
			model.beta = fit.beta;
			model.treatment = h->treatment;
			model.C = o->logit.C;
			psmodel_note_levels(&model, &h->schema);
			psmodel_save(&model, o->save_model);
			psmodel_levels_free(&model);
		}
	}
	stage_write_results(writer, &si.results, results, nresults);
	for (int i = 0; i < nresults; i++)
		mpseq_free(results[i]);
	design_fills_free(&rec.fills);
	free(kept_at);
	logit_fit_free(&fit);
	design_free(&d);
	free(t);
	free(spec);
	stage_input_free(&si);
}

typedef struct {
	const psmodel *model;
	const char *model_file;
	const gbm_model *boosted; /* the model's booster, for a gbm model */
	int *known_col;           /* per model.known: the stream's column */
	uint8_t **unknown;        /* ... and which of its level codes the model never saw */
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

	for (int k = 0; k < s->model->nknown; k++) {
		const column *c = &rows->cols[s->known_col[k]];

		for (size_t r = 0; r < rows->nrows; r++) {
			int32_t code = ((const int32_t *)c->data)[r];

			if (code >= 0 && s->unknown[k][code])
				die("%s: column '%s' is '%s', a level the model in %s never saw "
				    "(scored as its reference level it would be wrong): refit the "
				    "model on data with it, or map it to a known level", stage_row((size_t)s->n + r),
				    c->name, c->levels[code], s->model_file);
		}
	}
	if (rows->nrows > s->cap) {
		s->cap = rows->nrows;
		s->X = xreallocarray(s->X, s->cap, p * sizeof *s->X);
	}
	matrix_or_die(&s->model->d, rows, rows->nrows, s->X);
	if (s->boosted) {
		char why[512];

		if (gbm_predict(s->boosted, s->X, rows->nrows, (int)p, ps, why, sizeof why) != 0)
			die("%s", why);
	} else
		logit_predict(s->X, rows->nrows, (int)p, s->model->beta, ps);
	for (size_t i = 0; i < rows->nrows; i++) {
		s->lo = fmin(s->lo, ps[i]);
		s->hi = fmax(s->hi, ps[i]);
	}
	s->n += rows->nrows;
}

/* Scoring holds one batch at a time: memory does not grow with the stream. */
static void
score_and_write(const fitps_params *o, const stage_roles *roles, const cli_common *cli)
{
	stage_input si;
	stream_head *h;
	psmodel model;
	scorer s = { .lo = INFINITY, .hi = -INFINITY };
	stream_out *out;
	mpseq result;

	gbm_model boosted = { 0 };

	psmodel_load(&model, o->model);
	if (model.xgb) {
		char why[512];

		if (gbm_load(&boosted, model.xgb, model.xgb_len, model.trees, why, sizeof why) != 0)
			die("%s: %s", o->model, why);
		s.boosted = &boosted;
	}
	stage_open(&si, cli);
	h = si.head;
	refuse_second_model(h);
	stage_check_new_columns(&fitps_module, o, &h->schema, "name the new one with "
	    "--ps-name");
	for (int k = 0; k < model.d.nterms; k++)
		for (int f = 0; f < model.d.terms[k].nfactors; f++)
			stage_column(&h->schema, model.d.terms[k].factors[f].column,
			    "model covariate", "the stream (it must have the columns "
			    "the model was fitted on)");
	stream_head_set_role(&h->treatment, model.treatment);
	stream_head_set_role(&h->treatment, roles->treatment);
	stream_head_set_role(&h->outcome, roles->outcome);
	stage_check_roles(h);
	stream_head_set_role(&h->ps, o->ps_name);
	table_add_column(&h->schema, o->ps_name, COL_F64, NULL, 0);
	s.model = &model;
	s.model_file = o->model;
	s.psi = table_add_column(&si.rows, o->ps_name, COL_F64, NULL, 0);
	/* the stream's levels the model does not know, by column */
	s.known_col = xcalloc((size_t)model.nknown + 1, sizeof *s.known_col);
	s.unknown = xcalloc((size_t)model.nknown + 1, sizeof *s.unknown);
	for (int k = 0; k < model.nknown; k++) {
		const column *c = &si.rows.cols[s.known_col[k] = table_find(&si.rows,
		    model.known[k].column)];

		if (c->type != COL_CAT)
			die("column '%s' was categorical when the model in %s was fitted, and is %s "
			    "here", c->name, o->model, coltype_name(c->type));
		s.unknown[k] = xcalloc((size_t)c->nlevels + 1, 1);
		for (int l = 0; l < c->nlevels; l++) {
			int seen = 0;

			for (int m = 0; m < model.known[k].nlevels && !seen; m++)
				seen = strcmp(c->levels[l], model.known[k].levels[m]) == 0;
			s.unknown[k][l] = !seen;
		}
	}
	{
		fitps_params scoring = *o;

		scoring.loaded = &model;
		stage_add_recipe(&fitps_module, &scoring, h);
	}

	out = stage_stream(&si, cli, h, score_batch, &s);
	result_begin(&result, "fitps", "ps_scored");
	mpseq_str(&result, "model_file", o->model);
	mpseq_i64(&result, "n", (int64_t)s.n);
	mpseq_f64_pair(&result, "ps_range", s.n ? s.lo : NAN, s.n ? s.hi : NAN);
	stream_out_map(out, &result);
	stream_out_end(out);
	mpseq_free(&result);
	free(s.X);
	for (int k = 0; k < model.nknown; k++)
		free(s.unknown[k]);
	free(s.unknown);
	free(s.known_col);
	gbm_model_free(&boosted);
	psmodel_free(&model);
	stage_input_free(&si);
}

static void
fitps_run(const void *params, const stage_roles *roles, const cli_common *cli)
{
	const fitps_params *o = params;

	if (o->model)
		score_and_write(o, roles, cli);
	else
		fit_and_write(o, roles, cli);
}

static int
fitps_adds(const void *params, const char **names, int max)
{
	const fitps_params *o = params;

	int n = 0;

	if (n < max)
		names[n++] = o->ps_name;
	if (n < max && o->support != SUPPORT_NONE)
		names[n++] = STAGE_SUPPORT_COLUMN;
	return n;
}

/* --missing ind's fills in the recipe: {column: fill, or nil for a
 * category}, so that a replay and the sandwich build the fitted design. */
/* --common-support in the recipe: "minmax", "crump" or [lo, hi]; absent:
 * none. */
static void
support_write(const fitps_params *o, mpseq *entry)
{
	if (o->support == SUPPORT_FIXED)
		mpseq_f64_pair(entry, "common_support", o->support_band[0], o->support_band[1]);
	else if (o->support != SUPPORT_NONE)
		mpseq_str(entry, "common_support", support_rule_name(o->support));
}

static int
support_read(fitps_params *o, const msgpack_object *e, char *why, size_t whylen)
{
	const msgpack_object *v = mpo_get(e, "common_support");

	o->support = SUPPORT_NONE;
	if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (mpo_is_str(v, "minmax"))
		o->support = SUPPORT_MINMAX;
	else if (mpo_is_str(v, "crump"))
		o->support = SUPPORT_CRUMP;
	else if (v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 2 &&
	    mpo_number(&v->via.array.ptr[0], &o->support_band[0]) == 0 &&
	    mpo_number(&v->via.array.ptr[1], &o->support_band[1]) == 0 &&
	    o->support_band[0] >= 0 && o->support_band[0] < o->support_band[1] &&
	    o->support_band[1] <= 1)
		o->support = SUPPORT_FIXED;
	else {
		snprintf(why, whylen, "the recipe's fitps entry has a 'common_support' that is "
		    "not minmax, crump or [lo, hi]");
		return -1;
	}
	return 0;
}

static void
fills_write(const fitps_params *o, mpseq *entry)
{
	mpseq map;

	if (!o->missing_ind)
		return;
	mpseq_map(&map);
	for (int i = 0; i < o->fills.n; i++) {
		if (o->fills.cols[i].numeric)
			mpseq_f64(&map, o->fills.cols[i].column, o->fills.cols[i].fill);
		else
			mpseq_nil(&map, o->fills.cols[i].column);
	}
	mpseq_take(entry, "missing_fills", &map);
}

/* The recipe entry, written and read side by side: a fit's options, or a
 * saved model's scoring with the model inline. */
static void
fitps_recipe_write(const void *params, const stream_head *h, mpseq *entry)
{
	const fitps_params *o = params;

	if (o->loaded) {
		mpseq inline_model;

		mpseq_str(entry, "ps", o->ps_name);
		mpseq_map(&inline_model);
		psmodel_pack(o->loaded, &inline_model);
		mpseq_take(entry, "model", &inline_model);
		return;
	}
	mpseq_str(entry, "treatment", h->treatment);
	{
		char *spec = covariate_spec(h);

		mpseq_str(entry, "covariates", spec);
		free(spec);
	}
	if (o->boosted) { /* absent: logistic, as streams before boosting */
		mpseq_str(entry, "learner", "gbm");
		mpseq_i64(entry, "trees", o->gbm.trees);
		mpseq_i64(entry, "trees_max", o->gbm_trees_max);
		mpseq_i64(entry, "depth", o->gbm.depth);
		mpseq_f64(entry, "eta", o->gbm.eta);
		mpseq_f64(entry, "subsample", o->gbm.subsample);
		mpseq_i64(entry, "seed", (int64_t)o->gbm.seed);
		mpseq_str(entry, "stop", gbm_stop_name(o->gbm.stop));
		mpseq_str(entry, "stop_estimand", o->gbm.stop_att ? "att" : "ate");
		mpseq_str(entry, "ps", o->ps_name);
		mpseq_bool(entry, "drop_missing", o->drop_missing);
		fills_write(o, entry);
		support_write(o, entry);
		return;
	}
	if (o->logit.C > 0)
		mpseq_f64(entry, "l2", o->logit.C);
	else
		mpseq_nil(entry, "l2");
	mpseq_i64(entry, "max_iter", o->logit.max_iter);
	mpseq_f64(entry, "tol", o->logit.tol);
	mpseq_str(entry, "ps", o->ps_name);
	mpseq_bool(entry, "drop_missing", o->drop_missing);
	fills_write(o, entry);
	support_write(o, entry);
}

static int
fitps_recipe_read(void *params, const msgpack_object *e, char *why, size_t whylen)
{
	fitps_params *o = params;
	double max_iter = 100;

	memset(o, 0, sizeof *o);
	logit_opts_default(&o->logit);
	if (recipe_get_str(e, "fitps", "ps", &o->ps_read, why, whylen))
		return -1;
	o->ps_name = o->ps_read ? o->ps_read : "ps";
	if (mpo_get(e, "model")) {
		/* a saved model scores each row the same whatever the resample */
		o->scored = 1;
		return 0;
	}
	if (mpo_get(e, "learner")) {
		double trees = 0, trees_max = 0, depth = 0, seed = 0;
		char *stop = NULL, *est = NULL;
		int bad;

		if (!mpo_is_str(mpo_get(e, "learner"), "gbm")) {
			snprintf(why, whylen, "the recipe's fitps entry names an unknown learner");
			return -1;
		}
		o->boosted = 1;
		gbm_opts_default(&o->gbm);
		if (recipe_get_str(e, "fitps", "covariates", &o->spec, why, whylen) ||
		    recipe_get_number(e, "fitps", "trees", &trees, why, whylen) ||
		    recipe_get_number(e, "fitps", "trees_max", &trees_max, why, whylen) ||
		    recipe_get_number(e, "fitps", "depth", &depth, why, whylen) ||
		    recipe_get_number(e, "fitps", "eta", &o->gbm.eta, why, whylen) ||
		    recipe_get_number(e, "fitps", "subsample", &o->gbm.subsample, why, whylen) ||
		    recipe_get_number(e, "fitps", "seed", &seed, why, whylen) ||
		    recipe_get_str(e, "fitps", "stop", &stop, why, whylen) ||
		    recipe_get_str(e, "fitps", "stop_estimand", &est, why, whylen) ||
		    recipe_get_bool(e, "fitps", "drop_missing", &o->drop_missing, why, whylen)) {
			free(stop), free(est);
			return -1;
		}
		/* in range before any is converted (a double past an int's range
		 * converts to nothing defined) */
		bad = !(trees >= 1 && trees <= 100000 && trees == (int)trees) ||
		    !(trees_max >= 0 && trees_max <= 100000 && trees_max == (int)trees_max) ||
		    !(depth >= 1 && depth <= 20 && depth == (int)depth) || !(o->gbm.eta > 0) ||
		    !(o->gbm.subsample > 0 && o->gbm.subsample <= 1) ||
		    !(seed >= 0 && seed < 18446744073709551616.0) ||
		    !stop || gbm_stop_parse(stop, &o->gbm.stop) != 0;
		o->gbm.stop_att = est && strcmp(est, "att") == 0;
		free(stop), free(est);
		if (bad) {
			snprintf(why, whylen, "the recipe's fitps entry has boosting options out of "
			    "range");
			return -1;
		}
		o->gbm.trees = (int)trees;
		o->gbm_trees_max = (int)trees_max;
		o->gbm.depth = (int)depth;
		o->gbm.seed = (uint64_t)seed;
		return support_read(o, e, why, whylen) ||
		    stage_recipe_fills(e, "fitps", &o->fills, &o->missing_ind, why, whylen);
	}
	if (recipe_get_str(e, "fitps", "covariates", &o->spec, why, whylen) ||
	    recipe_get_number(e, "fitps", "l2", &o->logit.C, why, whylen) ||
	    recipe_get_number(e, "fitps", "max_iter", &max_iter, why, whylen) ||
	    recipe_get_number(e, "fitps", "tol", &o->logit.tol, why, whylen) ||
	    recipe_get_bool(e, "fitps", "drop_missing", &o->drop_missing, why, whylen))
		return -1;
	if (!recipe_whole(max_iter, 1, 10000) || !(o->logit.tol > 0) ||
	    !(o->logit.C >= 0)) {
		snprintf(why, whylen, "the recipe's fitps entry has a max_iter, tol or l2 "
		    "out of range");
		return -1;
	}
	o->logit.max_iter = (int)max_iter;
	return support_read(o, e, why, whylen) ||
	    stage_recipe_fills(e, "fitps", &o->fills, &o->missing_ind, why, whylen);
}

static void
fitps_params_free(void *params)
{
	fitps_params *o = params;

	free(o->spec);
	free(o->ps_read);
	design_free(&o->replay_design);
	design_fills_free(&o->fills);
	free(o->warm);
	free(o->warm_mu);
	free(o->warm_hessian);
	free(o->witnesses);
	o->spec = o->ps_read = NULL;
	o->warm = o->warm_mu = o->warm_hessian = NULL;
	o->witnesses = NULL;
}

/* Replay: the propensities of a replicate, refitted on its groups. */
static int
fitps_prepare(void *params, const stream_head *h, int fixed_ps, int *refits,
    const char **ps_source, char *why, size_t whylen)
{
	fitps_params *o = params;

	*refits = 0;
	if (o->scored) {
		*ps_source = "fixed: scored with a saved model";
		return 0;
	}
	if (fixed_ps) /* the plan says so already */
		return 0;
	if (o->spec == NULL) {
		snprintf(why, whylen, "the recipe's fitps entry has no covariates");
		return -1;
	}
	if (design_from_spec(&o->replay_design, o->spec, &h->schema,
	    "the recipe's fitps entry", why, whylen) != DESIGN_OK)
		return -1;
	design_apply_fills(&o->replay_design, &o->fills);
	*refits = 1;
	*ps_source = "refitted in every replicate";
	return 0;
}

static int
fitps_columns(const void *params)
{
	const fitps_params *o = params;

	return o->replay_design.nterms + 1;
}

static int
fitps_matrix(const void *params, const table *rows, double *X, char *why, size_t whylen)
{
	const fitps_params *o = params;
	int rc = design_matrix(&o->replay_design, rows, rows->nrows, X, why, whylen);

	if (rc == DESIGN_MISSING) {
		size_t len = strlen(why);

		snprintf(why + len, whylen - len, ": remove or impute them upstream, or "
		    "drop and count them with fitps --drop-missing");
	}
	return rc;
}

static int
fitps_reads(const void *params, const char *column)
{
	const design *d = &((const fitps_params *)params)->replay_design;

	for (int k = 0; k < d->nterms; k++)
		for (int f = 0; f < d->terms[k].nfactors; f++)
			if (strcmp(column, d->terms[k].factors[f].column) == 0)
				return 1;
	return 0;
}

static logit_data
grouped(const replay_groups *g)
{
	return (logit_data){ .X = g->X, .n = g->n, .p = g->p, .trials = g->units,
		.succ = g->treated };
}

/* A replicate's boosted fit: the trees the stage chose, no choosing again
 * (a fixed number of rounds: the stage's first trees are those), on the
 * groups drawn. */
static int
boosted_fit(const fitps_params *o, const replay_groups *g, double *ps, char *why,
    size_t whylen)
{
	gbm_opts fixed = o->gbm;
	gbm_model m;
	double criterion;
	int rc;

	fixed.stop = GBM_STOP_NONE;
	rc = gbm_fit(&fixed, g->X, g->n, g->p, g->units, g->treated, &m, ps, NULL, &criterion,
	    why, whylen);
	if (rc == 0)
		gbm_model_free(&m);
	return rc;
}

static int
fitps_warm_fit(void *params, const replay_groups *g, double *mu)
{
	fitps_params *o = params;
	logit_opts cold = o->logit;
	logit_data ld = grouped(g);
	logit_fit fit;
	char why[512];
	int rc;

	if (o->boosted) /* the groups' order only: nothing to start from */
		return boosted_fit(o, g, mu, why, sizeof why);
	cold.start = NULL;
	cold.start_mu = NULL;
	rc = psfit_fit(&o->replay_design, &ld, &cold, &fit, mu, why, sizeof why);
	if (rc == 0) {
		o->warm = fit.beta;
		fit.beta = NULL;
	}
	logit_fit_free(&fit);
	return rc;
}

static void
fitps_warm_keep(void *params, const replay_groups *g, double *mu)
{
	fitps_params *o = params;
	logit_data ld = grouped(g);

	o->warm_mu = mu;
	if (o->boosted)
		return;
	/* the full data's Hessian at the warm start: a replicate's differs by
	 * the resampling's noise, so its first step can be a chord step */
	o->warm_hessian = xreallocarray(NULL, (size_t)ld.p * (size_t)ld.p,
	    sizeof *o->warm_hessian);
	if (logit_hessian(&ld, mu, o->warm_hessian) != 0) /* ld.X is given */
		die("internal: the full data's information matrix could not be summed");
	o->witnesses = xmalloc(sizeof *o->witnesses);
	psfit_witnesses_find(o->witnesses, &o->replay_design, &ld);
}

static int
fitps_fit(const void *params, const replay_groups *g, int cold, double *ps, char *why,
    size_t whylen)
{
	const fitps_params *o = params;
	logit_opts opts = o->logit;
	logit_data ld = grouped(g);
	logit_fit fit;
	int rc;

	if (o->boosted)
		return boosted_fit(o, g, ps, why, whylen);
	if (!cold && o->warm_mu) {
		opts.start = o->warm;
		opts.start_mu = o->warm_mu;
		opts.start_hessian = o->warm_hessian;
		opts.plain_newton = 1;
	}
	rc = psfit_fit_witnessed(&o->replay_design, &ld, &opts, cold ? NULL : o->witnesses,
	    &fit, ps, why, whylen);
	logit_fit_free(&fit);
	return rc;
}

static const replay_ps_ops fitps_ps_ops = {
	.prepare = fitps_prepare,
	.columns = fitps_columns,
	.matrix = fitps_matrix,
	.reads = fitps_reads,
	.warm_fit = fitps_warm_fit,
	.warm_keep = fitps_warm_keep,
	.fit = fitps_fit,
};

/* --common-support on a replicate: the rule's band on its cells (as fitps
 * finds it on the rows: the same units give the same band). */
static int
fitps_support(const void *params, replay_view *v, double band[2])
{
	const fitps_params *o = params;
	const replay_cells *c;

	if (o->support == SUPPORT_NONE)
		return 0;
	c = replay_view_cells(v);
	return ipw_support_band(o->support, o->support_band, c->t, c->ps, c->count, c->n,
	    band) == 0 ? 1 : -1;
}

static const replay_ops fitps_replay = {
	.ps = &fitps_ps_ops,
	.support = fitps_support,
};

/* Options. */
enum { OPT_LEARNER = OPT_PROGRAM_BASE + 40, OPT_TREES, OPT_DEPTH, OPT_ETA, OPT_SUBSAMPLE,
	OPT_SEED, OPT_STOP, OPT_STOP_ESTIMAND };
enum { OPT_L2 = OPT_PROGRAM_BASE, OPT_PS_NAME, OPT_MAX_ITER, OPT_TOL, OPT_SAVE, OPT_MODEL,
	OPT_DROP_MISSING, OPT_MISSING, OPT_BAND, OPT_SUPPORT, OPT_DROPPED, OPT_DROPPED_ID };

static const struct option fitps_longopts[] = {
	{ "l2", required_argument, NULL, OPT_L2 },
	{ "ps-name", required_argument, NULL, OPT_PS_NAME },
	{ "max-iter", required_argument, NULL, OPT_MAX_ITER },
	{ "tol", required_argument, NULL, OPT_TOL },
	{ "save-model", required_argument, NULL, OPT_SAVE },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "drop-missing", no_argument, NULL, OPT_DROP_MISSING },
	{ "missing", required_argument, NULL, OPT_MISSING },
	{ "band", required_argument, NULL, OPT_BAND },
	{ "common-support", required_argument, NULL, OPT_SUPPORT },
	{ "dropped", required_argument, NULL, OPT_DROPPED },
	{ "dropped-id", required_argument, NULL, OPT_DROPPED_ID },
	{ "learner", required_argument, NULL, OPT_LEARNER },
	{ "trees", required_argument, NULL, OPT_TREES },
	{ "depth", required_argument, NULL, OPT_DEPTH },
	{ "eta", required_argument, NULL, OPT_ETA },
	{ "subsample", required_argument, NULL, OPT_SUBSAMPLE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "stop", required_argument, NULL, OPT_STOP },
	{ "stop-estimand", required_argument, NULL, OPT_STOP_ESTIMAND },
	{ NULL, 0, NULL, 0 },
};

static const char fitps_usage[] =
    "usage: fitps -t TREATMENT -x COVARIATES [-y OUTCOME] [options]\n"
    "       fitps --learner gbm -t TREATMENT -x COVARIATES [--trees N] [options]\n"
    "       fitps --model FILE [options]\n"
    "\n"
    "Fits a logistic propensity model (Newton's method, to convergence), or a\n"
    "boosted one (--learner gbm), and\n"
    "adds each row's propensity score. Numeric covariates enter as they are;\n"
    "categorical ones one-hot with the first level in sorted order dropped\n"
    "(as pandas' get_dummies(drop_first=True)); 'a:b' is an interaction and\n"
    "'a*b' means a, b and a:b.\n"
    "\n"
    "  -t, --treatment COL    0/1 treatment column (kept in the stream's roles)\n"
    "  -y, --outcome COL      outcome column, for the later stages\n"
    "  -x, --covariates LIST  comma-separated covariates and interactions\n"
    "  --l2 C                 L2 penalty as scikit-learn's LogisticRegression(C=C)\n"
    "                         (intercept not penalised); default: none (exact MLE)\n"
    "  --ps-name NAME         name of the added column (default ps)\n"
    "  --max-iter N           Newton iterations at most (default 100)\n"
    "  --tol T                stop when every step is below T (default 1e-10)\n"
    "  --save-model FILE      write the fitted model to FILE\n"
    "  --model FILE           score with a saved model: no fit, bounded memory\n"
    "  --drop-missing         drop rows with a missing, NaN or infinite treatment,\n"
    "                         outcome or covariate (counted in a result) instead\n"
    "                         of stopping\n"
    "  --missing ind          missing-value indicators (WeightIt's missing =\n"
    "                         \"ind\"): a covariate with missing values gains a\n"
    "                         term COL:<NA> and its missing values are filled\n"
    "                         (a number's median; no level of a category)\n"
    "  --common-support RULE  leave the units outside the common support out of\n"
    "                         every later stage (column in_support, counted):\n"
    "                         minmax (MatchIt's discard = \"both\": outside the\n"
    "                         other group's ps range), crump (Crump et al.'s\n"
    "                         band) or LO,HI; boot applies it to each resample\n"
    "  --dropped FILE         list the rows --drop-missing drops and those outside\n"
    "                         --common-support as CSV (row, line, reason; rows\n"
    "                         from 0)\n"
    "  --dropped-id COL       add this column's values (a user id) to the list\n"
    "  --band LO,HI           positivity check: report the share of each group with\n"
    "                         ps outside [LO, HI] and warn past 2% (default\n"
    "                         0.05,0.95)\n"
    "  --learner gbm          a boosted model instead: XGBoost's gradient boosting\n"
    "                         (binary:logistic, exact greedy splits, one thread;\n"
    "                         fitted on the distinct covariate rows with their\n"
    "                         counts), the trees chosen for balance as twang:\n"
    "  --trees N              trees at most (default 500)\n"
    "  --depth D              max_depth (default 3)\n"
    "  --eta X                learning rate (default 0.1)\n"
    "  --subsample F          share of the distinct rows each tree sees (default 1)\n"
    "  --seed S               XGBoost's seed (default 0): the same bytes each run\n"
    "  --stop METHOD          es.mean (default): the tree count with the smallest\n"
    "                         mean |SMD| of the weighted covariates; ks.max: the\n"
    "                         smallest largest KS; none: all N trees\n"
    "  --stop-estimand E      the weights the choice balances: ate (default) or att\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  csv2mp users.csv | fitps -t opt_in_agent_mode -y task_completed \\\n"
    "      -x engagement_tier,query_confidence --l2 1 | weight | report\n";

static void
fitps_defaults(void *params)
{
	fitps_params *o = params;

	memset(o, 0, sizeof *o);
	o->ps_name = "ps";
	o->band[0] = POSITIVITY_LO;
	o->band[1] = POSITIVITY_HI;
	logit_opts_default(&o->logit);
	gbm_opts_default(&o->gbm);
}

static void
fitps_option(void *params, int opt, const char *arg)
{
	fitps_params *o = params;

	switch (opt) {
	case OPT_L2: o->logit.C = cli_double("--l2", arg, 1e-12, 1e12); break;
	case OPT_PS_NAME: o->ps_name = arg; break;
	case OPT_MAX_ITER: o->logit.max_iter = (int)cli_int("--max-iter", arg, 1, 10000); break;
	case OPT_TOL: o->logit.tol = cli_double("--tol", arg, 1e-16, 1); break;
	case OPT_SAVE: o->save_model = arg; break;
	case OPT_MODEL: o->model = arg; break;
	case OPT_DROP_MISSING: o->drop_missing = 1; break;
	case OPT_MISSING:
		if (strcmp(arg, "ind") != 0)
			die_usage("--missing: 'ind' (missing-value indicators, as WeightIt's "
			    "missing = \"ind\") is the one rule; --drop-missing drops the rows "
			    "instead (got '%s')", arg);
		o->missing_ind = 1;
		break;
	case OPT_BAND: cli_band("--band", arg, &o->band[0], &o->band[1]); break;
	case OPT_DROPPED: o->dropped = arg; break;
	case OPT_DROPPED_ID: o->dropped_id = arg; break;
	case OPT_SUPPORT:
		if (strcmp(arg, "minmax") == 0)
			o->support = SUPPORT_MINMAX;
		else if (strcmp(arg, "crump") == 0)
			o->support = SUPPORT_CRUMP;
		else {
			cli_band("--common-support", arg, &o->support_band[0], &o->support_band[1]);
			o->support = SUPPORT_FIXED;
		}
		break;
	case OPT_LEARNER:
		if (!cli_choice(arg, "logistic,gbm"))
			die_usage("--learner wants logistic or gbm, not '%s'", arg);
		o->boosted = strcmp(arg, "gbm") == 0;
		break;
	case OPT_TREES: o->gbm.trees = (int)cli_int("--trees", arg, 1, 100000); o->gbm_given = 1; break;
	case OPT_DEPTH: o->gbm.depth = (int)cli_int("--depth", arg, 1, 20); o->gbm_given = 1; break;
	case OPT_ETA: o->gbm.eta = cli_double("--eta", arg, 1e-6, 1); o->gbm_given = 1; break;
	case OPT_SUBSAMPLE:
		o->gbm.subsample = cli_double("--subsample", arg, 0.01, 1);
		o->gbm_given = 1;
		break;
	case OPT_SEED: o->gbm.seed = (uint64_t)cli_int("--seed", arg, 0, INT32_MAX); o->gbm_given = 1; break;
	case OPT_STOP:
		if (gbm_stop_parse(arg, &o->gbm.stop) != 0)
			die_usage("--stop wants es.mean, ks.max or none, not '%s'", arg);
		o->gbm_given = 1;
		break;
	case OPT_STOP_ESTIMAND:
		if (!cli_choice(arg, "ate,att"))
			die_usage("--stop-estimand wants ate or att, not '%s'", arg);
		o->gbm.stop_att = strcmp(arg, "att") == 0;
		o->gbm_given = 1;
		break;
	}
}

static void
fitps_finish(void *params, const stage_roles *roles)
{
	const fitps_params *o = params;

	if (o->model && (roles->covariates || o->save_model || o->logit.C > 0))
		die_usage("--model scores with a saved model: -x, --l2 and --save-model "
		    "do not apply");
	if (o->gbm_given && !o->boosted)
		die_usage("--trees, --depth, --eta, --subsample, --seed and --stop are "
		    "boosting's: give --learner gbm");
	if (o->boosted && (o->logit.C > 0 || o->logit.max_iter != 100 || o->logit.tol != 1e-10))
		die_usage("--l2, --max-iter and --tol are the logistic model's, not "
		    "--learner gbm's");
	if (o->boosted && o->model)
		die_usage("--model scores with a saved model (its learner is in the file): "
		    "drop --learner");
	if (o->missing_ind && o->model)
		die_usage("--model scores with a saved model: its fills are in the file; "
		    "drop --missing");
	if (o->dropped_id && !o->dropped)
		die_usage("--dropped-id names a column of the --dropped list: give --dropped FILE");
	if (o->dropped && o->model)
		die_usage("--dropped lists the rows a fit leaves out: not with --model");
	if (o->support != SUPPORT_NONE && o->model)
		die_usage("--common-support needs the fit's propensities of every row: not "
		    "with --model (score, then fit the rule's band with weight --trim LO,HI)");
}

/* The options that make the entry again (cmdline.h); a scored entry's
 * model is inline in the recipe, not a file a command line could name. */
static int
fitps_command(const void *params, const void *defaults, cmdline *cmd)
{
	const fitps_params *o = params, *d = defaults;

	if (o->scored) {
		cmdline_opt(cmd, "--model", "MODEL_FILE");
		return -1;
	}
	if (o->boosted) {
		char n[32];

		cmdline_opt(cmd, "--learner", "gbm");
		/* the trees the choice was among, and how it chose: the same run */
		snprintf(n, sizeof n, "%d", o->gbm_trees_max > 0 ? o->gbm_trees_max : o->gbm.trees);
		cmdline_opt(cmd, "--trees", n);
		cmdline_opt(cmd, "--stop", gbm_stop_name(o->gbm.stop));
		if (o->gbm.stop != GBM_STOP_NONE && o->gbm.stop_att)
			cmdline_opt(cmd, "--stop-estimand", "att");
		snprintf(n, sizeof n, "%d", o->gbm.depth);
		cmdline_opt(cmd, "--depth", n);
		cmdline_num(cmd, "--eta", o->gbm.eta);
		cmdline_num(cmd, "--subsample", o->gbm.subsample);
		snprintf(n, sizeof n, "%llu", (unsigned long long)o->gbm.seed);
		cmdline_opt(cmd, "--seed", n);
	}
	if (o->logit.C != d->logit.C)
		cmdline_num(cmd, "--l2", o->logit.C);
	if (o->logit.max_iter != d->logit.max_iter) {
		char n[16];

		snprintf(n, sizeof n, "%d", o->logit.max_iter);
		cmdline_opt(cmd, "--max-iter", n);
	}
	if (o->logit.tol != d->logit.tol)
		cmdline_num(cmd, "--tol", o->logit.tol);
	if (strcmp(o->ps_name, d->ps_name) != 0)
		cmdline_opt(cmd, "--ps-name", o->ps_name);
	if (o->drop_missing)
		cmdline_word(cmd, "--drop-missing");
	if (o->missing_ind)
		cmdline_opt(cmd, "--missing", "ind");
	if (o->support == SUPPORT_FIXED)
		cmdline_num_pair(cmd, "--common-support", o->support_band[0], o->support_band[1]);
	else if (o->support != SUPPORT_NONE)
		cmdline_opt(cmd, "--common-support", support_rule_name(o->support));
	return 0;
}

const stage_module fitps_module = {
	.name = "fitps",
	.usage = fitps_usage,
	.shortopts = "",
	.role_options = ROLE_TREATMENT | ROLE_OUTCOME | ROLE_COVARIATES,
	.longopts = fitps_longopts,
	.all_rows = 1,
	.params_size = sizeof(fitps_params),
	.defaults = fitps_defaults,
	.option = fitps_option,
	.finish = fitps_finish,
	.recipe_write = fitps_recipe_write,
	.recipe_read = fitps_recipe_read,
	.command = fitps_command,
	.params_free = fitps_params_free,
	.adds = fitps_adds,
	.run = fitps_run,
	.replay = &fitps_replay,
};
