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
	const double *w; /* NULL: raw */
	int failures;
} weighting;

static void
add_rows(mpseq *table, const char *label, const double *x, const uint8_t *t,
    size_t n, const balance_opts *o, weighting *ws, int nw, keyed *scratch)
{
	double denom = balstat_sd_denominator(x, t, n, o->sd);

	balstat_order(x, n, scratch);
	for (int k = 0; k < nw; k++) {
		balstat b;
		mpseq row;
		int pass;

		balstat_compute(x, t, ws[k].w, n, denom, scratch, &b);
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

void
balance_run(const balance_opts *o, const cli_common *cli)
{
	stage_input si;
	stream_head *h;
	uint8_t *t;
	double *x;
	keyed *scratch;
	weighting *ws;
	int nw = 1, ncov, adjusted_failures = 0;
	char **covs;
	size_t n;
	mpseq recipe, result, table, *results[1] = { &result };

	stage_open(&si, cli);
	h = si.head;
	stream_head_set_role(&h->treatment, o->treatment);
	stream_head_set_covariates(h, o->covariates);
	stage_role(h->treatment, "treatment", "-t");
	ncov = spec_columns(h, &covs);
	if (ncov == 0)
		die("no covariates to check: name them with -x (or at fitps)");
	for (int c = 0; c < ncov; c++)
		stage_column(&h->schema, covs[c], "covariate", "-x");
	stage_read_all(&si);
	n = si.rows.nrows;
	t = xmalloc(n + 1);
	stage_treatment(&si.rows.cols[stage_numeric_column(&si.rows, h->treatment,
	    "treatment", "-t")], n, t);

	ws = xcalloc((size_t)si.rows.ncols + 1, sizeof *ws);
	ws[0].name = "raw";
	for (int c = 0; c < si.rows.ncols; c++) {
		const column *col = &si.rows.cols[c];
		double *w;

		if (strncmp(col->name, "w_", 2) != 0 || col->type != COL_F64)
			continue;
		w = xreallocarray(NULL, n + 1, sizeof *w);
		stage_finite(col, n, w, "weight");
		for (size_t i = 0; i < n; i++)
			if (w[i] < 0)
				die("weight column '%s' is negative (%g) at row %zu", col->name,
				    w[i], i);
		ws[nw].name = col->name;
		ws[nw++].w = w;
	}

	x = xreallocarray(NULL, n + 1, sizeof *x);
	scratch = xreallocarray(NULL, n + 1, sizeof *scratch);
	mpseq_array(&table);
	for (int c = 0; c < ncov; c++) {
		const column *col = &si.rows.cols[table_find(&si.rows, covs[c])];

		if (col->type == COL_CAT) {
			/* every level, reference included */
			for (int l = 0; l < col->nlevels; l++) {
				char label[256];

				for (size_t i = 0; i < n; i++) {
					int32_t v = ((const int32_t *)col->data)[i];

					if (v < 0)
						die("covariate '%s' is missing at row %zu: remove or "
						    "impute such rows upstream", col->name, i);
					x[i] = v == l;
				}
				snprintf(label, sizeof label, "%s_%s", col->name, col->levels[l]);
				add_rows(&table, label, x, t, n, o, ws, nw, scratch);
			}
		} else {
			stage_finite(col, n, x, "covariate");
			add_rows(&table, col->name, x, t, n, o, ws, nw, scratch);
		}
	}

	mpseq_map(&recipe);
	mpseq_str(&recipe, "stage", "balance");
	mpseq_str(&recipe, "sd", sd_name(o->sd));
	mpseq_f64(&recipe, "threshold", o->threshold);
	stream_head_add_recipe(h, &recipe);
	mpseq_free(&recipe);

	result_begin(&result, "balance", "balance");
	mpseq_f64(&result, "threshold", o->threshold);
	mpseq_str(&result, "sd", sd_name(o->sd));
	mpseq_i64(&result, "n", (int64_t)n);
	{
		mpseq names, fails;

		mpseq_array(&names);
		mpseq_map(&fails);
		for (int k = 0; k < nw; k++) {
			mpseq_str(&names, NULL, ws[k].name);
			mpseq_i64(&fails, ws[k].name, ws[k].failures);
			if (k > 0)
				adjusted_failures += ws[k].failures;
		}
		mpseq_take(&result, "weights", &names);
		mpseq_take(&result, "failures_by_weight", &fails);
	}
	/* what the threshold judges: the adjusted rows (raw when there are none) */
	mpseq_i64(&result, "failures", nw > 1 ? adjusted_failures : ws[0].failures);
	mpseq_take(&result, "table", &table);
	stage_write(cli, h, &si.rows, &si.results, results, 1);

	mpseq_free(&result);
	for (int k = 1; k < nw; k++)
		free((void *)ws[k].w);
	free(ws);
	for (int c = 0; c < ncov; c++)
		free(covs[c]);
	free(covs);
	free(x);
	free(t);
	free(scratch);
	stage_close(&si);
}
