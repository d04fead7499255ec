#include "stage_balance.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "stage.h"

/* The columns a covariate spec names: "a,b:c,d*e" -> a, b, c, d, e. */
static int
spec_columns(const stream_head *h, char ***out)
{
	int n = 0;

	*out = NULL;
	for (int i = 0; i < h->ncovariates; i++) {
		const char *p = h->covariates[i];

		while (*p) {
			size_t len = strcspn(p, ":*");
			int dup = 0;

			for (int k = 0; k < n; k++)
				dup |= strlen((*out)[k]) == len && strncmp((*out)[k], p, len) == 0;
			if (!dup && len > 0) {
				*out = xreallocarray(*out, (size_t)n + 1, sizeof **out);
				(*out)[n++] = xstrndup(p, len);
			}
			p += len;
			if (*p)
				p++;
		}
	}
	return n;
}

static const char *
sd_name(sd_mode m)
{
	return m == SD_TREATED ? "treated" : m == SD_CONTROL ? "control" : "pooled";
}

typedef struct {
	const char *name;
	int col; /* -1: raw */
	int failures;
} weighting;

/* What the batches leave behind: a tally per covariate column (categorical
 * ones by level code), and the first problem of each kind, reported at the
 * end with the messages of the checks that hold every row. */
typedef struct {
	int ti, nw, ncov;
	weighting *ws;
	int *cov;               /* column of each covariate */
	tally *tally;           /* per covariate */
	uint8_t *t;
	double *x;
	const double **w;
	double **wbuf;          /* weights that are not f64, as doubles */
	size_t cap, rows, treated;
	size_t bad_t_row;
	double bad_t_value;
	size_t *w_bad, *w_first, *w_neg_row; /* per weighting */
	double *w_neg_value;
	size_t *x_bad, *x_first;             /* per covariate */
	int failed;
} balance_stream;

#define NONE SIZE_MAX

/* The treatment as 0/1 bytes in bs->t; the first value that is neither is
 * noted (and counted as 0 meanwhile). */
static void
batch_treatment(balance_stream *bs, const column *tc, size_t n)
{
	column_to_f64(tc, n, bs->x);
	for (size_t r = 0; r < n; r++) {
		double v = bs->x[r];

		if (v != 0 && v != 1) { /* NaN too */
			if (bs->bad_t_row == NONE)
				bs->bad_t_row = bs->rows + r, bs->bad_t_value = v;
			v = 0;
		}
		bs->t[r] = (uint8_t)v;
		bs->treated += bs->t[r];
	}
	bs->failed |= bs->bad_t_row != NONE;
}

/* Weighting k's weights into bs->w[k] (as doubles), noting the first
 * missing, NaN, infinite or negative one. */
static void
batch_weights(balance_stream *bs, int k, const column *wc, size_t n)
{
	const double *w = wc->data;

	if (wc->type != COL_F64) { /* integer or bool weights */
		bs->wbuf[k] = xreallocarray(bs->wbuf[k], bs->cap, sizeof *bs->wbuf[k]);
		column_to_f64(wc, n, bs->wbuf[k]);
		w = bs->wbuf[k];
	}
	for (size_t r = 0; r < n; r++) {
		if (!isfinite(w[r])) {
			if (bs->w_bad[k]++ == 0)
				bs->w_first[k] = bs->rows + r;
		} else if (w[r] < 0 && bs->w_neg_row[k] == NONE)
			bs->w_neg_row[k] = bs->rows + r, bs->w_neg_value[k] = w[r];
	}
	bs->failed |= bs->w_bad[k] || bs->w_neg_row[k] != NONE;
	bs->w[k] = w;
}

/* Covariate c's values (a categorical one's level codes) into bs->x,
 * noting the first missing one. */
static void
batch_covariate(balance_stream *bs, int c, const column *col, size_t n)
{
	if (col->type == COL_CAT) {
		const int32_t *code = col->data;

		for (size_t r = 0; r < n; r++) {
			if (code[r] < 0 && bs->x_bad[c]++ == 0)
				bs->x_first[c] = bs->rows + r;
			bs->x[r] = code[r];
		}
	} else {
		column_to_f64(col, n, bs->x);
		for (size_t r = 0; r < n; r++)
			if (!isfinite(bs->x[r]) && bs->x_bad[c]++ == 0)
				bs->x_first[c] = bs->rows + r;
	}
	bs->failed |= bs->x_bad[c] != 0;
}

/* Once anything is wrong the tallies stop (the run ends in an error), but
 * the checks go on, to count and report as the held-rows checks would. */
static void
balance_batch(table *rows, void *ctx)
{
	balance_stream *bs = ctx;
	size_t n = rows->nrows;

	if (n > bs->cap) {
		bs->cap = n;
		bs->t = xrealloc(bs->t, n);
		bs->x = xreallocarray(bs->x, n, sizeof *bs->x);
	}
	batch_treatment(bs, &rows->cols[bs->ti], n);
	for (int k = 1; k < bs->nw; k++)
		batch_weights(bs, k, &rows->cols[bs->ws[k].col], n);
	for (int c = 0; c < bs->ncov; c++) {
		batch_covariate(bs, c, &rows->cols[bs->cov[c]], n);
		if (!bs->failed)
			tally_add(&bs->tally[c], bs->x, bs->t, bs->w, n);
	}
	bs->rows += n;
}

/* The first problem met, in the order the checks on held rows met them. */
static void
die_on_problems(const balance_stream *bs, const stream_head *h, const table *schema)
{
	if (bs->bad_t_row != NONE)
		stage_die_treatment_value(h->treatment, bs->bad_t_row, bs->bad_t_value);
	if (bs->rows == 0 || bs->treated == 0 || bs->treated == bs->rows)
		stage_die_groups(h->treatment, bs->rows, bs->treated);
	for (int k = 1; k < bs->nw; k++) {
		if (bs->w_bad[k])
			stage_die_nonfinite("weight", bs->ws[k].name, bs->w_bad[k], bs->w_first[k]);
		if (bs->w_neg_row[k] != NONE)
			die("weight column '%s' is negative (%g) at row %zu", bs->ws[k].name,
			    bs->w_neg_value[k], bs->w_neg_row[k]);
	}
	for (int c = 0; c < bs->ncov; c++) {
		const column *col = &schema->cols[bs->cov[c]];

		if (!bs->x_bad[c])
			continue;
		if (col->type == COL_CAT)
			die("covariate '%s' is missing at row %zu: remove or impute such rows "
			    "upstream", col->name, bs->x_first[c]);
		stage_die_nonfinite("covariate", col->name, bs->x_bad[c], bs->x_first[c]);
	}
}

static void
add_rows(mpseq *table, const char *label, tally *tl,
    const balance_opts *o, weighting *ws, int nw)
{
	double denom;

	tally_sort(tl);
	denom = balstat_sd_denominator(tl, o->sd);
	for (int k = 0; k < nw; k++) {
		balstat b;
		mpseq row;
		int pass;

		balstat_compute(tl, k, denom, &b);
		pass = fabs(b.smd) <= o->threshold;
		ws[k].failures += !pass;
		mpseq_map(&row);
		mpseq_str(&row, "covariate", label);
		mpseq_str(&row, "weight", ws[k].name);
		mpseq_f64(&row, "mean_treated", b.mean_t);
		mpseq_f64(&row, "mean_control", b.mean_c);
		mpseq_f64(&row, "smd", b.smd);
		mpseq_f64(&row, "var_ratio", b.var_ratio);
		mpseq_f64(&row, "ks", b.ks);
		mpseq_bool(&row, "pass", pass);
		mpseq_take(table, NULL, &row);
	}
}

/* The balance table: every covariate, every level of a categorical one
 * (reference included), under every weighting. */
static void
balance_table(balance_stream *bs, const table *schema, const balance_opts *o,
    mpseq *table)
{
	mpseq_array(table);
	for (int c = 0; c < bs->ncov; c++) {
		const column *col = &schema->cols[bs->cov[c]];

		if (col->type != COL_CAT) {
			add_rows(table, col->name, &bs->tally[c], o, bs->ws, bs->nw);
			continue;
		}
		for (int l = 0; l < col->nlevels; l++) {
			tally level;
			char label[256];

			tally_indicator(&bs->tally[c], l, &level);
			snprintf(label, sizeof label, "%s_%s", col->name, col->levels[l]);
			add_rows(table, label, &level, o, bs->ws, bs->nw);
			tally_free(&level);
		}
	}
}

void
balance_run(const balance_opts *o, const cli_common *cli)
{
	stage_input si;
	stream_head *h;
	balance_stream bs = { .bad_t_row = NONE };
	int adjusted_failures = 0;
	char **covs;
	stream_out *out;
	mpseq recipe, result, table;

	stage_open(&si, cli);
	h = si.head;
	stream_head_set_role(&h->treatment, o->treatment);
	stream_head_set_covariates(h, o->covariates);
	bs.ti = stage_numeric_column(&si.rows, stage_role(h->treatment, "treatment", "-t"),
	    "treatment", "-t");
	bs.ncov = spec_columns(h, &covs);
	if (bs.ncov == 0)
		die("no covariates to check: name them with -x (or at fitps)");
	bs.cov = xreallocarray(NULL, (size_t)bs.ncov, sizeof *bs.cov);
	for (int c = 0; c < bs.ncov; c++)
		bs.cov[c] = stage_column(&h->schema, covs[c], "covariate", "-x");

	bs.ws = xcalloc((size_t)si.rows.ncols + 1, sizeof *bs.ws);
	bs.ws[0] = (weighting){ .name = "raw", .col = -1 };
	bs.nw = 1;
	for (int c = 0; c < si.rows.ncols; c++) {
		const column *col = &si.rows.cols[c];

		if (strncmp(col->name, "w_", 2) != 0)
			continue;
		if (!column_is_numeric(col))
			die("weight column '%s' is categorical: a weight column (w_*) must "
			    "be numeric", col->name);
		bs.ws[bs.nw++] = (weighting){ .name = col->name, .col = c };
	}
	bs.wbuf = xcalloc((size_t)bs.nw, sizeof *bs.wbuf);
	bs.w = xcalloc((size_t)bs.nw, sizeof *bs.w);
	bs.w_bad = xcalloc((size_t)bs.nw, sizeof *bs.w_bad);
	bs.w_first = xcalloc((size_t)bs.nw, sizeof *bs.w_first);
	bs.w_neg_row = xcalloc((size_t)bs.nw, sizeof *bs.w_neg_row);
	bs.w_neg_value = xcalloc((size_t)bs.nw, sizeof *bs.w_neg_value);
	for (int k = 0; k < bs.nw; k++)
		bs.w_neg_row[k] = NONE;
	bs.x_bad = xcalloc((size_t)bs.ncov, sizeof *bs.x_bad);
	bs.x_first = xcalloc((size_t)bs.ncov, sizeof *bs.x_first);
	bs.tally = xcalloc((size_t)bs.ncov, sizeof *bs.tally);
	for (int c = 0; c < bs.ncov; c++)
		tally_init(&bs.tally[c], bs.nw);

	mpseq_map(&recipe);
	mpseq_str(&recipe, "stage", "balance");
	mpseq_str(&recipe, "sd", sd_name(o->sd));
	mpseq_f64(&recipe, "threshold", o->threshold);
	stream_head_add_recipe(h, &recipe);
	mpseq_free(&recipe);

	out = stage_stream(&si, cli, h, balance_batch, &bs);
	die_on_problems(&bs, h, &h->schema);
	balance_table(&bs, &h->schema, o, &table);

	result_begin(&result, "balance", "balance");
	mpseq_f64(&result, "threshold", o->threshold);
	mpseq_str(&result, "sd", sd_name(o->sd));
	mpseq_i64(&result, "n", (int64_t)bs.rows);
	{
		mpseq names, fails;

		mpseq_array(&names);
		mpseq_map(&fails);
		for (int k = 0; k < bs.nw; k++) {
			mpseq_str(&names, NULL, bs.ws[k].name);
			mpseq_i64(&fails, bs.ws[k].name, bs.ws[k].failures);
			if (k > 0)
				adjusted_failures += bs.ws[k].failures;
		}
		mpseq_take(&result, "weights", &names);
		mpseq_take(&result, "failures_by_weight", &fails);
	}
	/* what the threshold judges: the adjusted rows (raw when there are none) */
	mpseq_i64(&result, "failures", bs.nw > 1 ? adjusted_failures : bs.ws[0].failures);
	mpseq_take(&result, "table", &table);
	stream_out_map(out, &result);
	stream_out_end(out);

	mpseq_free(&result);
	for (int c = 0; c < bs.ncov; c++) {
		tally_free(&bs.tally[c]);
		free(covs[c]);
	}
	free(covs);
	free(bs.tally);
	free(bs.cov);
	free(bs.ws);
	free(bs.w);
	for (int k = 0; k < bs.nw; k++)
		free(bs.wbuf[k]);
	free(bs.wbuf);
	free(bs.w_bad);
	free(bs.w_first);
	free(bs.w_neg_row);
	free(bs.w_neg_value);
	free(bs.x_bad);
	free(bs.x_first);
	free(bs.t);
	free(bs.x);
	stage_close(&si);
}
