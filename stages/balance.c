/* balance — covariate balance before and after adjustment.
 *
 * Contract: needs the treatment and covariates (roles, or -t/-x) and reads
 * every weight column w_* in the stream; adds nothing to the rows; makes the
 * result balance: per covariate (each level of a categorical one) and per
 * weighting (raw, w_ate, w_match, ...) the SMD, variance ratio and KS
 * distance, pass/fail at the threshold, and the count of failures. It
 * streams: per covariate, the weight each group puts on each distinct
 * value (tally.h) is all the statistics need. */
#include "balance.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"
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

/* The SD a weighting's estimand takes, as cobalt's s.d.denom: the treated
 * units' for the ATT (w_att, and matching: w_match), the controls' for the
 * ATC, pooled for the ATE, the overlap weights and any other column. */
static sd_mode
estimand_sd(const char *weight_column)
{
	if (strcmp(weight_column, "w_att") == 0 || strcmp(weight_column, "w_match") == 0)
		return SD_TREATED;
	if (strcmp(weight_column, "w_atc") == 0)
		return SD_CONTROL;
	return SD_POOLED;
}

typedef struct {
	const char *name;
	int col; /* -1: raw */
	int failures;
	sd_mode sd;         /* its SMD's denominator */
	double sum_w2[2];   /* its squared weights' sums, by group */
} weighting;

/* What the batches leave behind: a tally per covariate column (categorical
 * ones by level code), and the first problem of each kind, reported at the
 * end with the messages of the checks that hold every row. */
/* A product of two covariates, or a numeric one's square (--interactions):
 * each factor a numeric covariate (level -1) or a level's indicator. */
typedef struct {
	int c[2], level[2];
	char *label;
} product;

typedef struct {
	int ti, nw, ncov;
	weighting *ws;
	product *products;      /* --interactions: the products, and a tally each */
	int nproducts;
	tally *ptally;
	double **xv;            /* --interactions: each covariate's values */
	int *cov;               /* column of each covariate */
	tally *tally;           /* per covariate */
	uint8_t *t;
	double *x;
	double *xcheck;         /* x with missing values as 0, for the checks */
	size_t *missing;        /* per covariate: its missing values */
	const double **w;
	double **wbuf;          /* weights that are not f64, as doubles */
	size_t cap;
	treatment_check tcheck;
	finite_check *w_check;  /* per weighting */
	size_t *w_neg_row;
	double *w_neg_value;
	finite_check *x_check;  /* per covariate */
	int failed;
} balance_stream;

#define NONE SIZE_MAX

/* Weighting k's weights into bs->w[k] (as doubles), noting the first
 * missing, NaN, infinite or negative one. */
static void
batch_weights(balance_stream *bs, int k, const column *wc, size_t n, size_t row0)
{
	const double *w = wc->data;

	if (wc->type != COL_F64) { /* integer or bool weights */
		bs->wbuf[k] = xreallocarray(bs->wbuf[k], bs->cap, sizeof *bs->wbuf[k]);
		column_to_f64(wc, n, bs->wbuf[k]);
		w = bs->wbuf[k];
	}
	bs->failed |= finite_check_batch(&bs->w_check[k], w, n, row0);
	for (size_t r = 0; r < n && bs->w_neg_row[k] == NONE; r++)
		if (w[r] < 0)
			bs->w_neg_row[k] = row0 + r, bs->w_neg_value[k] = w[r];
	bs->failed |= bs->w_neg_row[k] != NONE;
	bs->w[k] = w;
}

/* Covariate c's values (a categorical one's level codes) into bs->x, a
 * missing one as NaN (one NaN: the tally keys values by their bits), and
 * counted; infinite ones noted. */
static void
batch_covariate(balance_stream *bs, int c, const column *col, size_t n, size_t row0)
{
	if (col->type == COL_CAT) {
		const int32_t *code = col->data;

		for (size_t r = 0; r < n; r++)
			bs->x[r] = code[r] < 0 ? NAN : code[r];
	} else
		column_to_f64(col, n, bs->x);
	for (size_t r = 0; r < n; r++) {
		int absent = isnan(bs->x[r]);

		bs->missing[c] += absent;
		if (absent)
			bs->x[r] = NAN;
		bs->xcheck[r] = absent ? 0 : bs->x[r];
	}
	bs->failed |= finite_check_batch(&bs->x_check[c], bs->xcheck, n, row0);
}

/* Once anything is wrong the tallies stop (the run ends in an error), but
 * the checks go on, to count and report as the held-rows checks would. */
static void
balance_batch(table *rows, void *ctx)
{
	balance_stream *bs = ctx;
	size_t n = rows->nrows, row0 = bs->tcheck.rows;

	if (n > bs->cap) {
		bs->cap = n;
		bs->t = xrealloc(bs->t, n);
		bs->x = xreallocarray(bs->x, n, sizeof *bs->x);
		bs->xcheck = xreallocarray(bs->xcheck, n, sizeof *bs->xcheck);
	}
	bs->failed |= treatment_check_batch(&bs->tcheck, &rows->cols[bs->ti], n, bs->x,
	    bs->t);
	for (int k = 1; k < bs->nw; k++) {
		batch_weights(bs, k, &rows->cols[bs->ws[k].col], n, row0);
		for (size_t r = 0; r < n && !bs->failed; r++)
			bs->ws[k].sum_w2[bs->t[r]] += bs->w[k][r] * bs->w[k][r];
	}
	for (int c = 0; c < bs->ncov; c++) {
		batch_covariate(bs, c, &rows->cols[bs->cov[c]], n, row0);
		if (!bs->failed && tally_add(&bs->tally[c], bs->x, bs->t, bs->w, n) != 0)
			die("covariate '%s' has more than %d distinct values: balance cannot "
			    "tally it", rows->cols[bs->cov[c]].name, TALLY_MAX_VALUES);
		if (bs->nproducts) {
			bs->xv[c] = xreallocarray(bs->xv[c], bs->cap, sizeof *bs->xv[c]);
			memcpy(bs->xv[c], bs->x, n * sizeof *bs->x);
		}
	}
	for (int k = 0; k < bs->nproducts && !bs->failed; k++) {
		const product *p = &bs->products[k];

		for (size_t r = 0; r < n; r++) {
			double v = 1;

			for (int f = 0; f < 2; f++) {
				double x = bs->xv[p->c[f]][r];

				v *= isnan(x) ? NAN : p->level[f] < 0 ? x : x == p->level[f];
			}
			bs->x[r] = v;
		}
		if (tally_add(&bs->ptally[k], bs->x, bs->t, bs->w, n) != 0)
			die("'%s' has more than %d distinct values: balance cannot tally it",
			    p->label, TALLY_MAX_VALUES);
	}
}

/* A factor's label: a numeric covariate's name, or name_level. */
static void
factor_label(char *buf, size_t size, const column *col, int level)
{
	if (level < 0)
		snprintf(buf, size, "%s", col->name);
	else
		snprintf(buf, size, "%s_%s", col->name, col->levels[level]);
}

static void
add_product(balance_stream *bs, const table *schema, int c0, int l0, int c1, int l1)
{
	char a[256], b[256], label[520];
	product *p;

	factor_label(a, sizeof a, &schema->cols[bs->cov[c0]], l0);
	factor_label(b, sizeof b, &schema->cols[bs->cov[c1]], l1);
	if (c0 == c1)
		snprintf(label, sizeof label, "%s^2", a);
	else
		snprintf(label, sizeof label, "%s:%s", a, b);
	bs->products = xreallocarray(bs->products, (size_t)bs->nproducts + 1,
	    sizeof *bs->products);
	p = &bs->products[bs->nproducts++];
	*p = (product){ { c0, c1 }, { l0, l1 }, xstrdup(label) };
}

/* cobalt's int = TRUE, poly = 2: every numeric covariate's square, and the
 * products of every pair of covariates, a categorical one by each of its
 * levels (no product of two levels of one covariate). */
static void
make_products(balance_stream *bs, const table *schema)
{
	for (int c = 0; c < bs->ncov; c++)
		if (schema->cols[bs->cov[c]].type != COL_CAT)
			add_product(bs, schema, c, -1, c, -1);
	for (int c0 = 0; c0 < bs->ncov; c0++)
		for (int c1 = c0 + 1; c1 < bs->ncov; c1++) {
			const column *a = &schema->cols[bs->cov[c0]], *b = &schema->cols[bs->cov[c1]];
			int na = a->type == COL_CAT ? a->nlevels : 1;
			int nb = b->type == COL_CAT ? b->nlevels : 1;

			for (int i = 0; i < na; i++)
				for (int j = 0; j < nb; j++)
					add_product(bs, schema, c0, a->type == COL_CAT ? i : -1, c1,
					    b->type == COL_CAT ? j : -1);
		}
	bs->ptally = xcalloc((size_t)bs->nproducts + 1, sizeof *bs->ptally);
	for (int k = 0; k < bs->nproducts; k++)
		tally_init(&bs->ptally[k], bs->nw);
	bs->xv = xcalloc((size_t)bs->ncov, sizeof *bs->xv);
}

/* The first problem met, in the order the checks on held rows met them. */
static void
die_on_problems(const balance_stream *bs, const stream_head *h, const table *schema)
{
	treatment_check_end(&bs->tcheck, h->treatment);
	for (int k = 1; k < bs->nw; k++) {
		finite_check_end(&bs->w_check[k], "weight", bs->ws[k].name);
		if (bs->w_neg_row[k] != NONE)
			die("weight column '%s' is negative (%g) at %s", bs->ws[k].name,
			    bs->w_neg_value[k], stage_row(bs->w_neg_row[k]));
	}
	for (int c = 0; c < bs->ncov; c++)
		finite_check_end(&bs->x_check[c], "covariate", schema->cols[bs->cov[c]].name);
}

static void
add_rows(mpseq *table, const char *label, tally *tl,
    const balance_params *o, weighting *ws, int nw, const char *term)
{
	double denom[3];

	tally_sort(tl);
	for (int m = 0; m < 3; m++)
		denom[m] = balstat_sd_denominator(tl, (sd_mode)m, o->variance);
	for (int k = 0; k < nw; k++) {
		balstat b;
		mpseq row;
		int pass;

		balstat_compute(tl, k, denom[ws[k].sd], o->variance, ws[k].sum_w2, &b);
		pass = fabs(b.smd) <= o->threshold;
		ws[k].failures += !pass;
		mpseq_map(&row);
		mpseq_str(&row, "covariate", label);
		if (term) /* a product or square (--interactions) */
			mpseq_str(&row, "term", term);
		mpseq_str(&row, "weight", ws[k].name);
		mpseq_f64(&row, "mean_treated", b.mean_t);
		mpseq_f64(&row, "mean_control", b.mean_c);
		mpseq_f64(&row, "smd", b.smd);
		if (isnan(b.var_ratio)) /* a binary covariate's, or a group's variance 0 */
			mpseq_nil(&row, "var_ratio");
		else
			mpseq_f64(&row, "var_ratio", b.var_ratio);
		mpseq_f64(&row, "ks", b.ks);
		mpseq_bool(&row, "pass", pass);
		mpseq_take(table, NULL, &row);
	}
}

/* Are a covariate's values (those present) 0 and 1 alone? */
static int
binary_values(const tally *tl)
{
	for (size_t v = 0; v < tl->nvalues; v++)
		if (tl->values[v] != 0 && tl->values[v] != 1 && !isnan(tl->values[v]))
			return 0;
	return 1;
}

/* The balance table: every covariate, every level of a categorical one
 * (reference included), under every weighting. */
static void
balance_table(balance_stream *bs, const table *schema, const balance_params *o,
    mpseq *table)
{
	mpseq_array(table);
	for (int c = 0; c < bs->ncov; c++) {
		const column *col = &schema->cols[bs->cov[c]];
		tally present, missing;
		char label[256];

		/* as cobalt: a covariate's rows on the values present, and x:<NA>
		 * comparing the shares missing */
		tally_split_missing(&bs->tally[c], &present, &missing);
		if (present.nvalues && col->type != COL_CAT)
			add_rows(table, col->name, &present, o, bs->ws, bs->nw, NULL);
		for (int l = 0; present.nvalues && col->type == COL_CAT && l < col->nlevels; l++) {
			tally level;

			tally_indicator(&present, l, &level);
			snprintf(label, sizeof label, "%s_%s", col->name, col->levels[l]);
			add_rows(table, label, &level, o, bs->ws, bs->nw, NULL);
			tally_free(&level);
		}
		if (bs->missing[c]) {
			snprintf(label, sizeof label, "%s:<NA>", col->name);
			add_rows(table, label, &missing, o, bs->ws, bs->nw, NULL);
		}
		tally_free(&present);
		tally_free(&missing);
	}
	for (int k = 0; k < bs->nproducts; k++) {
		const product *p = &bs->products[k];
		tally present, missing;

		/* a 0/1 covariate's square is itself: cobalt leaves it out */
		if (p->c[0] == p->c[1] && binary_values(&bs->tally[p->c[0]]))
			continue;
		tally_split_missing(&bs->ptally[k], &present, &missing);
		if (present.nvalues)
			add_rows(table, p->label, &present, o, bs->ws, bs->nw,
			    p->c[0] == p->c[1] ? "square" : "interaction");
		tally_free(&present);
		tally_free(&missing);
	}
}

/* The weightings (raw, then every w_* column of the input) and a tally per
 * covariate. */
static void
balance_stream_open(balance_stream *bs, const table *schema, const balance_params *o)
{
	memset(bs, 0, sizeof *bs);
	treatment_check_init(&bs->tcheck);
	bs->ws = xcalloc((size_t)schema->ncols + 1, sizeof *bs->ws);
	bs->ws[0] = (weighting){ .name = "raw", .col = -1 };
	bs->nw = 1;
	for (int c = 0; c < schema->ncols; c++) {
		const column *col = &schema->cols[c];

		if (strncmp(col->name, "w_", 2) != 0)
			continue;
		if (!column_is_numeric(col))
			die("weight column '%s' is categorical: a weight column (w_*) must "
			    "be numeric", col->name);
		bs->ws[bs->nw++] = (weighting){ .name = col->name, .col = c };
	}
	bs->wbuf = xcalloc((size_t)bs->nw, sizeof *bs->wbuf);
	{
		/* each weighting's SD; raw's: the one the weightings share, pooled
		 * when they differ (or there are none) */
		int shared = bs->nw > 1;

		for (int k = 1; k < bs->nw; k++) {
			bs->ws[k].sd = o->sd_auto ? estimand_sd(bs->ws[k].name) : o->sd;
			shared &= bs->ws[k].sd == bs->ws[1].sd;
		}
		bs->ws[0].sd = !o->sd_auto ? o->sd : shared ? bs->ws[1].sd : SD_POOLED;
	}
	bs->w = xcalloc((size_t)bs->nw, sizeof *bs->w);
	bs->w_check = xcalloc((size_t)bs->nw, sizeof *bs->w_check);
	bs->w_neg_row = xcalloc((size_t)bs->nw, sizeof *bs->w_neg_row);
	bs->w_neg_value = xcalloc((size_t)bs->nw, sizeof *bs->w_neg_value);
	for (int k = 0; k < bs->nw; k++)
		bs->w_neg_row[k] = NONE;
}

static void
balance_stream_free(balance_stream *bs)
{
	for (int c = 0; c < bs->ncov; c++)
		tally_free(&bs->tally[c]);
	free(bs->tally);
	for (int k = 0; k < bs->nproducts; k++) {
		tally_free(&bs->ptally[k]);
		free(bs->products[k].label);
	}
	free(bs->products);
	free(bs->ptally);
	for (int c = 0; bs->xv && c < bs->ncov; c++)
		free(bs->xv[c]);
	free(bs->xv);
	free(bs->x_check);
	free(bs->cov);
	for (int k = 0; k < bs->nw; k++)
		free(bs->wbuf[k]);
	free(bs->wbuf);
	free(bs->ws);
	free(bs->w);
	free(bs->w_check);
	free(bs->w_neg_row);
	free(bs->w_neg_value);
	free(bs->t);
	free(bs->x);
	free(bs->xcheck);
	free(bs->missing);
}

/* The result: the table, and the failures per weighting and in all. */
static void
balance_result(const balance_stream *bs, const table *schema, const balance_params *o,
    mpseq *table, mpseq *result)
{
	mpseq names, fails;
	int adjusted_failures = 0;

	mpseq sds;

	result_begin(result, "balance", "balance");
	mpseq_f64(result, "threshold", o->threshold);
	mpseq_str(result, "sd", o->sd_auto ? "auto" : sd_name(o->sd));
	mpseq_str(result, "variance", o->variance == BALSTAT_SAMPLE ? "sample" : "population");
	mpseq_i64(result, "n", (int64_t)bs->tcheck.rows);
	mpseq_array(&names);
	mpseq_map(&fails);
	mpseq_map(&sds);
	for (int k = 0; k < bs->nw; k++) {
		mpseq_str(&names, NULL, bs->ws[k].name);
		mpseq_i64(&fails, bs->ws[k].name, bs->ws[k].failures);
		mpseq_str(&sds, bs->ws[k].name, sd_name(bs->ws[k].sd));
		if (k > 0)
			adjusted_failures += bs->ws[k].failures;
	}
	mpseq_take(result, "weights", &names);
	mpseq_take(result, "sd_by_weight", &sds);
	mpseq_take(result, "failures_by_weight", &fails);
	{
		mpseq missing;
		int any = 0;

		mpseq_map(&missing);
		for (int c = 0; c < bs->ncov; c++)
			if (bs->missing[c]) {
				mpseq_i64(&missing, schema->cols[bs->cov[c]].name, (int64_t)bs->missing[c]);
				any = 1;
			}
		if (any) /* absent: no covariate has a missing value */
			mpseq_take(result, "missing", &missing);
		else
			mpseq_free(&missing);
	}
	/* what the threshold judges: the adjusted rows (raw when there are none) */
	mpseq_i64(result, "failures", bs->nw > 1 ? adjusted_failures : bs->ws[0].failures);
	mpseq_take(result, "table", table);
}

static void
balance_run(const void *params, const stage_roles *roles, const cli_common *cli)
{
	const balance_params *o = params;
	stage_input si;
	stream_head *h;
	balance_stream bs;
	char **covs;
	int ncov, ti, *cov;
	stream_out *out;
	mpseq result, table;

	stage_open(&si, cli);
	h = si.head;
	stream_head_set_role(&h->treatment, roles->treatment);
	stream_head_set_covariates(h, roles->covariates);
	stage_check_roles(h);
	ti = stage_numeric_column(&si.rows, stage_role(h->treatment, "treatment", "-t"),
	    "treatment", "-t");
	ncov = spec_columns(h, &covs);
	if (ncov == 0)
		die("no covariates to check: name them with -x (or at fitps)");
	cov = xreallocarray(NULL, (size_t)ncov, sizeof *cov);
	for (int c = 0; c < ncov; c++) {
		cov[c] = stage_column(&h->schema, covs[c], "covariate", "-x");
		free(covs[c]);
	}
	free(covs);
	balance_stream_open(&bs, &si.rows, o);
	bs.ti = ti;
	bs.ncov = ncov;
	bs.cov = cov;
	bs.x_check = xcalloc((size_t)ncov, sizeof *bs.x_check);
	bs.missing = xcalloc((size_t)ncov, sizeof *bs.missing);
	bs.tally = xcalloc((size_t)ncov, sizeof *bs.tally);
	for (int c = 0; c < ncov; c++)
		tally_init(&bs.tally[c], bs.nw);
	if (o->interactions)
		make_products(&bs, &h->schema);

	stage_add_recipe(&balance_module, o, h);

	out = stage_stream(&si, cli, h, balance_batch, &bs);
	die_on_problems(&bs, h, &h->schema);
	for (int c = 0; c < ncov && !cli->quiet; c++)
		if (bs.missing[c])
			err_warn("note: covariate '%s' has %zu missing values: its balance is on "
			    "the values present, and %s:<NA> compares the shares missing (as "
			    "cobalt)", h->schema.cols[cov[c]].name, bs.missing[c],
			    h->schema.cols[cov[c]].name);
	balance_table(&bs, &h->schema, o, &table);
	balance_result(&bs, &h->schema, o, &table, &result);
	stream_out_map(out, &result);
	stream_out_end(out);

	mpseq_free(&result);
	balance_stream_free(&bs);
	stage_input_free(&si);
}

/* The recipe entry, written and read side by side. balance makes no
 * estimate, so boot has nothing of it to replay. */
static void
balance_recipe_write(const void *params, const stream_head *h, mpseq *entry)
{
	const balance_params *o = params;

	(void)h;
	mpseq_str(entry, "sd", o->sd_auto ? "auto" : sd_name(o->sd));
	mpseq_str(entry, "variance", o->variance == BALSTAT_SAMPLE ? "sample" : "population");
	mpseq_f64(entry, "threshold", o->threshold);
	if (o->interactions) /* absent: main terms only, as streams before it */
		mpseq_bool(entry, "interactions", 1);
}

static void
sd_parse(balance_params *o, const char *arg)
{
	o->sd_auto = arg[0] == 'a';
	o->sd = arg[0] == 't' ? SD_TREATED : arg[0] == 'c' ? SD_CONTROL : SD_POOLED;
}

static int
balance_recipe_read(void *params, const msgpack_object *e, char *why, size_t whylen)
{
	balance_params *o = params;
	char *sd = NULL, *variance = NULL;
	int rc = 0;

	/* a key absent: as streams before it (one SD, population variances) */
	*o = (balance_params){ .sd = SD_POOLED, .variance = BALSTAT_POPULATION,
		.threshold = 0.1 };
	if (recipe_get_str(e, "balance", "sd", &sd, why, whylen) ||
	    recipe_get_str(e, "balance", "variance", &variance, why, whylen) ||
	    recipe_get_number(e, "balance", "threshold", &o->threshold, why, whylen) ||
	    recipe_get_bool(e, "balance", "interactions", &o->interactions, why, whylen))
		rc = -1;
	else if ((sd && !cli_choice(sd, "auto,pooled,treated,control")) ||
	    (variance && !cli_choice(variance, "sample,population"))) {
		snprintf(why, whylen, "the recipe's balance entry has an unknown 'sd' or "
		    "'variance'");
		rc = -1;
	} else {
		if (sd)
			sd_parse(o, sd);
		if (variance)
			o->variance = variance[0] == 's' ? BALSTAT_SAMPLE : BALSTAT_POPULATION;
	}
	free(sd);
	free(variance);
	return rc;
}

static const char balance_usage[] =
    "usage: balance [--threshold T] [--sd auto|pooled|treated|control]\n"
    "               [--population] [--interactions] [-t COL] [-x COVARIATES]\n"
    "               [stream options]\n"
    "\n"
    "Checks covariate balance between treated and controls, raw and under\n"
    "every weight column (w_*) in the stream: standardised mean difference,\n"
    "variance ratio, Kolmogorov-Smirnov distance.\n"
    "\n"
    "  --threshold T      |SMD| above T fails (default 0.1)\n"
    "  --sd MODE          SMD denominator, from the unweighted groups: auto\n"
    "                     (default, as cobalt and MatchIt: each weighting's\n"
    "                     estimand's, the treated SD for w_att and w_match, the\n"
    "                     controls' for w_atc, pooled sqrt((v_t+v_c)/2) for the\n"
    "                     rest; raw rows take the weightings' one when they\n"
    "                     share it, else pooled), or pooled, treated or control\n"
    "                     for every row\n"
    "  --population       population variances (divide by n, not n - 1) and\n"
    "                     variance ratios for binary covariates too: psflow\n"
    "                     0.14's conventions, and the reference study's. By\n"
    "                     default a binary covariate's variance is p(1 - p) and\n"
    "                     it has no ratio; others have weighted sample variances\n"
    "                     (R's cov.wt, unbiased)\n"
    "  --interactions     also the products of every pair of covariates (each\n"
    "                     level of a categorical one) and the squares of the\n"
    "                     numeric ones (not of a 0/1 one: it is its own\n"
    "                     square), as cobalt's int = TRUE, poly = 2: the\n"
    "                     imbalance a main-effects model leaves on them fails\n"
    "                     like any other row\n"
    "  -t, -x             override the treatment and covariate roles\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  ... | weight --estimand ate,att | match | balance --threshold 0.05 | report\n";

enum { OPT_THRESHOLD = OPT_PROGRAM_BASE, OPT_SD, OPT_INTERACTIONS, OPT_POPULATION };

static const struct option balance_longopts[] = {
	{ "threshold", required_argument, NULL, OPT_THRESHOLD },
	{ "sd", required_argument, NULL, OPT_SD },
	{ "interactions", no_argument, NULL, OPT_INTERACTIONS },
	{ "population", no_argument, NULL, OPT_POPULATION },
	{ NULL, 0, NULL, 0 },
};

static void
balance_defaults(void *params)
{
	balance_params *o = params;

	*o = (balance_params){ .sd_auto = 1, .sd = SD_POOLED, .variance = BALSTAT_SAMPLE,
		.threshold = 0.1 };
}

static void
balance_option(void *params, int opt, const char *arg)
{
	balance_params *o = params;

	switch (opt) {
	case OPT_THRESHOLD: o->threshold = cli_double("--threshold", arg, 0, 10); break;
	case OPT_SD:
		if (!cli_choice(arg, "auto,pooled,treated,control"))
			die_usage("--sd wants auto, pooled, treated or control, not '%s'", arg);
		sd_parse(o, arg);
		break;
	case OPT_INTERACTIONS: o->interactions = 1; break;
	case OPT_POPULATION: o->variance = BALSTAT_POPULATION; break;
	}
}

/* The options that make the entry again (cmdline.h). */
static int
balance_command(const void *params, const void *defaults, cmdline *cmd)
{
	const balance_params *o = params, *d = defaults;

	if (o->sd_auto != d->sd_auto || (!o->sd_auto && o->sd != d->sd))
		cmdline_opt(cmd, "--sd", o->sd_auto ? "auto" : sd_name(o->sd));
	if (o->variance != d->variance)
		cmdline_word(cmd, "--population");
	if (o->threshold != d->threshold)
		cmdline_num(cmd, "--threshold", o->threshold);
	if (o->interactions)
		cmdline_word(cmd, "--interactions");
	return 0;
}

const stage_module balance_module = {
	.name = "balance",
	.usage = balance_usage,
	.shortopts = "",
	.role_options = ROLE_TREATMENT | ROLE_COVARIATES,
	.longopts = balance_longopts,
	.params_size = sizeof(balance_params),
	.defaults = balance_defaults,
	.option = balance_option,
	.recipe_write = balance_recipe_write,
	.recipe_read = balance_recipe_read,
	.command = balance_command,
	.run = balance_run,
};
