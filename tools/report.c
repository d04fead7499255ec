/* report — what a person reads at the end of a flow.
 *
 * Contract: reads any stream; prints its results: the estimates (with SE,
 * CI and, when the head carries the truth, the bias), the propensity model,
 * weighting and matching diagnostics, the balance table, and any other
 * result. --json prints one JSON document instead, --markdown pipe tables. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cmdline.h"
#include "module.h"
#include "err.h"
#include "xalloc.h"
#include "mpo.h"
#include "stage.h"
#include "stream.h"
#include "texttable.h"

#include "report/figures.h"
#include "report/page.h"
#include "report/png.h"

static const char usage_text[] =
    "usage: report [--json | --markdown] [--digits N] [--html FILE] [--svg DIR]\n"
    "              [--png DIR] [stream options]\n"
    "\n"
    "Prints the results of a psflow stream as tables: estimates with standard\n"
    "errors, intervals and (when the stream came from gen) bias against the\n"
    "truth; the propensity model; weights and matches; covariate balance; the\n"
    "flow as a command line to rerun. And draws them: the estimates with their\n"
    "intervals, a Love plot of balance, the propensity overlap by group and\n"
    "weighting, the bootstrap distributions.\n"
    "\n"
    "  --json             one JSON document: rows, meta, recipe, results\n"
    "  --markdown         Markdown tables, for pasting into a document\n"
    "  --digits N         decimals for estimates (default 4)\n"
    "  --html FILE        also write one self-contained HTML page (inline SVG and\n"
    "                     CSS, no script, nothing fetched) with the figures and\n"
    "                     the tables; '-' writes it to stdout instead of the text\n"
    "  --svg DIR          also write each figure as DIR/NAME.svg (estimates, love,\n"
    "                     overlap, bootstrap: those the stream has data for)\n"
    "  --png DIR          also write each figure as DIR/NAME.png (librsvg), at\n"
    "                     twice its size\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  gen | fitps -t opt_in_agent_mode -y task_completed \\\n"
    "      -x engagement_tier,query_confidence | weight -e ate,att | match | balance | report\n";

enum { OPT_JSON = OPT_PROGRAM_BASE, OPT_MARKDOWN, OPT_DIGITS, OPT_HTML, OPT_SVG, OPT_PNG };

static int markdown, digits = 4;
static FILE *out; /* where the sections print: stdout, or the page's buffer */
static const char *out_name = "stdout"; /* stdout's name in messages (--out FILE) */

/* Decoded results. msgpack-c's strings point into the bytes they were
 * decoded from, and the reader reuses its buffer: each entry keeps its own
 * copy of the bytes, alive as long as the object. */
typedef struct {
	msgpack_unpacked *items;
	mpraw *bytes;
	int n;
} objlist;

static void
objlist_add(objlist *l, const mpraw *raw)
{
	l->items = xreallocarray(l->items, (size_t)l->n + 1, sizeof *l->items);
	l->bytes = xreallocarray(l->bytes, (size_t)l->n + 1, sizeof *l->bytes);
	mpraw_copy(&l->bytes[l->n], raw->bytes, raw->len);
	mpraw_unpack(&l->bytes[l->n], &l->items[l->n]);
	l->n++;
}

static void
objlist_free(objlist *l)
{
	for (int i = 0; i < l->n; i++) {
		msgpack_unpacked_destroy(&l->items[i]);
		free(l->bytes[i].bytes);
	}
	free(l->items);
	free(l->bytes);
}

static const msgpack_object *
obj(const objlist *l, int i)
{
	return &l->items[i].data;
}

/* ---- formatting ---------------------------------------------------------- */

static char *
num(char *buf, size_t size, const msgpack_object *o, int prec, int sign)
{
	double x;

	if (mpo_number(o, &x) != 0 || !isfinite(x))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, sign ? "%+.*f" : "%.*f", prec, x);
	return buf;
}

static char *
str(char *buf, size_t size, const msgpack_object *o)
{
	double x;

	if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
		snprintf(buf, size, "-");
	else if (o->type == MSGPACK_OBJECT_STR)
		snprintf(buf, size, "%.*s", (int)o->via.str.size, o->via.str.ptr);
	else if (o->type == MSGPACK_OBJECT_BOOLEAN)
		snprintf(buf, size, "%s", o->via.boolean ? "yes" : "no");
	else if (mpo_number(o, &x) == 0)
		snprintf(buf, size, x == floor(x) && fabs(x) < 1e15 ? "%.0f" : "%.4g", x);
	else
		snprintf(buf, size, "(%s)", mpo_type_name(o));
	return buf;
}

static void
heading(const char *title)
{
	if (markdown)
		fprintf(out, "\n### %s\n\n", title);
	else
		fprintf(out, "\n%s\n", title);
}

static void
print_table(texttable *t)
{
	texttable_print(t, out, markdown, markdown ? "" : "  ");
	texttable_free(t);
}

static const msgpack_object *
pair_get(const msgpack_object *m, const char *key, const char *group)
{
	return mpo_get(mpo_get(m, key), group);
}

/* An interval [lo, hi] as "[+lo, +hi]" (digits decimals) after prefix, or
 * "-" when ci is not one. */
static char *
interval(char *buf, size_t size, const char *prefix, const msgpack_object *ci)
{
	double lo, hi;

	if (ci && ci->type == MSGPACK_OBJECT_ARRAY && ci->via.array.size == 2 &&
	    mpo_number(&ci->via.array.ptr[0], &lo) == 0 &&
	    mpo_number(&ci->via.array.ptr[1], &hi) == 0)
		snprintf(buf, size, "%s[%+.*f, %+.*f]", prefix, digits, lo, digits, hi);
	else
		snprintf(buf, size, "-");
	return buf;
}

/* ---- sections ------------------------------------------------------------ */

static void
estimates(const objlist *res, const msgpack_object *truth, const msgpack_object *truth_outcome)
{
	static const char *hdr[] = { "result", "stage", "estimand", "estimate", "SE",
		"CI", "n", "truth", "bias" };
	texttable t;
	int any = 0;

	texttable_init(&t, 9, hdr, "lllrrlrrr");
	for (int i = 0; i < res->n; i++) {
		const msgpack_object *r = obj(res, i), *ci = mpo_get(r, "ci");
		char name[64], stage[64], est[64], e[32], se[32], cis[80], n[32], tr[32], bias[32];
		const char *cells[9];
		double x, truth_v, level = 0.95;

		if (mpo_get(r, "estimate") == NULL)
			continue;
		any = 1;
		str(est, sizeof est, mpo_get(r, "estimand"));
		{
			char level_text[16];

			mpo_number(mpo_get(r, "ci_level"), &level);
			snprintf(level_text, sizeof level_text, "%.0f%% ", 100 * level);
			interval(cis, sizeof cis, level_text, ci);
		}
		snprintf(tr, sizeof tr, "-");
		snprintf(bias, sizeof bias, "-");
		/* the naive difference is judged against the ATE */
		if (report_truth(&(report_results){ .truth = truth, .truth_outcome = truth_outcome },
		    r, &truth_v) == 0) {
			snprintf(tr, sizeof tr, "%+.*f", digits, truth_v);
			if (mpo_number(mpo_get(r, "estimate"), &x) == 0 && isfinite(x))
				snprintf(bias, sizeof bias, "%+.*f", digits, x - truth_v);
		}
		cells[0] = str(name, sizeof name, mpo_get(r, "name"));
		cells[1] = str(stage, sizeof stage, mpo_get(r, "stage"));
		cells[2] = est;
		cells[3] = num(e, sizeof e, mpo_get(r, "estimate"), digits, 1);
		cells[4] = num(se, sizeof se, mpo_get(r, "se"), digits, 0);
		cells[5] = cis;
		cells[6] = str(n, sizeof n, mpo_get(r, "n"));
		cells[7] = tr;
		cells[8] = bias;
		texttable_row(&t, cells);
	}
	if (any) {
		heading("Estimates");
		print_table(&t);
	} else
		texttable_free(&t);
}

static void
ps_model(const msgpack_object *r)
{
	static const char *hdr[] = { "term", "coef", "SE" };
	static const char *cal_hdr[] = { "covariate", "level", "n", "mean ps", "treated rate" };
	const msgpack_object *terms = mpo_get(r, "terms"), *cal = mpo_get(r, "calibration");
	char a[64], b[64], c[64], d[64], e[64], title[256];
	texttable t;

	snprintf(title, sizeof title, "Propensity model (%s, %s%s%s)",
	    str(a, sizeof a, mpo_get(r, "stage")), str(b, sizeof b, mpo_get(r, "model")),
	    mpo_get(r, "l2") && mpo_get(r, "l2")->type != MSGPACK_OBJECT_NIL ? ", L2 C=" : "",
	    mpo_get(r, "l2") && mpo_get(r, "l2")->type != MSGPACK_OBJECT_NIL ?
	    str(c, sizeof c, mpo_get(r, "l2")) : "");
	heading(title);
	fputs(markdown ? "" : "  ", out);
	if (mpo_get(r, "iterations"))
		fprintf(out, "%s iterations, converged: %s, log-likelihood %s, ",
		    str(a, sizeof a, mpo_get(r, "iterations")),
		    str(b, sizeof b, mpo_get(r, "converged")),
		    num(c, sizeof c, mpo_get(r, "loglik"), 2, 0));
	if (mpo_get(r, "trees")) { /* a boosted model: how many trees, chosen how */
		char f[64], g[64];

		fprintf(out, "%s trees of %s", str(a, sizeof a, mpo_get(r, "trees")),
		    str(b, sizeof b, mpo_get(r, "trees_max")));
		if (!mpo_is_str(mpo_get(r, "stop"), "none"))
			fprintf(out, " (stop %s, %s weights: %s)", str(c, sizeof c, mpo_get(r, "stop")),
			    str(f, sizeof f, mpo_get(r, "stop_estimand")),
			    num(g, sizeof g, mpo_get(r, "criterion"), 4, 0));
		fprintf(out, ", depth %s, eta %s, subsample %s, seed %s, ",
		    str(a, sizeof a, mpo_get(r, "depth")), str(b, sizeof b, mpo_get(r, "eta")),
		    str(c, sizeof c, mpo_get(r, "subsample")), str(f, sizeof f, mpo_get(r, "seed")));
	}
	fprintf(out, "n %s, AUC %s\n", str(e, sizeof e, mpo_get(r, "n")),
	    num(d, sizeof d, mpo_get(r, "auc"), 4, 0));
	{
		const msgpack_object *tr = pair_get(r, "ps_range", "treated");
		const msgpack_object *co = pair_get(r, "ps_range", "control");

		if (tr && co && tr->type == MSGPACK_OBJECT_ARRAY && tr->via.array.size == 2 &&
		    co->type == MSGPACK_OBJECT_ARRAY && co->via.array.size == 2)
			fprintf(out, "%sps range: treated %s - %s, control %s - %s\n",
			    markdown ? "\n" : "  ",
			    num(a, sizeof a, &tr->via.array.ptr[0], 4, 0),
			    num(b, sizeof b, &tr->via.array.ptr[1], 4, 0),
			    num(c, sizeof c, &co->via.array.ptr[0], 4, 0),
			    num(d, sizeof d, &co->via.array.ptr[1], 4, 0));
	}
	{
		const msgpack_object *pos = mpo_get(r, "positivity");
		double lo = NAN, hi = NAN, tr = NAN, co = NAN;
		const msgpack_object *band = pos ? mpo_get(pos, "band") : NULL;

		if (band && band->type == MSGPACK_OBJECT_ARRAY && band->via.array.size == 2) {
			mpo_number(&band->via.array.ptr[0], &lo);
			mpo_number(&band->via.array.ptr[1], &hi);
			mpo_number(mpo_get(mpo_get(pos, "outside"), "treated"), &tr);
			mpo_number(mpo_get(mpo_get(pos, "outside"), "control"), &co);
			fprintf(out, "%spositivity: %.1f%% of the treated and %.1f%% of the controls "
			    "outside [%g, %g]\n", markdown ? "\n" : "  ", 100 * tr, 100 * co, lo, hi);
		}
	}
	if (markdown)
		fputc('\n', out);
	if (terms && terms->type == MSGPACK_OBJECT_ARRAY && terms->via.array.size > 0) {
		texttable_init(&t, 3, hdr, "lrr");
		for (uint32_t i = 0; i < terms->via.array.size; i++) {
			const msgpack_object *term = &terms->via.array.ptr[i];
			const char *cells[3] = { str(a, sizeof a, mpo_get(term, "term")),
				num(b, sizeof b, mpo_get(term, "coef"), 6, 1),
				num(c, sizeof c, mpo_get(term, "se"), 6, 0) };

			texttable_row(&t, cells);
		}
		print_table(&t);
	}
	if (cal && cal->type == MSGPACK_OBJECT_ARRAY && cal->via.array.size > 0) {
		fprintf(out, "%sCalibration: mean propensity against the treated share, by level\n",
		    markdown ? "\n" : "\n  ");
		if (markdown)
			fputc('\n', out);
		texttable_init(&t, 5, cal_hdr, "llrrr");
		for (uint32_t i = 0; i < cal->via.array.size; i++) {
			const msgpack_object *row = &cal->via.array.ptr[i];
			const char *cells[5] = { str(a, sizeof a, mpo_get(row, "covariate")),
				str(b, sizeof b, mpo_get(row, "level")),
				str(c, sizeof c, mpo_get(row, "n")),
				num(d, sizeof d, mpo_get(row, "mean_ps"), 4, 0),
				num(e, sizeof e, mpo_get(row, "treated_rate"), 4, 0) };

			texttable_row(&t, cells);
		}
		print_table(&t);
	}
}

/* fitps --common-support: the band and the units left out of every later
 * stage. */
static void
common_support(const msgpack_object *r)
{
	const msgpack_object *band = mpo_get(r, "band"), *o = mpo_get(r, "outside");
	int pair = band && band->type == MSGPACK_OBJECT_ARRAY && band->via.array.size == 2;
	char rule[64], stage[64], lo[64], hi[64], t[64], c[64], col[64];

	heading("Common support");
	fprintf(out, "%srule %s (%s): ps in [%s, %s]; outside: %s treated, %s controls, left "
	    "out of every later stage (column %s)\n", markdown ? "" : "  ",
	    str(rule, sizeof rule, mpo_get(r, "rule")), str(stage, sizeof stage, mpo_get(r, "stage")),
	    pair ? num(lo, sizeof lo, &band->via.array.ptr[0], 6, 0) : "?",
	    pair ? num(hi, sizeof hi, &band->via.array.ptr[1], 6, 0) : "?",
	    str(t, sizeof t, mpo_get(o, "treated")), str(c, sizeof c, mpo_get(o, "control")),
	    str(col, sizeof col, mpo_get(r, "column")));
}

static void
weight_details(const objlist *res)
{
	static const char *hdr[] = { "result", "ESS treated", "ESS control",
		"max w treated", "max w control", "trimmed", "truncated" };
	texttable t;
	int any = 0;

	texttable_init(&t, 7, hdr, "lrrrrrr");
	for (int i = 0; i < res->n; i++) {
		const msgpack_object *r = obj(res, i);
		char a[64], b[32], c[32], d[32], e[32], f[64], g[32];
		double tt = 0, tc = 0;

		if (mpo_get(r, "ess") == NULL)
			continue;
		any = 1;
		mpo_number(pair_get(r, "trimmed", "treated"), &tt);
		mpo_number(pair_get(r, "trimmed", "control"), &tc);
		snprintf(f, sizeof f, "%.0f", tt + tc);
		{
			const char *cells[7] = { str(a, sizeof a, mpo_get(r, "name")),
				num(b, sizeof b, pair_get(r, "ess", "treated"), 1, 0),
				num(c, sizeof c, pair_get(r, "ess", "control"), 1, 0),
				num(d, sizeof d, pair_get(r, "max_weight", "treated"), 3, 0),
				num(e, sizeof e, pair_get(r, "max_weight", "control"), 3, 0),
				f, str(g, sizeof g, mpo_get(r, "truncated")) };

			texttable_row(&t, cells);
		}
	}
	if (any) {
		heading("Weights");
		print_table(&t);
	} else
		texttable_free(&t);
}

static void
match_details(const objlist *res)
{
	static const char *hdr[] = { "result", "k", "ties", "replace", "caliper",
		"treated matched", "unmatched", "controls used" };
	texttable t;
	int any = 0;

	texttable_init(&t, 8, hdr, "lrllrrrr");
	for (int i = 0; i < res->n; i++) {
		const msgpack_object *r = obj(res, i);
		char a[64], b[16], c[16], d[16], e[32], f[32], g[32], h[32];

		if (mpo_get(r, "treated_matched") == NULL)
			continue;
		any = 1;
		{
			const char *cells[8] = { str(a, sizeof a, mpo_get(r, "name")),
				str(b, sizeof b, mpo_get(r, "k")), str(c, sizeof c, mpo_get(r, "ties")),
				str(d, sizeof d, mpo_get(r, "replace")),
				num(e, sizeof e, mpo_get(r, "caliper_width"), 4, 0),
				str(f, sizeof f, mpo_get(r, "treated_matched")),
				str(g, sizeof g, mpo_get(r, "treated_unmatched")),
				str(h, sizeof h, mpo_get(r, "controls_used")) };

			texttable_row(&t, cells);
		}
	}
	if (any) {
		heading("Matching");
		print_table(&t);
	} else
		texttable_free(&t);
}

/* One row per covariate, one column per weighting: the SMD and a mark. */
static void
balance(const msgpack_object *r)
{
	const msgpack_object *weights = mpo_get(r, "weights"), *rows = mpo_get(r, "table");
	const char **hdr;
	char *align, a[64], b[64], title[400];
	int nw;
	texttable t;

	if (!weights || weights->type != MSGPACK_OBJECT_ARRAY || !rows ||
	    rows->type != MSGPACK_OBJECT_ARRAY)
		return;
	/* a table goes weighting by weighting: none (a foreign or damaged
	 * result) is no table, not a loop that never ends */
	if (weights->via.array.size == 0) {
		err_warn("a balance result without weightings: its table is left out");
		return;
	}
	nw = (int)weights->via.array.size;
	hdr = xcalloc((size_t)nw + 1, sizeof *hdr);
	align = xcalloc((size_t)nw + 2, 1);
	hdr[0] = "covariate (SMD)";
	align[0] = 'l';
	for (int k = 0; k < nw; k++) {
		hdr[k + 1] = mpo_strdup(&weights->via.array.ptr[k]);
		if (hdr[k + 1] == NULL)
			hdr[k + 1] = xstrdup("(unnamed)");
		align[k + 1] = 'r';
	}
	{
		/* the SMDs' denominators: one, or each weighting's (--sd auto) */
		const msgpack_object *sds = mpo_get(r, "sd_by_weight");
		char sd_text[256] = "";

		for (uint32_t k = 0; sds && sds->type == MSGPACK_OBJECT_MAP && k < sds->via.map.size; k++)
			snprintf(sd_text + strlen(sd_text), sizeof sd_text - strlen(sd_text), "%s%s %s",
			    k ? ", " : "", str(a, sizeof a, &sds->via.map.ptr[k].key),
			    str(b, sizeof b, &sds->via.map.ptr[k].val));
		snprintf(title, sizeof title, "Balance (|SMD| <= %s passes; SD %s; x marks a failure)",
		    str(a, sizeof a, mpo_get(r, "threshold")), sd_text[0] && mpo_is_str(mpo_get(r,
		    "sd"), "auto") ? sd_text : str(b, sizeof b, mpo_get(r, "sd")));
	}
	heading(title);
	texttable_init(&t, nw + 1, hdr, align);
	for (uint32_t i = 0; i < rows->via.array.size; i += (uint32_t)nw) {
		const char **cells = xcalloc((size_t)nw + 1, sizeof *cells);
		char (*buf)[40] = xcalloc((size_t)nw + 1, sizeof *buf);

		cells[0] = str(buf[0], sizeof buf[0], mpo_get(&rows->via.array.ptr[i], "covariate"));
		for (int k = 0; k < nw && i + (uint32_t)k < rows->via.array.size; k++) {
			const msgpack_object *row = &rows->via.array.ptr[i + (uint32_t)k];
			const msgpack_object *pass = mpo_get(row, "pass");
			char v[32];

			num(v, sizeof v, mpo_get(row, "smd"), 4, 1);
			snprintf(buf[k + 1], sizeof buf[k + 1], "%s %s", v,
			    pass && pass->type == MSGPACK_OBJECT_BOOLEAN && !pass->via.boolean ?
			    "x" : " ");
			cells[k + 1] = buf[k + 1];
		}
		texttable_row(&t, cells);
		free(cells);
		free(buf);
	}
	print_table(&t);
	{
		/* the failures the threshold judges: the adjusted rows' (raw's
		 * only when nothing is adjusted), raw's beside them, not counted */
		const msgpack_object *f = mpo_get(r, "failures_by_weight");
		int adjusted = 0;

		fprintf(out, "%sfailures%s: %s", markdown ? "\n" : "  ", nw > 1 ?
		    " after adjustment" : " (nothing adjusted: raw)",
		    str(a, sizeof a, mpo_get(r, "failures")));
		for (uint32_t k = 0; nw > 1 && f && f->type == MSGPACK_OBJECT_MAP && k < f->via.map.size; k++) {
			if (mpo_is_str(&f->via.map.ptr[k].key, "raw"))
				continue;
			fprintf(out, "%s%s %s", adjusted++ ? ", " : " (", str(a, sizeof a,
			    &f->via.map.ptr[k].key), str(b, sizeof b, &f->via.map.ptr[k].val));
		}
		if (adjusted)
			fputc(')', out);
		if (nw > 1 && mpo_get(f, "raw"))
			fprintf(out, "; raw, not counted: %s", str(a, sizeof a, mpo_get(f, "raw")));
		fputc('\n', out);
	}
	for (int k = 0; k < nw; k++)
		free((char *)hdr[k + 1]);
	free(hdr);
	free(align);
}

static void
bootstrap(const msgpack_object *r)
{
	char a[64], b[64], c[64], d[64], f[160];
	const msgpack_object *fails = mpo_get(r, "failures");
	double level = NAN;

	mpo_number(mpo_get(r, "ci_level"), &level);
	heading("Bootstrap");
	fprintf(out, "%s%s replicates (%s succeeded, %s failed), %s %.0f%% intervals, seed %s\n",
	    markdown ? "" : "  ", str(a, sizeof a, mpo_get(r, "replicates")),
	    str(b, sizeof b, mpo_get(r, "succeeded")), str(c, sizeof c, mpo_get(r, "failed")),
	    str(d, sizeof d, mpo_get(r, "ci_method")), 100 * level,
	    str(f, sizeof f, mpo_get(r, "seed")));
	fprintf(out, "%spropensities: %s\n", markdown ? "\n" : "  ",
	    str(f, sizeof f, mpo_get(r, "propensities")));
	for (uint32_t k = 0; fails && fails->type == MSGPACK_OBJECT_MAP && k < fails->via.map.size; k++)
		fprintf(out, "%sfailed: %s x %s\n", markdown ? "\n" : "  ",
		    str(a, sizeof a, &fails->via.map.ptr[k].val),
		    str(f, sizeof f, &fails->via.map.ptr[k].key));
}

/* The sensitivity result: E-values, the tipping points, Rosenbaum's bound. */
static void
sensitivity(const msgpack_object *r)
{
	static const char *hdr[] = { "estimate", "value", "CI", "RR", "E-value",
		"E-value (CI)" };
	const msgpack_object *rows = mpo_get(r, "estimates"), *rb = mpo_get(r, "rosenbaum");
	char a[64], b[64], c[160], d[64], e[64], f[64], g[160];
	texttable t;

	heading("Sensitivity to a hidden confounder");
	if (!rows || rows->type != MSGPACK_OBJECT_ARRAY)
		return;
	fprintf(out, "%sE-value: the risk ratio a hidden confounder would need with both treatment "
	    "and outcome to explain the estimate away (%s outcome)\n", markdown ? "" : "  ",
	    str(a, sizeof a, mpo_get(r, "outcome")));
	if (markdown)
		fputc('\n', out);
	texttable_init(&t, 6, hdr, "lrlrrr");
	for (uint32_t i = 0; i < rows->via.array.size; i++) {
		const msgpack_object *row = &rows->via.array.ptr[i];
		const char *cells[6] = { str(a, sizeof a, mpo_get(row, "estimate")),
			num(b, sizeof b, mpo_get(row, "value"), digits, 1),
			interval(c, sizeof c, "", mpo_get(row, "ci")),
			num(d, sizeof d, mpo_get(row, "rr"), 3, 0),
			num(e, sizeof e, mpo_get(row, "evalue"), 3, 0),
			num(f, sizeof f, mpo_get(row, "evalue_ci"), 3, 0) };

		texttable_row(&t, cells);
	}
	print_table(&t);
	{
		/* the tipping points: the outcome effect a trait would need, by how
		 * much more common it is among the treated */
		const msgpack_object *first = rows->via.array.size ?
		    mpo_get(&rows->via.array.ptr[0], "tipping") : NULL;
		uint32_t nd = first && first->type == MSGPACK_OBJECT_ARRAY ? first->via.array.size : 0;
		const char *th[8] = { "estimate" };
		char heads[8][96];

		if (nd > 0 && nd < 8) {
			fprintf(out, "%sTipping points: the effect on the outcome a hidden binary trait "
			    "would need to move each estimate to 0, by how much more common it is "
			    "among the treated (p1 - p0)\n", markdown ? "\n" : "\n  ");
			if (markdown)
				fputc('\n', out);
			for (uint32_t k = 0; k < nd; k++) {
				snprintf(heads[k], sizeof heads[k], "p1-p0 %s",
				    num(a, sizeof a, mpo_get(&first->via.array.ptr[k],
				    "prevalence_difference"), 1, 0));
				th[k + 1] = heads[k];
			}
			texttable_init(&t, (int)nd + 1, th, "lrrrrrrr");
			for (uint32_t i = 0; i < rows->via.array.size; i++) {
				const msgpack_object *tip = mpo_get(&rows->via.array.ptr[i], "tipping");
				char cellbuf[8][64];
				const char *cells[8];

				cells[0] = str(cellbuf[0], sizeof cellbuf[0],
				    mpo_get(&rows->via.array.ptr[i], "estimate"));
				for (uint32_t k = 0; k < nd; k++)
					cells[k + 1] = tip && tip->type == MSGPACK_OBJECT_ARRAY &&
					    k < tip->via.array.size ? num(cellbuf[k + 1], sizeof cellbuf[k + 1],
					    mpo_get(&tip->via.array.ptr[k], "effect_to_null"), 3, 1) : "-";
				texttable_row(&t, cells);
			}
			print_table(&t);
		}
	}
	if (rb && rb->type == MSGPACK_OBJECT_MAP) {
		const msgpack_object *computed = mpo_get(rb, "computed");

		if (computed && computed->type == MSGPACK_OBJECT_BOOLEAN && computed->via.boolean)
			fprintf(out, "%sRosenbaum bounds (%s, %s pairs): p = %s at Gamma 1; the effect stays "
			    "significant at %s up to Gamma %s\n", markdown ? "\n" : "\n  ",
			    str(a, sizeof a, mpo_get(rb, "test")), str(b, sizeof b, mpo_get(rb, "pairs")),
			    num(c, sizeof c, mpo_get(rb, "p_gamma_1"), 4, 0),
			    str(d, sizeof d, mpo_get(rb, "alpha")),
			    num(e, sizeof e, mpo_get(rb, "gamma"), 3, 0));
		else
			fprintf(out, "%sRosenbaum bounds: not computed: %s\n", markdown ? "\n" : "\n  ",
			    str(g, sizeof g, mpo_get(rb, "why")));
	}
}

/* One line of the Warnings section, which starts with the first. */
static void warning_line(int *any, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
warning_line(int *any, const char *fmt, ...)
{
	va_list ap;

	if (!*any)
		heading("Warnings");
	*any = 1;
	fputs(markdown ? "- " : "  ", out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

/* What the results warn of, in one place. */
static void
warnings(const objlist *res)
{
	int any = 0;
	char a[160];

	for (int i = 0; i < res->n; i++) {
		const msgpack_object *r = obj(res, i), *pos = mpo_get(r, "positivity");
		const msgpack_object *w = pos ? mpo_get(pos, "warning") : NULL;
		double tr = NAN, co = NAN, s[2] = { NAN, NAN };
		int64_t f = 0;

		if (w && w->type == MSGPACK_OBJECT_BOOLEAN && w->via.boolean &&
		    mpo_is_str(mpo_get(r, "name"), "ps_model")) {
			mpo_number(mpo_get(mpo_get(pos, "outside"), "treated"), &tr);
			mpo_number(mpo_get(mpo_get(pos, "outside"), "control"), &co);
			warning_line(&any, "positivity: %.1f%% of the treated and %.1f%% of the "
			    "controls have a propensity outside the band: weights get large there "
			    "(weight --trim auto)", 100 * tr, 100 * co);
		}
		mpo_number(pair_get(r, "ess_share", "control"), &s[0]);
		mpo_number(pair_get(r, "ess_share", "treated"), &s[1]);
		for (int g = 0; g < 2; g++)
			if (s[g] < ESS_WARN)
				warning_line(&any, "%s: the %s' effective sample size is %.1f%% of their "
				    "units", str(a, sizeof a, mpo_get(r, "name")),
				    g ? "treated" : "controls", 100 * s[g]);
		if (mpo_is_str(mpo_get(r, "name"), "balance") &&
		    mpo_int(mpo_get(r, "failures"), &f) == 0 && f > 0)
			warning_line(&any, "balance: %lld rows fail the threshold after adjustment "
			    "(the Balance table marks them)", (long long)f);
	}
}

/* Results no section above knows, printed key by key. */
static void
others(const objlist *res)
{
	int any = 0;

	for (int i = 0; i < res->n; i++) {
		const msgpack_object *r = obj(res, i);
		char a[64], b[64];

		if (mpo_get(r, "estimate") || mpo_get(r, "terms") ||
		    mpo_is_str(mpo_get(r, "name"), "ps_model") ||
		    mpo_is_str(mpo_get(r, "name"), "balance") ||
		    mpo_is_str(mpo_get(r, "name"), "sensitivity") ||
		    mpo_is_str(mpo_get(r, "name"), "common_support") ||
		    mpo_is_str(mpo_get(r, "name"), "boot"))
			continue;
		if (!any)
			heading("Other results");
		any = 1;
		fprintf(out, "%s%s (%s):", markdown ? "- " : "  ", str(a, sizeof a, mpo_get(r, "name")),
		    str(b, sizeof b, mpo_get(r, "stage")));
		for (uint32_t k = 0; k < r->via.map.size; k++) {
			const msgpack_object *key = &r->via.map.ptr[k].key, *v = &r->via.map.ptr[k].val;

			if (mpo_is_str(key, "kind") || mpo_is_str(key, "name") ||
			    mpo_is_str(key, "stage"))
				continue;
			fprintf(out, " %s=", str(a, sizeof a, key));
			if (v->type == MSGPACK_OBJECT_MAP || v->type == MSGPACK_OBJECT_ARRAY)
				mpo_json(out, v);
			else
				fputs(str(b, sizeof b, v), out);
		}
		fputc('\n', out);
	}
}

/* The recipe as a command line (stages/module.h): the stream's source
 * first when the recipe has it (gen), else a note that the input comes
 * from outside. Returns how many entries are not whole, why in why. */
static int
recipe_command(const objlist *recipe, cmdline *cmd, char *why, size_t whylen)
{
	const msgpack_object **entries = xcalloc((size_t)recipe->n + 1, sizeof *entries);
	int bad;

	for (int i = 0; i < recipe->n; i++)
		entries[i] = obj(recipe, i);
	if (recipe->n == 0 || !mpo_is_str(mpo_get(entries[0], "stage"), "gen"))
		cmdline_raw(cmd, "# the input came from outside psflow's recipe (csv2mp FILE, "
		    "a file): pipe it into\n");
	bad = stage_command_line(entries, recipe->n, cmd, why, whylen);
	free(entries);
	return bad;
}

static void
rerun(const objlist *recipe)
{
	cmdline cmd;
	char why[256];
	const char *p;

	if (recipe->n == 0)
		return;
	cmdline_init(&cmd);
	heading("Rerun this flow");
	if (recipe_command(recipe, &cmd, why, sizeof why) > 0)
		fprintf(out, "%snot whole: %s\n", markdown ? "" : "  ", why);
	if (markdown)
		fputs("```\n", out);
	for (p = cmd.text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		fprintf(out, "%s%.*s\n", markdown ? "" : "  ", (int)len, p);
		p += len + (nl != NULL);
	}
	if (markdown)
		fputs("```\n", out);
	cmdline_free(&cmd);
}

static void
print_text(const stream_head *h, const msgpack_object *meta, const objlist *recipe,
    const objlist *res, uint64_t rows)
{
	const msgpack_object *truth = mpo_get(meta, "truth");
	char a[64];

	fprintf(out, markdown ? "## psflow report: %llu rows\n\n" : "psflow report: %llu rows\n",
	    (unsigned long long)rows);
	fprintf(out, "%sflow: ", markdown ? "" : "  ");
	for (int i = 0; i < recipe->n; i++)
		fprintf(out, "%s%s", i ? " | " : "", str(a, sizeof a, mpo_get(obj(recipe, i), "stage")));
	fprintf(out, "%s\n", recipe->n ? "" : "(no recipe)");
	if (markdown)
		fputc('\n', out);
	fprintf(out, "%sroles: treatment %s, outcome %s, propensity %s%s%s\n",
	    markdown ? "" : "  ", h->treatment ? h->treatment : "-",
	    h->outcome ? h->outcome : "-", h->ps ? h->ps : "-",
	    h->support ? ", common support " : "", h->support ? h->support : "");
	if (truth) {
		char b[64], c[64];

		if (markdown)
			fputc('\n', out);
		if (mpo_get(meta, "scenario"))
			fprintf(out, "%sscenario: %s\n", markdown ? "" : "  ",
			    str(b, sizeof b, mpo_get(meta, "scenario")));
		fprintf(out, "%struth (from %s): ATE %s, ATT %s\n", markdown ? "" : "  ",
		    str(a, sizeof a, mpo_get(meta, "source")),
		    num(b, sizeof b, mpo_get(truth, "ate"), digits, 1),
		    num(c, sizeof c, mpo_get(truth, "att"), digits, 1));
	}
	estimates(res, truth, mpo_get(mpo_get(meta, "model"), "outcome"));
	for (int i = 0; i < res->n; i++)
		if (mpo_get(obj(res, i), "terms") || mpo_is_str(mpo_get(obj(res, i), "name"),
		    "ps_model"))
			ps_model(obj(res, i));
	for (int i = 0; i < res->n; i++)
		if (mpo_is_str(mpo_get(obj(res, i), "name"), "common_support"))
			common_support(obj(res, i));
	weight_details(res);
	match_details(res);
	for (int i = 0; i < res->n; i++)
		if (mpo_is_str(mpo_get(obj(res, i), "name"), "balance"))
			balance(obj(res, i));
	for (int i = 0; i < res->n; i++)
		if (mpo_is_str(mpo_get(obj(res, i), "name"), "boot"))
			bootstrap(obj(res, i));
	for (int i = 0; i < res->n; i++)
		if (mpo_is_str(mpo_get(obj(res, i), "name"), "sensitivity"))
			sensitivity(obj(res, i));
	others(res);
	warnings(res);
	rerun(recipe);
}

static void
print_json(const msgpack_object *meta, const objlist *recipe, const objlist *res,
    const stream_head *h, uint64_t rows, uint64_t batches)
{
	fprintf(out, "{\"rows\":%llu,\"batches\":%llu,\"roles\":{\"treatment\":",
	    (unsigned long long)rows, (unsigned long long)batches);
	h->treatment ? mpo_json_string(out, h->treatment, strlen(h->treatment)) : (void)fputs("null", out);
	fputs(",\"outcome\":", out);
	h->outcome ? mpo_json_string(out, h->outcome, strlen(h->outcome)) : (void)fputs("null", out);
	fputs(",\"ps\":", out);
	h->ps ? mpo_json_string(out, h->ps, strlen(h->ps)) : (void)fputs("null", out);
	if (h->support) { /* absent: no common support */
		fputs(",\"support\":", out);
		mpo_json_string(out, h->support, strlen(h->support));
	}
	fputs("},\"meta\":", out);
	mpo_json(out, meta);
	fputs(",\"recipe\":[", out);
	for (int i = 0; i < recipe->n; i++) {
		if (i)
			fputc(',', out);
		mpo_json(out, obj(recipe, i));
	}
	fputs("],\"results\":[", out);
	for (int i = 0; i < res->n; i++) {
		if (i)
			fputc(',', out);
		mpo_json(out, obj(res, i));
	}
	fputs("]}\n", out);
}

static void
check_dir(const char *opt, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		die_usage("%s %s: not a directory (make it first)", opt, dir);
}

/* One figure's SVG into a new string, or NULL when the results hold
 * nothing to draw it from. */
static char *
figure_svg(const figure *fig, const report_results *rr, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL)
		die("open_memstream:");
	if (fig->draw(f, rr) != 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0)
		die("drawing %s:", fig->id);
	return buf;
}

static void
write_file(const char *path, const char *bytes, size_t len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");

	if (f == NULL)
		die("cannot write %s:", path);
	if (fwrite(bytes, 1, len, f) != len || fflush(f) != 0 || ferror(f))
		die("writing %s:", path);
	if (f != stdout && fclose(f) != 0)
		die("writing %s:", path);
}

/* --html, --svg and --png: the figures, drawn once. */
static void
pictures(const char *html, const char *svg_dir, const char *png_dir, const stream_head *h,
    const msgpack_object *meta, const objlist *recipe, const objlist *res, uint64_t rows)
{
	const msgpack_object **results = xcalloc((size_t)res->n + 1, sizeof *results);
	report_results rr = { .results = results, .nresults = res->n,
		.truth = mpo_get(meta, "truth"),
		.truth_outcome = mpo_get(mpo_get(meta, "model"), "outcome"), .digits = digits };
	char *svg[8] = { NULL }, path[4096], why[512];
	size_t len[8] = { 0 };
	int nfig = 0;

	for (int i = 0; i < res->n; i++)
		results[i] = obj(res, i);
	for (; report_figures[nfig].id; nfig++)
		svg[nfig] = figure_svg(&report_figures[nfig], &rr, &len[nfig]);
	for (int k = 0; k < nfig; k++) {
		if (!svg[k])
			continue;
		if (svg_dir) {
			snprintf(path, sizeof path, "%s/%s.svg", svg_dir, report_figures[k].id);
			write_file(path, svg[k], len[k]);
		}
		if (png_dir) {
			snprintf(path, sizeof path, "%s/%s.png", png_dir, report_figures[k].id);
			if (svg_write_png(svg[k], len[k], 2, path, why, sizeof why) != 0)
				die("--png: %s", why);
		}
	}
	if (html) {
		char *text = NULL, *page = NULL, flow[1024] = "", a[64];
		size_t text_len = 0, page_len = 0;
		FILE *saved = out, *f;
		int saved_markdown = markdown;
		cmdline cmd;
		report_page p;

		/* the text report, for the page's tables */
		if ((out = open_memstream(&text, &text_len)) == NULL)
			die("open_memstream:");
		markdown = 0;
		print_text(h, meta, recipe, res, rows);
		if (fclose(out) != 0)
			die("formatting the tables:");
		out = saved;
		markdown = saved_markdown;
		for (int i = 0; i < recipe->n; i++)
			snprintf(flow + strlen(flow), sizeof flow - strlen(flow), "%s%s", i ? " | " : "",
			    str(a, sizeof a, mpo_get(obj(recipe, i), "stage")));
		cmdline_init(&cmd);
		why[0] = '\0';
		p = (report_page){ .results = &rr, .treatment = h->treatment, .outcome = h->outcome,
			.rows = rows, .flow = recipe->n ? flow : "(no recipe)", .text_report = text,
			.svg = (const char *const *)svg };
		p.command_note = recipe_command(recipe, &cmd, why, sizeof why) > 0 ? why : NULL;
		p.command = cmd.text;
		if (mpo_get(meta, "scenario") && mpo_get(meta, "scenario")->type == MSGPACK_OBJECT_STR)
			p.scenario = mpo_strdup(mpo_get(meta, "scenario"));
		if ((f = open_memstream(&page, &page_len)) == NULL)
			die("open_memstream:");
		report_page_write(f, &p);
		if (fclose(f) != 0)
			die("writing the page:");
		write_file(html, page, page_len);
		free((char *)p.scenario);
		cmdline_free(&cmd);
		free(text);
		free(page);
	}
	for (int k = 0; k < nfig; k++)
		free(svg[k]);
	free(results);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "markdown", no_argument, NULL, OPT_MARKDOWN },
		{ "digits", required_argument, NULL, OPT_DIGITS },
		{ "html", required_argument, NULL, OPT_HTML },
		{ "svg", required_argument, NULL, OPT_SVG },
		{ "png", required_argument, NULL, OPT_PNG },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	cli_common cli;
	int opt, json = 0;
	const char *html = NULL, *svg_dir = NULL, *png_dir = NULL;
	stream_in *in;
	stream_head *h;
	objlist res = { 0 }, recipe = { 0 };
	msgpack_unpacked meta;
	uint64_t batches = 0;
	table rows;
	mpraw raw;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON: json = 1; break;
		case OPT_MARKDOWN: markdown = 1; break;
		case OPT_DIGITS: digits = (int)cli_int("--digits", optarg, 0, 12); break;
		case OPT_HTML: html = optarg; break;
		case OPT_SVG: svg_dir = optarg; break;
		case OPT_PNG: png_dir = optarg; break;
		default:
			cli_other_option(&cli, opt, optarg, usage_text);
		}
	}
	cli_no_operands(argc, argv);
	if (json && markdown)
		die_usage("--json and --markdown exclude each other");
	if (html && strcmp(html, "-") == 0 && (json || markdown))
		die_usage("--html - writes the page to stdout: drop --json or --markdown, or "
		    "give --html a file");
	out_name = cli_text_output(&cli);
	out = stdout;
	/* the directories first: a typo should not cost a whole stream */
	if (svg_dir)
		check_dir("--svg", svg_dir);
	if (png_dir)
		check_dir("--png", png_dir);
	in = stream_in_open(cli.in, &cli.io);
	h = stream_in_head(in);
	table_init(&rows);
	table_copy_schema(&rows, &h->schema);
	for (;;) {
		stream_event ev;

		rows.nrows = 0;
		ev = stream_in_next(in, &rows, &raw);
		if (ev == STREAM_END)
			break;
		if (ev == STREAM_BATCH)
			batches++;
		else
			objlist_add(&res, &raw);
	}
	mpraw_unpack(&h->meta, &meta);
	for (int i = 0; i < h->nrecipe; i++)
		objlist_add(&recipe, &h->recipe[i]);
	if (html || svg_dir || png_dir)
		pictures(html, svg_dir, png_dir, h, &meta.data, &recipe, &res, stream_in_rows(in));
	if (json)
		print_json(&meta.data, &recipe, &res, h, stream_in_rows(in), batches);
	else if (!(html && strcmp(html, "-") == 0))
		print_text(h, &meta.data, &recipe, &res, stream_in_rows(in));
	objlist_free(&res);
	objlist_free(&recipe);
	msgpack_unpacked_destroy(&meta);
	table_free(&rows);
	stream_in_free(in);
	cli_check_output(stdout, out_name, 1);
	return EXIT_OK;
}
