/* sensitivity — how fragile is each estimate to a confounder nobody
 * measured?
 *
 * Contract: reads the outcome and treatment (roles, or -y/-t), and
 * match_set when match ran without replacement; passes the rows on as they
 * come and adds nothing to them; after the upstream results (passed on
 * untouched) makes the result `sensitivity`: a row per upstream estimate
 * (every result with an `estimate` and an `estimand`) with its E-value
 * (VanderWeele and Ding 2017) and that of the confidence limit nearest the
 * null, and a tipping-point table; and Rosenbaum bounds for 1:1 matched
 * pairs (kernels/hidden_bias.h). It makes no estimate, so boot has nothing
 * of it to replay: run it after boot, whose intervals it then uses. */
#include "sensitivity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootci.h"
#include "err.h"
#include "hidden_bias.h"
#include "mpo.h"
#include "stage.h"
#include "xalloc.h"

/* The prevalence differences of the tipping-point table. */
static const double tipping_delta[] = { 0.1, 0.2, 0.3, 0.5, 1.0 };

/* What the rows tell: the outcome's kind and spread by group. */
typedef struct {
	int binary;
	double sd;            /* pooled: sqrt((var_treated + var_control) / 2) */
} outcome_facts;

static outcome_facts
outcome_of(const uint8_t *t, const double *y, size_t n)
{
	double sum[2] = { 0, 0 }, sq[2] = { 0, 0 }, cnt[2] = { 0, 0 }, var[2];
	outcome_facts f = { 1, NAN };

	for (size_t i = 0; i < n; i++) {
		f.binary &= y[i] == 0 || y[i] == 1;
		sum[t[i]] += y[i];
		cnt[t[i]]++;
	}
	for (size_t i = 0; i < n; i++) {
		double d = y[i] - sum[t[i]] / cnt[t[i]];

		sq[t[i]] += d * d;
	}
	for (int g = 0; g < 2; g++)
		var[g] = cnt[g] > 0 ? sq[g] / cnt[g] : NAN;
	f.sd = sqrt((var[0] + var[1]) / 2);
	return f;
}

/* The risk ratio that goes with a difference d against a control mean m0
 * (a 0/1 outcome), or exp(0.91 d / sd) (another: VanderWeele and Ding's
 * conversion of a standardised difference). */
static double
risk_ratio(const outcome_facts *f, double d, double m0)
{
	if (f->binary)
		return m0 > 0 ? (m0 + d) / m0 : NAN;
	return exp(0.91 * d / f->sd);
}

/* One upstream estimate's row; 0, or -1 when r is not an estimate. */
static int
estimate_row(mpseq *rows, const msgpack_object *r, const outcome_facts *f,
    const sensitivity_params *o)
{
	const msgpack_object *ci = mpo_get(r, "ci"), *means = mpo_get(r, "mean_outcome");
	double est, se = NAN, lo, hi, m0 = NAN, limit, rr, rr_limit;
	char *name = mpo_strdup(mpo_get(r, "name")), *stage = mpo_strdup(mpo_get(r, "stage"));
	char *estimand = mpo_strdup(mpo_get(r, "estimand"));
	const char *ci_from = "boot";
	mpseq row, tip;
	int crosses;

	if (name == NULL || estimand == NULL || mpo_number(mpo_get(r, "estimate"), &est) != 0 ||
	    !isfinite(est)) {
		free(name), free(stage), free(estimand);
		return -1;
	}
	mpo_number(mpo_get(r, "se"), &se);
	if (ci && ci->type == MSGPACK_OBJECT_ARRAY && ci->via.array.size == 2 &&
	    mpo_number(&ci->via.array.ptr[0], &lo) == 0 &&
	    mpo_number(&ci->via.array.ptr[1], &hi) == 0) {
		const msgpack_object *method = mpo_get(r, "ci_method");
		char *m = mpo_strdup(method);

		ci_from = m && strcmp(m, "normal") == 0 ? "boot, normal" :
		    m && strcmp(m, "bca") == 0 ? "boot, bca" : "boot, percentile";
		free(m);
	} else {
		double z = normal_quantile(1 - o->alpha / 2);

		lo = est - z * se;
		hi = est + z * se;
		ci_from = "estimate +- z se";
	}
	if (means && means->type == MSGPACK_OBJECT_MAP)
		mpo_number(mpo_get(means, "control"), &m0);
	crosses = !(lo > 0 || hi < 0);
	limit = est >= 0 ? lo : hi; /* the limit nearest the null */
	rr = risk_ratio(f, est, m0);
	rr_limit = crosses ? 1 : risk_ratio(f, limit, m0);

	mpseq_map(&row);
	mpseq_str(&row, "estimate", name);
	mpseq_str(&row, "stage", stage);
	mpseq_str(&row, "estimand", estimand);
	mpseq_f64(&row, "value", est);
	mpseq_f64_pair(&row, "ci", lo, hi);
	mpseq_str(&row, "ci_from", ci_from);
	if (mpo_get(r, "outcome")) /* several outcomes: this one's kind */
		mpseq_str(&row, "outcome", f->binary ? "binary" : "continuous");
	mpseq_str(&row, "rr_from", f->binary ? "the estimand's outcome means" :
	    "exp(0.91 d), d the difference over the pooled SD");
	mpseq_f64(&row, "rr", rr);
	mpseq_f64(&row, "evalue", evalue(rr));
	mpseq_f64(&row, "rr_ci", rr_limit);
	mpseq_f64(&row, "evalue_ci", crosses ? 1 : evalue(rr_limit));
	/* a binary hidden trait with prevalences p1, p0 among the treated and
	 * controls and effect g on the outcome biases the estimate by
	 * g (p1 - p0): the g that moves the estimate, or its CI limit, to 0 */
	mpseq_array(&tip);
	for (size_t k = 0; k < sizeof tipping_delta / sizeof tipping_delta[0]; k++) {
		mpseq cell;

		mpseq_map(&cell);
		mpseq_f64(&cell, "prevalence_difference", tipping_delta[k]);
		mpseq_f64(&cell, "effect_to_null", est / tipping_delta[k]);
		mpseq_f64(&cell, "effect_to_ci_null", crosses ? 0 : limit / tipping_delta[k]);
		mpseq_take(&tip, NULL, &cell);
	}
	mpseq_take(&row, "tipping", &tip);
	mpseq_take(rows, NULL, &row);
	free(name), free(stage), free(estimand);
	return 0;
}

typedef struct {
	size_t wins, discordant;
	const double *d;
	size_t n;
} pair_test;

static double
sign_p(double gamma, const void *ctx)
{
	const pair_test *p = ctx;

	return rosenbaum_sign_p(p->wins, p->discordant, gamma);
}

static double
wilcoxon_p(double gamma, const void *ctx)
{
	const pair_test *p = ctx;

	return rosenbaum_wilcoxon_p(p->d, p->n, gamma);
}

/* Rosenbaum bounds from the matched pairs (match_set), in the direction of
 * the matching estimate; or why they are not computed. */
static void
rosenbaum(mpseq *result, const table *rows, const stream_head *h, const rawlist *results,
    const outcome_facts *f, const sensitivity_params *o)
{
	int si = table_find(rows, "match_set"), ti = table_find(rows, h->treatment);
	int yi = table_find(rows, h->outcome), k = 0, replace = 1, found = 0;
	double est = 0, *yt = NULL, *yc = NULL, *d;
	size_t nsets = 0, npairs = 0;
	const char *why = NULL;
	mpseq r;

	for (int i = 0; i < results->n; i++) {
		msgpack_unpacked u;
		int64_t kk;

		mpraw_unpack(&results->items[i], &u);
		if (mpo_is_str(mpo_get(&u.data, "name"), "match_att")) {
			const msgpack_object *rep = mpo_get(&u.data, "replace");

			found = 1;
			mpo_number(mpo_get(&u.data, "estimate"), &est);
			k = mpo_int(mpo_get(&u.data, "k"), &kk) == 0 ? (int)kk : 0;
			/* pairs only without replacement: anything else counts as with */
			replace = !(rep && rep->type == MSGPACK_OBJECT_BOOLEAN && !rep->via.boolean);
		}
		msgpack_unpacked_destroy(&u);
	}
	mpseq_map(&r);
	if (!found)
		why = "no matching estimate upstream (run match -k 1 --no-replace)";
	else if (replace || k != 1 || si < 0)
		why = "they need 1:1 matched pairs: match -k 1 --no-replace";
	if (why) {
		mpseq_bool(&r, "computed", 0);
		mpseq_str(&r, "why", why);
		mpseq_take(result, "rosenbaum", &r);
		return;
	}
	for (size_t i = 0; i < rows->nrows; i++) {
		int64_t s = ((const int64_t *)rows->cols[si].data)[i];

		if (s != I64_MISSING && (size_t)s + 1 > nsets)
			nsets = (size_t)s + 1;
	}
	yt = xreallocarray(NULL, nsets + 1, sizeof *yt);
	yc = xreallocarray(NULL, nsets + 1, sizeof *yc);
	for (size_t s = 0; s < nsets; s++)
		yt[s] = yc[s] = NAN;
	for (size_t i = 0; i < rows->nrows; i++) {
		int64_t s = ((const int64_t *)rows->cols[si].data)[i];

		if (s == I64_MISSING)
			continue;
		(column_f64(&rows->cols[ti], i) != 0 ? yt : yc)[s] = column_f64(&rows->cols[yi], i);
	}
	d = xreallocarray(NULL, nsets + 1, sizeof *d);
	for (size_t s = 0; s < nsets; s++)
		if (!isnan(yt[s]) && !isnan(yc[s]))
			d[npairs++] = est >= 0 ? yt[s] - yc[s] : yc[s] - yt[s];
	{
		pair_test p = { 0, 0, d, npairs };
		int significant;
		double gamma, p1;

		for (size_t s = 0; s < npairs; s++) {
			p.wins += d[s] > 0;
			p.discordant += d[s] != 0;
		}
		p1 = f->binary ? sign_p(1, &p) : wilcoxon_p(1, &p);
		gamma = rosenbaum_gamma(f->binary ? sign_p : wilcoxon_p, &p, o->alpha,
		    o->gamma_max, &significant);
		mpseq_bool(&r, "computed", 1);
		mpseq_str(&r, "test", f->binary ? "sign-score (McNemar)" :
		    "Wilcoxon signed rank (normal approximation)");
		mpseq_i64(&r, "pairs", (int64_t)npairs);
		if (f->binary)
			mpseq_i64(&r, "discordant", (int64_t)p.discordant);
		mpseq_f64(&r, "alpha", o->alpha);
		mpseq_f64(&r, "p_gamma_1", p1);
		mpseq_bool(&r, "significant", significant);
		mpseq_f64(&r, "gamma", gamma);
		mpseq_bool(&r, "gamma_at_limit", significant && gamma >= o->gamma_max);
	}
	mpseq_take(result, "rosenbaum", &r);
	free(yt), free(yc), free(d);
}

/* The columns the stage reads; the rest go on unread. */
typedef struct {
	const stream_head *h;
	const stage_outcome_list *outcomes;
} keep_ctx;

static int
keep_column(const char *column, void *ctx)
{
	const keep_ctx *k = ctx;
	const stream_head *h = k->h;

	return stage_outcome_list_has(k->outcomes, column) ||
	    (h->treatment && strcmp(column, h->treatment) == 0) ||
	    (h->outcome && strcmp(column, h->outcome) == 0) || strcmp(column, "match_set") == 0;
}

/* The facts of the outcome a result is of: its "outcome" (several
 * outcomes), else the role's. */
static const outcome_facts *
facts_of(const msgpack_object *r, stage_input *si, const uint8_t *t,
    const stage_outcome_list *outcomes, outcome_facts *facts, int *known,
    const outcome_facts *role)
{
	char *name = mpo_strdup(mpo_get(r, "outcome"));
	int k = -1;

	for (int i = 0; name && i < outcomes->n; i++)
		if (strcmp(outcomes->names[i], name) == 0)
			k = i;
	free(name);
	if (k < 0)
		return role;
	if (!known[k]) {
		size_t n = si->rows.nrows;
		double *y = xreallocarray(NULL, n + 1, sizeof *y);

		stage_finite(&si->rows.cols[stage_numeric_column(&si->rows, outcomes->names[k],
		    "outcome", "-y")], n, y, "outcome");
		facts[k] = outcome_of(t, y, n);
		known[k] = 1;
		free(y);
	}
	return &facts[k];
}

static void
sensitivity_run(const void *params, const stage_roles *roles, const cli_common *cli)
{
	const sensitivity_params *o = params;
	stage_input si;
	stream_head *h;
	stream_out *out;
	mpseq recipe, result, rows;
	stage_arrays a;
	outcome_facts f, *facts;
	stage_outcome_list outcomes;
	int n = 0, *known;

	stage_open(&si, cli);
	h = si.head;
	stream_head_set_role(&h->treatment, roles->treatment);
	stream_head_set_role(&h->outcome, roles->outcome);
	stage_check_roles(h);
	stage_numeric_column(&si.rows, stage_role(h->treatment, "treatment", "-t"),
	    "treatment", "-t");
	stage_numeric_column(&si.rows, stage_role(h->outcome, "outcome", "-y"), "outcome", "-y");
	stage_recipe_entry(&sensitivity_module, o, h, &recipe);
	stage_recipe_outcomes(h, h->outcome, &outcomes);
	{
		keep_ctx kc = { h, &outcomes };

		out = stage_read_all_passing(&si, cli, &recipe, keep_column, &kc);
	}
	mpseq_free(&recipe);
	stage_arrays_get(&si, NULL, NULL, NULL, 0, &a);
	f = outcome_of(a.t, a.y, a.n);
	facts = xcalloc((size_t)outcomes.n + 1, sizeof *facts);
	known = xcalloc((size_t)outcomes.n + 1, sizeof *known);

	mpseq_array(&rows);
	for (int i = 0; i < si.results.n; i++) {
		msgpack_unpacked u;

		stream_out_raw(out, si.results.items[i].bytes, si.results.items[i].len);
		mpraw_unpack(&si.results.items[i], &u);
		if (mpo_get(&u.data, "estimate"))
			n += estimate_row(&rows, &u.data, facts_of(&u.data, &si, a.t, &outcomes,
			    facts, known, &f), o) == 0;
		msgpack_unpacked_destroy(&u);
	}
	free(facts), free(known);
	stage_outcome_list_free(&outcomes);
	if (n == 0)
		die("no estimate upstream to judge: run sensitivity after weight, match "
		    "(and boot)");
	result_begin(&result, "sensitivity", "sensitivity");
	mpseq_str(&result, "outcome", f.binary ? "binary" : "continuous");
	mpseq_f64(&result, "outcome_sd", f.sd);
	mpseq_take(&result, "estimates", &rows);
	rosenbaum(&result, &si.rows, h, &si.results, &f, o);
	stream_out_map(out, &result);
	stream_out_end(out);
	mpseq_free(&result);
	stage_arrays_free(&a);
	stage_input_free(&si);
}

/* The recipe entry, written and read side by side. */
static void
sensitivity_recipe_write(const void *params, const stream_head *h, mpseq *entry)
{
	const sensitivity_params *o = params;

	(void)h;
	mpseq_f64(entry, "alpha", o->alpha);
	mpseq_f64(entry, "gamma_max", o->gamma_max);
}

static int
sensitivity_recipe_read(void *params, const msgpack_object *e, char *why, size_t whylen)
{
	sensitivity_params *o = params;

	o->alpha = 0.05;
	o->gamma_max = 20;
	return recipe_get_number(e, "sensitivity", "alpha", &o->alpha, why, whylen) ||
	    recipe_get_number(e, "sensitivity", "gamma_max", &o->gamma_max, why, whylen) ?
	    -1 : 0;
}

static const char sensitivity_usage[] =
    "usage: sensitivity [--alpha A] [--gamma-max G] [-t COL] [-y COL]\n"
    "                   [stream options]\n"
    "\n"
    "Says how strong a confounder nobody measured would have to be to explain\n"
    "each upstream estimate away. For every estimate (naive, ipw_*, match_att,\n"
    "...) the E-value (VanderWeele and Ding 2017): the risk ratio a hidden\n"
    "confounder would need with both treatment and outcome to move the estimate\n"
    "to the null, and the same for the confidence limit nearest the null (1\n"
    "when the interval crosses it; boot's interval when boot ran, else estimate\n"
    "+- z se). The risk ratio is the estimand's outcome means for a 0/1 outcome,\n"
    "exp(0.91 d) for another (d: the difference over the pooled SD). A\n"
    "tipping-point table: for a hidden binary trait whose prevalence differs by\n"
    "p1 - p0 between treated and controls, the effect on the outcome it would\n"
    "need to move the estimate (and its CI limit) to 0. And Rosenbaum bounds\n"
    "for 1:1 matched pairs (match -k 1 --no-replace): the largest Gamma, the\n"
    "odds of treatment within a pair, at which the effect stays significant\n"
    "(sign-score test for a 0/1 outcome, Wilcoxon signed rank for another).\n"
    "Run it after boot.\n"
    "\n"
    "  --alpha A          significance level (default 0.05)\n"
    "  --gamma-max G      the largest Gamma searched (default 20)\n"
    "  -t, -y COL         override the treatment and outcome roles\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  gen | fitps -x engagement_tier,query_confidence | weight -e ate,att \\\n"
    "      | match -k 1 --no-replace | boot -B 500 | sensitivity | report\n";

enum { OPT_ALPHA = OPT_PROGRAM_BASE, OPT_GAMMA_MAX };

static const struct option sensitivity_longopts[] = {
	{ "alpha", required_argument, NULL, OPT_ALPHA },
	{ "gamma-max", required_argument, NULL, OPT_GAMMA_MAX },
	{ NULL, 0, NULL, 0 },
};

static void
sensitivity_defaults(void *params)
{
	sensitivity_params *o = params;

	o->alpha = 0.05;
	o->gamma_max = 20;
}

static void
sensitivity_option(void *params, int opt, const char *arg)
{
	sensitivity_params *o = params;

	switch (opt) {
	case OPT_ALPHA: o->alpha = cli_double("--alpha", arg, 1e-6, 0.5); break;
	case OPT_GAMMA_MAX: o->gamma_max = cli_double("--gamma-max", arg, 1, 1000); break;
	}
}

/* The options that make the entry again (cmdline.h). */
static int
sensitivity_command(const void *params, const void *defaults, cmdline *cmd)
{
	const sensitivity_params *o = params, *d = defaults;

	if (o->alpha != d->alpha)
		cmdline_num(cmd, "--alpha", o->alpha);
	if (o->gamma_max != d->gamma_max)
		cmdline_num(cmd, "--gamma-max", o->gamma_max);
	return 0;
}

const stage_module sensitivity_module = {
	.name = "sensitivity",
	.usage = sensitivity_usage,
	.shortopts = "",
	.longopts = sensitivity_longopts,
	.role_options = ROLE_TREATMENT | ROLE_OUTCOME,
	.params_size = sizeof(sensitivity_params),
	.defaults = sensitivity_defaults,
	.option = sensitivity_option,
	.recipe_write = sensitivity_recipe_write,
	.recipe_read = sensitivity_recipe_read,
	.command = sensitivity_command,
	.run = sensitivity_run,
};
