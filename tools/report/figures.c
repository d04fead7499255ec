/* figures — see figures.h. The looks follow the peers users know: the
 * estimates as a forest plot, the Love plot as cobalt's love.plot draws it
 * (one row per covariate level ordered by raw imbalance, one marker per
 * weighting, the threshold as a line), the overlap as cobalt's bal.plot
 * mirrored histograms (treated up, controls down, each as shares of its
 * group), the bootstrap distributions as histograms with the interval. */
#include "figures.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpo.h"
#include "pshist.h"
#include "svg.h"
#include "xalloc.h"

#define WIDTH 760

/* One colour and marker shape per weighting, raw first (colour-blind safe,
 * Okabe and Ito's palette). */
static const char *const palette[] = { "#d55e00", "#0072b2", "#009e73", "#cc79a7",
	"#e69f00", "#56b4e9", "#000000", "#f0e442" };
#define NPALETTE (int)(sizeof palette / sizeof *palette)
#define TREATED_FILL "#0072b2"
#define CONTROL_FILL "#e69f00"

static double
number_or(const msgpack_object *o, double otherwise)
{
	double x;

	return mpo_number(o, &x) == 0 ? x : otherwise;
}

/* A result's key as text into buf ("" when absent or not a string). */
static const char *
text(char *buf, size_t size, const msgpack_object *o)
{
	buf[0] = '\0';
	if (o && o->type == MSGPACK_OBJECT_STR)
		snprintf(buf, size, "%.*s", (int)o->via.str.size, o->via.str.ptr);
	return buf;
}

int
report_interval(const msgpack_object *r, double ci[2])
{
	const msgpack_object *c = mpo_get(r, "ci");

	return c && c->type == MSGPACK_OBJECT_ARRAY && c->via.array.size == 2 &&
	    mpo_number(&c->via.array.ptr[0], &ci[0]) == 0 &&
	    mpo_number(&c->via.array.ptr[1], &ci[1]) == 0 && isfinite(ci[0]) &&
	    isfinite(ci[1]) ? 0 : -1;
}

int
report_truth(const report_results *r, const msgpack_object *result, double *truth)
{
	char est[32];

	const msgpack_object *outcome = mpo_get(result, "outcome");

	text(est, sizeof est, mpo_get(result, "estimand"));
	if (!r->truth || !est[0])
		return -1;
	/* several outcomes: the truth is the generated one's */
	if (outcome && outcome->type == MSGPACK_OBJECT_STR && r->truth_outcome &&
	    r->truth_outcome->type == MSGPACK_OBJECT_STR &&
	    (outcome->via.str.size != r->truth_outcome->via.str.size ||
	    memcmp(outcome->via.str.ptr, r->truth_outcome->via.str.ptr, outcome->via.str.size)))
		return -1;
	return mpo_number(mpo_get(r->truth, strcmp(est, "naive") == 0 ? "ate" : est), truth) == 0 &&
	    isfinite(*truth) ? 0 : -1;
}

static void
x_axis(FILE *f, const svg_scale *x, double y_top, double y_bottom, int target, int decimals)
{
	double ticks[24];
	int n = svg_ticks(x->d0, x->d1, target, ticks, 24);

	for (int i = 0; i < n; i++) {
		double px = svg_at(x, ticks[i]);

		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		    "stroke=\"#e4e4e4\"/>\n", px, y_top, px, y_bottom);
		svg_text(f, px, y_bottom + 14, "middle", "tick", "%.*f", decimals, ticks[i]);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
	    "stroke=\"#555\"/>\n", x->r0, y_bottom, x->r1, y_bottom);
}

/* Decimals for tick labels of a span. */
static int
tick_decimals(double span)
{
	int d = span > 0 ? (int)ceil(-log10(span / 5)) : 2;

	return d < 0 ? 0 : d > 6 ? 6 : d;
}

/* ---- estimates --------------------------------------------------------- */

static int
draw_estimates(FILE *f, const report_results *r)
{
	const double row_h = 30, top = 62, left = 190, right = WIDTH - 200;
	int n = 0, row = 0;
	double lo = INFINITY, hi = -INFINITY, height, truth = NAN;
	svg_scale x;

	for (int i = 0; i < r->nresults; i++) {
		double e, ci[2], t;

		if (mpo_number(mpo_get(r->results[i], "estimate"), &e) != 0 || !isfinite(e))
			continue;
		n++;
		lo = fmin(lo, e), hi = fmax(hi, e);
		if (report_interval(r->results[i], ci) == 0)
			lo = fmin(lo, ci[0]), hi = fmax(hi, ci[1]);
		if (report_truth(r, r->results[i], &t) == 0) {
			lo = fmin(lo, t), hi = fmax(hi, t);
			if (isnan(truth))
				truth = t;
		}
	}
	if (n == 0)
		return -1;
	lo = fmin(lo, 0), hi = fmax(hi, 0);
	{
		double pad = (hi - lo) * 0.06 + 1e-12;

		lo -= pad, hi += pad;
	}
	height = top + n * row_h + 34;
	x = (svg_scale){ lo, hi, left, right };
	svg_open(f, "estimates", WIDTH, height, "Estimates with their intervals");
	svg_text(f, left, 18, "start", "figure-title", "Effect of the treatment on the outcome");
	x_axis(f, &x, top - 8, top + n * row_h, 6, tick_decimals(hi - lo));
	fprintf(f, "<line class=\"zero\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
	    "stroke=\"#888\"/>\n", svg_at(&x, 0), top - 8, svg_at(&x, 0), top + n * row_h);
	if (isfinite(truth)) {
		double px = svg_at(&x, truth);

		fprintf(f, "<line class=\"truth\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		    "stroke=\"#009e73\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n",
		    px, top - 14, px, top + n * row_h);
		svg_text(f, px, top - 18, "middle", "truth-label", "truth %+.*f", r->digits, truth);
	}
	for (int i = 0; i < r->nresults; i++) {
		const msgpack_object *res = r->results[i];
		char name[64], stage[32], label[160];
		double e, ci[2], y = top + row * row_h + row_h / 2;
		int naive, has_ci;

		if (mpo_number(mpo_get(res, "estimate"), &e) != 0 || !isfinite(e))
			continue;
		row++;
		text(name, sizeof name, mpo_get(res, "name"));
		text(stage, sizeof stage, mpo_get(res, "stage"));
		naive = strcmp(name, "naive") == 0;
		has_ci = report_interval(res, ci) == 0;
		fputs("<g class=\"estimate\" data-name=\"", f);
		svg_escape_str(f, name);
		fputs("\">\n", f);
		svg_text(f, left - 12, y + 4, "end", "label", "%s%s%s%s", name, stage[0] ? " (" : "",
		    stage, stage[0] ? ")" : "");
		if (has_ci)
			fprintf(f, "<line class=\"interval\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			    "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2.5\"/>\n", svg_at(&x, ci[0]), y,
			    svg_at(&x, ci[1]), y, naive ? "#999" : "#333");
		fprintf(f, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"5.5\" fill=\"%s\"/>\n",
		    svg_at(&x, e), y, naive ? "#999" : palette[1]);
		if (has_ci)
			snprintf(label, sizeof label, "%+.*f [%+.*f, %+.*f]", r->digits, e, r->digits,
			    ci[0], r->digits, ci[1]);
		else
			snprintf(label, sizeof label, "%+.*f", r->digits, e);
		svg_text(f, right + 12, y + 4, "start", "value", "%s", label);
		fputs("</g>\n", f);
	}
	svg_text(f, (left + right) / 2, height - 4, "middle", "axis-title",
	    "difference in the outcome, treated minus control");
	svg_close(f);
	return 0;
}

/* ---- Love plot ----------------------------------------------------------- */

typedef struct {
	const msgpack_object *rows; /* balance's table: nw rows per covariate */
	int nw, ncov;
	const msgpack_object *weights;
	double threshold;
	int *order;
} love_data;

static double
love_smd(const love_data *d, int cov, int w)
{
	const msgpack_object *row = &d->rows->via.array.ptr[(size_t)cov * d->nw + w];

	return fabs(number_or(mpo_get(row, "smd"), NAN));
}

static const love_data *sort_love; /* qsort has no context argument */

static int
by_raw_imbalance(const void *a, const void *b)
{
	double x = love_smd(sort_love, *(const int *)a, 0), y = love_smd(sort_love, *(const int *)b, 0);

	if (isnan(x) != isnan(y))
		return isnan(x) ? 1 : -1;
	if (x != y)
		return x > y ? -1 : 1;
	return *(const int *)a - *(const int *)b; /* stable: the table's order */
}

/* A marker of shape k centred on (x, y). */
static void
marker(FILE *f, int k, double x, double y, const char *fill)
{
	switch (k % 4) {
	case 0:
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>", x, y, fill);
		break;
	case 1:
		fprintf(f, "<path d=\"M%.1f %.1fl5.5 9.5h-11z\" fill=\"%s\"/>", x, y - 6, fill);
		break;
	case 2:
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" fill=\"%s\"/>",
		    x - 4.5, y - 4.5, fill);
		break;
	default:
		fprintf(f, "<path d=\"M%.1f %.1fl6 6l-6 6l-6 -6z\" fill=\"%s\"/>", x, y - 6, fill);
	}
}

static const msgpack_object *
find_named(const report_results *r, const char *name)
{
	const msgpack_object *found = NULL;

	for (int i = 0; i < r->nresults; i++)
		if (mpo_is_str(mpo_get(r->results[i], "name"), name))
			found = r->results[i]; /* the last: a rerun stage's */
	return found;
}

static int
draw_love(FILE *f, const report_results *r)
{
	const msgpack_object *b = find_named(r, "balance");
	const double row_h = 22, left = 230, right = WIDTH - 30, top = 66;
	love_data d;
	double max = 0, height;
	svg_scale x;

	if (!b)
		return -1;
	d.weights = mpo_get(b, "weights");
	d.rows = mpo_get(b, "table");
	if (!d.weights || d.weights->type != MSGPACK_OBJECT_ARRAY || !d.rows ||
	    d.rows->type != MSGPACK_OBJECT_ARRAY || d.weights->via.array.size == 0)
		return -1;
	d.nw = (int)d.weights->via.array.size;
	d.ncov = (int)(d.rows->via.array.size / (uint32_t)d.nw);
	if (d.ncov == 0)
		return -1;
	d.threshold = number_or(mpo_get(b, "threshold"), 0.1);
	d.order = xcalloc((size_t)d.ncov, sizeof *d.order);
	for (int c = 0; c < d.ncov; c++)
		d.order[c] = c;
	sort_love = &d;
	qsort(d.order, (size_t)d.ncov, sizeof *d.order, by_raw_imbalance);
	for (int c = 0; c < d.ncov; c++)
		for (int w = 0; w < d.nw; w++)
			if (isfinite(love_smd(&d, c, w)))
				max = fmax(max, love_smd(&d, c, w));
	max = fmax(max, d.threshold) * 1.08;
	height = top + d.ncov * row_h + 36;
	x = (svg_scale){ 0, max, left, right };
	svg_open(f, "love", WIDTH, height, "Love plot: absolute standardised mean differences");
	svg_text(f, 10, 18, "start", "figure-title", "Covariate balance (Love plot)");
	/* the legend: one marker per weighting */
	for (int w = 0; w < d.nw; w++) {
		char name[64];
		double lx = left + w * 120.0;

		text(name, sizeof name, &d.weights->via.array.ptr[w]);
		fputs("<g class=\"legend\">", f);
		marker(f, w, lx, 38, palette[w % NPALETTE]);
		fputs("</g>\n", f);
		svg_text(f, lx + 10, 42, "start", "legend-label", "%s", name);
	}
	for (int k = 0; k < d.ncov; k++)
		if (k % 2 == 0)
			fprintf(f, "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			    "height=\"%.1f\" fill=\"#f6f6f6\"/>\n", left, top + k * row_h, right - left,
			    row_h);
	x_axis(f, &x, top, top + d.ncov * row_h, 6, tick_decimals(max));
	fprintf(f, "<line class=\"threshold\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
	    "stroke=\"#444\" stroke-dasharray=\"5 4\"/>\n", svg_at(&x, d.threshold), top - 6,
	    svg_at(&x, d.threshold), top + d.ncov * row_h);
	svg_text(f, svg_at(&x, d.threshold) + 4, top - 8, "start", "threshold-label",
	    "threshold %g", d.threshold);
	for (int k = 0; k < d.ncov; k++) {
		int c = d.order[k];
		double y = top + k * row_h + row_h / 2;
		char cov[128];

		text(cov, sizeof cov, mpo_get(&d.rows->via.array.ptr[(size_t)c * d.nw], "covariate"));
		svg_text(f, left - 10, y + 4, "end", "label", "%s", cov);
		for (int w = 0; w < d.nw; w++) {
			double v = love_smd(&d, c, w);
			char name[64];

			if (!isfinite(v))
				continue;
			text(name, sizeof name, &d.weights->via.array.ptr[w]);
			fputs("<g class=\"marker\" data-covariate=\"", f);
			svg_escape_str(f, cov);
			fputs("\" data-weighting=\"", f);
			svg_escape_str(f, name);
			fprintf(f, "\" data-smd=\"%.6g\">", v);
			marker(f, w, svg_at(&x, v), y, palette[w % NPALETTE]);
			fputs("</g>\n", f);
		}
	}
	svg_text(f, (left + right) / 2, height - 4, "middle", "axis-title",
	    "absolute standardised mean difference (SD %s)", mpo_is_str(mpo_get(b, "sd"),
	    "auto") ? "by each weighting's estimand" : mpo_is_str(mpo_get(b, "sd"),
	    "treated") ? "of the treated" : mpo_is_str(mpo_get(b, "sd"), "control") ?
	    "of the controls" : "pooled");
	svg_close(f);
	free(d.order);
	return 0;
}

/* ---- overlap ------------------------------------------------------------- */

typedef struct {
	char label[64];
	const msgpack_object *hist;
	double trim[2]; /* NaN: none */
	int first, nbins;
	const msgpack_object *treated, *control;
} panel;

/* The ps_hist of a result, checked: 0, or -1 when absent or malformed. */
static int
panel_of(const msgpack_object *res, panel *p)
{
	const msgpack_object *h = mpo_get(res, "ps_hist"), *tb = mpo_get(res, "trim_band");
	double bins, first;

	if (!h || mpo_number(mpo_get(h, "bins"), &bins) != 0 || bins != PSHIST_BINS ||
	    mpo_number(mpo_get(h, "first"), &first) != 0 || !(first >= 0 && first < PSHIST_BINS))
		return -1;
	p->treated = mpo_get(h, "treated");
	p->control = mpo_get(h, "control");
	if (!p->treated || !p->control || p->treated->type != MSGPACK_OBJECT_ARRAY ||
	    p->control->type != MSGPACK_OBJECT_ARRAY ||
	    p->treated->via.array.size != p->control->via.array.size ||
	    first + p->treated->via.array.size > PSHIST_BINS)
		return -1;
	p->first = (int)first;
	p->nbins = (int)p->treated->via.array.size;
	p->trim[0] = p->trim[1] = NAN;
	if (tb && tb->type == MSGPACK_OBJECT_ARRAY && tb->via.array.size == 2) {
		p->trim[0] = number_or(&tb->via.array.ptr[0], NAN);
		p->trim[1] = number_or(&tb->via.array.ptr[1], NAN);
	}
	return 0;
}

/* The overlap panels: raw (fitps's, else weight's naive), each weighting. */
static int
overlap_panels(const report_results *r, panel *out, int max)
{
	int n = 0, have_raw = 0;

	for (int i = 0; i < r->nresults && n < max; i++) {
		const msgpack_object *res = r->results[i];
		char name[64], col[64];
		panel p;

		if (panel_of(res, &p) != 0)
			continue;
		text(name, sizeof name, mpo_get(res, "name"));
		text(col, sizeof col, mpo_get(res, "weight_column"));
		if (strcmp(name, "ps_model") == 0 || strcmp(name, "naive") == 0) {
			if (have_raw)
				continue;
			have_raw = 1;
			snprintf(p.label, sizeof p.label, "raw");
			/* raw goes first whatever the order of the results */
			memmove(out + 1, out, (size_t)n * sizeof *out);
			out[0] = p;
			n++;
			continue;
		}
		snprintf(p.label, sizeof p.label, "%s", col[0] ? col : name);
		out[n++] = p;
	}
	return n;
}

static double
bin_value(const msgpack_object *arr, int i)
{
	double v = number_or(&arr->via.array.ptr[i], 0);

	return isfinite(v) && v > 0 ? v : 0;
}

static int
draw_overlap(FILE *f, const report_results *r)
{
	panel panels[16];
	int np = overlap_panels(r, panels, 16), lo_bin = PSHIST_BINS, hi_bin = -1, merge, cols;
	const double pw = 360, ph = 190, gap = 20, top = 52;
	double support[2] = { NAN, NAN }, band[2] = { NAN, NAN }, height;
	const msgpack_object *model = find_named(r, "ps_model");

	if (np == 0)
		return -1;
	for (int k = 0; k < np; k++) {
		lo_bin = panels[k].first < lo_bin ? panels[k].first : lo_bin;
		hi_bin = panels[k].first + panels[k].nbins - 1 > hi_bin ?
		    panels[k].first + panels[k].nbins - 1 : hi_bin;
	}
	/* about 40 bars over the occupied span, edges shared by every panel */
	merge = (hi_bin - lo_bin + 1 + 39) / 40;
	lo_bin = lo_bin / merge * merge;
	hi_bin = (hi_bin / merge + 1) * merge - 1;
	if (model) {
		const msgpack_object *range = mpo_get(model, "ps_range"), *pos = mpo_get(model,
		    "positivity");
		const msgpack_object *t = mpo_get(range, "treated"), *c = mpo_get(range, "control");

		if (t && c && t->type == MSGPACK_OBJECT_ARRAY && c->type == MSGPACK_OBJECT_ARRAY &&
		    t->via.array.size == 2 && c->via.array.size == 2) {
			support[0] = fmax(number_or(&t->via.array.ptr[0], NAN),
			    number_or(&c->via.array.ptr[0], NAN));
			support[1] = fmin(number_or(&t->via.array.ptr[1], NAN),
			    number_or(&c->via.array.ptr[1], NAN));
		}
		if (pos && mpo_get(pos, "band") && mpo_get(pos, "band")->type == MSGPACK_OBJECT_ARRAY &&
		    mpo_get(pos, "band")->via.array.size == 2) {
			band[0] = number_or(&mpo_get(pos, "band")->via.array.ptr[0], NAN);
			band[1] = number_or(&mpo_get(pos, "band")->via.array.ptr[1], NAN);
		}
	}
	cols = np > 1 ? 2 : 1;
	height = top + ((np + cols - 1) / cols) * (ph + gap + 26) + 10;
	svg_open(f, "overlap", WIDTH, height, "Propensity overlap by group and weighting");
	svg_text(f, 10, 18, "start", "figure-title",
	    "Propensity overlap: treated above, controls below (share of each group)");
	fprintf(f, "<rect x=\"10\" y=\"30\" width=\"12\" height=\"10\" fill=\"%s\"/>", TREATED_FILL);
	svg_text(f, 26, 39, "start", "legend-label", "treated");
	fprintf(f, "<rect x=\"90\" y=\"30\" width=\"12\" height=\"10\" fill=\"%s\"/>", CONTROL_FILL);
	svg_text(f, 106, 39, "start", "legend-label", "controls");
	fputs("<rect x=\"180\" y=\"30\" width=\"12\" height=\"10\" fill=\"#000\" "
	    "fill-opacity=\"0.12\"/>", f);
	svg_text(f, 196, 39, "start", "legend-label", "outside common support");
	fputs("<line x1=\"360\" y1=\"35\" x2=\"380\" y2=\"35\" stroke=\"#d55e00\" "
	    "stroke-width=\"2\" stroke-dasharray=\"4 3\"/>", f);
	svg_text(f, 384, 39, "start", "legend-label", "trimmed outside");
	fputs("<line x1=\"490\" y1=\"35\" x2=\"510\" y2=\"35\" stroke=\"#777\" "
	    "stroke-dasharray=\"2 3\"/>", f);
	svg_text(f, 514, 39, "start", "legend-label", "positivity band");
	for (int k = 0; k < np; k++) {
		const panel *p = &panels[k];
		double ox = 10 + (k % cols) * (pw + gap), oy = top + (k / cols) * (ph + gap + 26) + 16;
		double sum_t = 0, sum_c = 0, ymax = 0, mid = oy + ph / 2;
		int nbars = (hi_bin - lo_bin + 1) / merge;
		double *bt = xcalloc((size_t)nbars + 1, sizeof *bt), *bc = xcalloc((size_t)nbars + 1,
		    sizeof *bc);
		svg_scale x = { (double)lo_bin / PSHIST_BINS, (double)(hi_bin + 1) / PSHIST_BINS,
			ox + 40, ox + pw - 8 };

		for (int i = 0; i < p->nbins; i++) {
			int bar = (p->first + i - lo_bin) / merge;

			bt[bar] += bin_value(p->treated, i);
			bc[bar] += bin_value(p->control, i);
			sum_t += bin_value(p->treated, i);
			sum_c += bin_value(p->control, i);
		}
		for (int b = 0; b < nbars; b++) {
			bt[b] = sum_t > 0 ? bt[b] / sum_t : 0;
			bc[b] = sum_c > 0 ? bc[b] / sum_c : 0;
			ymax = fmax(ymax, fmax(bt[b], bc[b]));
		}
		fputs("<g class=\"panel\" data-weighting=\"", f);
		svg_escape_str(f, p->label);
		fputs("\">\n", f);
		svg_text(f, ox + 40, oy - 4, "start", "panel-title", "%s", p->label);
		if (isfinite(support[0]) && isfinite(support[1])) {
			/* shade the ps range where one group has no units */
			double a = svg_at(&x, fmax(support[0], x.d0)), b = svg_at(&x, fmin(support[1], x.d1));

			if (a > x.r0)
				fprintf(f, "<rect class=\"outside-support\" x=\"%.1f\" y=\"%.1f\" "
				    "width=\"%.1f\" height=\"%.1f\" fill=\"#000\" fill-opacity=\"0.12\"/>\n",
				    x.r0, oy, a - x.r0, ph);
			if (b < x.r1)
				fprintf(f, "<rect class=\"outside-support\" x=\"%.1f\" y=\"%.1f\" "
				    "width=\"%.1f\" height=\"%.1f\" fill=\"#000\" fill-opacity=\"0.12\"/>\n",
				    b, oy, x.r1 - b, ph);
		}
		for (int b = 0; b < nbars; b++) {
			double x0 = svg_at(&x, (double)(lo_bin + b * merge) / PSHIST_BINS);
			double x1 = svg_at(&x, (double)(lo_bin + (b + 1) * merge) / PSHIST_BINS);
			double ht = ymax > 0 ? bt[b] / ymax * (ph / 2 - 4) : 0;
			double hc = ymax > 0 ? bc[b] / ymax * (ph / 2 - 4) : 0;

			if (ht > 0)
				fprintf(f, "<rect class=\"bar treated\" x=\"%.2f\" y=\"%.2f\" "
				    "width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n", x0, mid - ht,
				    fmax(x1 - x0 - 0.6, 0.4), ht, TREATED_FILL);
			if (hc > 0)
				fprintf(f, "<rect class=\"bar control\" x=\"%.2f\" y=\"%.2f\" "
				    "width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n", x0, mid,
				    fmax(x1 - x0 - 0.6, 0.4), hc, CONTROL_FILL);
		}
		fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		    "stroke=\"#555\"/>\n", x.r0, mid, x.r1, mid);
		for (int e = 0; e < 2; e++) {
			if (isfinite(band[e]) && band[e] > x.d0 && band[e] < x.d1)
				fprintf(f, "<line class=\"positivity-band\" x1=\"%.1f\" y1=\"%.1f\" "
				    "x2=\"%.1f\" y2=\"%.1f\" stroke=\"#777\" stroke-dasharray=\"2 3\"/>\n",
				    svg_at(&x, band[e]), oy, svg_at(&x, band[e]), oy + ph);
			if (isfinite(p->trim[e]) && p->trim[e] > x.d0 && p->trim[e] < x.d1)
				fprintf(f, "<line class=\"trim\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				    "y2=\"%.1f\" stroke=\"#d55e00\" stroke-width=\"2\" "
				    "stroke-dasharray=\"4 3\"/>\n", svg_at(&x, p->trim[e]), oy,
				    svg_at(&x, p->trim[e]), oy + ph);
		}
		fprintf(f, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		    "fill=\"none\" stroke=\"#ccc\"/>\n", x.r0, oy, x.r1 - x.r0, ph);
		svg_text(f, x.r0 - 4, oy + 12, "end", "tick", "%.0f%%", 100 * ymax);
		svg_text(f, x.r0 - 4, oy + ph - 4, "end", "tick", "%.0f%%", 100 * ymax);
		{
			double ticks[12];
			int nt = svg_ticks(x.d0, x.d1, 5, ticks, 12);

			for (int i = 0; i < nt; i++)
				svg_text(f, svg_at(&x, ticks[i]), oy + ph + 14, "middle", "tick", "%.*f",
				    tick_decimals(x.d1 - x.d0), ticks[i]);
		}
		fputs("</g>\n", f);
		free(bt);
		free(bc);
	}
	svg_close(f);
	return 0;
}

/* ---- bootstrap distributions --------------------------------------------- */

static int
draw_boot(FILE *f, const report_results *r)
{
	const msgpack_object *b = find_named(r, "boot"), *draws;
	const double pw = 360, ph = 130, gap = 20, top = 34;
	int n, cols;
	double height;

	if (!b || !(draws = mpo_get(b, "draws")) || draws->type != MSGPACK_OBJECT_MAP ||
	    draws->via.map.size == 0)
		return -1;
	n = (int)draws->via.map.size;
	cols = n > 1 ? 2 : 1;
	height = top + ((n + cols - 1) / cols) * (ph + gap + 30) + 10;
	svg_open(f, "bootstrap", WIDTH, height, "Bootstrap distributions of the estimates");
	svg_text(f, 10, 18, "start", "figure-title",
	    "Bootstrap distributions: replicate estimates, the interval shaded");
	for (int k = 0; k < n; k++) {
		const msgpack_object *values = &draws->via.map.ptr[k].val, *res;
		char name[64];
		double ox = 10 + (k % cols) * (pw + gap), oy = top + (k / cols) * (ph + gap + 30) + 16;
		double lo = INFINITY, hi = -INFINITY, est = NAN, ci[2] = { NAN, NAN }, truth = NAN;
		int counts[30] = { 0 }, maxc = 0, m = 0;
		svg_scale x;

		text(name, sizeof name, &draws->via.map.ptr[k].key);
		if (values->type != MSGPACK_OBJECT_ARRAY)
			continue;
		for (uint32_t i = 0; i < values->via.array.size; i++) {
			double v = number_or(&values->via.array.ptr[i], NAN);

			if (isfinite(v))
				lo = fmin(lo, v), hi = fmax(hi, v), m++;
		}
		res = find_named(r, name);
		if (res) {
			est = number_or(mpo_get(res, "estimate"), NAN);
			if (report_interval(res, ci) != 0)
				ci[0] = ci[1] = NAN;
			if (report_truth(r, res, &truth) != 0)
				truth = NAN;
		}
		if (m == 0)
			continue;
		for (int e = 0; e < 2; e++)
			if (isfinite(ci[e]))
				lo = fmin(lo, ci[e]), hi = fmax(hi, ci[e]);
		if (isfinite(est))
			lo = fmin(lo, est), hi = fmax(hi, est);
		if (!(hi > lo))
			hi = lo + 1e-9, lo -= 1e-9;
		{
			double pad = (hi - lo) * 0.05;

			lo -= pad, hi += pad;
		}
		for (uint32_t i = 0; i < values->via.array.size; i++) {
			double v = number_or(&values->via.array.ptr[i], NAN);
			int bin;

			if (!isfinite(v))
				continue;
			bin = (int)((v - lo) / (hi - lo) * 30);
			bin = bin < 0 ? 0 : bin > 29 ? 29 : bin;
			if (++counts[bin] > maxc)
				maxc = counts[bin];
		}
		x = (svg_scale){ lo, hi, ox + 10, ox + pw - 10 };
		fputs("<g class=\"distribution\" data-name=\"", f);
		svg_escape_str(f, name);
		fprintf(f, "\" data-draws=\"%d\">\n", m);
		svg_text(f, ox + 10, oy - 4, "start", "panel-title", "%s (%d replicates)", name, m);
		if (isfinite(ci[0]) && isfinite(ci[1]))
			fprintf(f, "<rect class=\"ci\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			    "height=\"%.1f\" fill=\"#0072b2\" fill-opacity=\"0.12\"/>\n",
			    svg_at(&x, ci[0]), oy, svg_at(&x, ci[1]) - svg_at(&x, ci[0]), ph);
		for (int bin = 0; bin < 30; bin++) {
			double x0 = svg_at(&x, lo + (hi - lo) * bin / 30), x1 = svg_at(&x, lo + (hi - lo) *
			    (bin + 1) / 30), h = maxc ? counts[bin] * (ph - 6) / (double)maxc : 0;

			if (counts[bin])
				fprintf(f, "<rect class=\"bar\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
				    "height=\"%.2f\" fill=\"#56b4e9\"/>\n", x0, oy + ph - h,
				    fmax(x1 - x0 - 0.6, 0.4), h);
		}
		if (isfinite(est))
			fprintf(f, "<line class=\"estimate-line\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			    "y2=\"%.1f\" stroke=\"#000\" stroke-width=\"2\"/>\n", svg_at(&x, est), oy,
			    svg_at(&x, est), oy + ph);
		/* the truth where it falls inside the distribution's range (the naive
		 * difference's is far off: that is its point, made by the estimates) */
		if (isfinite(truth) && truth > lo && truth < hi)
			fprintf(f, "<line class=\"truth\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			    "stroke=\"#009e73\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n",
			    svg_at(&x, truth), oy, svg_at(&x, truth), oy + ph);
		fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		    "stroke=\"#555\"/>\n", x.r0, oy + ph, x.r1, oy + ph);
		{
			double ticks[12];
			int nt = svg_ticks(lo, hi, 4, ticks, 12);

			for (int i = 0; i < nt; i++)
				svg_text(f, svg_at(&x, ticks[i]), oy + ph + 14, "middle", "tick", "%.*f",
				    tick_decimals(hi - lo), ticks[i]);
		}
		fputs("</g>\n", f);
	}
	svg_close(f);
	return 0;
}

const figure report_figures[] = {
	{ "estimates", "Estimates",
	  "Each estimate with its interval; the dashed line is the truth when the data came "
	  "from gen, the grey one the naive difference.", draw_estimates },
	{ "love", "Covariate balance",
	  "The absolute standardised mean difference of every covariate level, raw and under "
	  "each weighting, ordered by raw imbalance; the dashed line is the threshold.",
	  draw_love },
	{ "overlap", "Propensity overlap",
	  "Mirrored histograms of the propensity score: treated above, controls below, each as "
	  "shares of its group, raw and under each weighting. Shaded: outside the common "
	  "support; dashed: trimming and the positivity band.", draw_overlap },
	{ "bootstrap", "Bootstrap distributions",
	  "The replicate estimates boot kept, the percentile (or chosen) interval shaded, the "
	  "estimate as a solid line and the truth dashed.", draw_boot },
	{ NULL, NULL, NULL, NULL },
};
