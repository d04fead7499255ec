/* page — see page.h. */
#include "page.h"

#include <math.h>
#include <string.h>

#include "mpo.h"
#include "svg.h"

static const char style[] =
    "body{font-family:'DejaVu Sans','Liberation Sans',Arial,sans-serif;color:#222;"
    "max-width:800px;margin:24px auto;padding:0 16px;line-height:1.4;background:#fff}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 6px;"
    "border-bottom:1px solid #ddd;padding-bottom:3px}h3{font-size:14px;margin:16px 0 4px}"
    ".sub{color:#666;font-size:13px;margin:0 0 12px}"
    ".headline{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}"
    ".card{border:1px solid #ccc;border-radius:6px;padding:8px 12px;min-width:130px}"
    ".card .label{font-size:12px;color:#555}.card .value{font-size:22px;font-weight:bold}"
    ".card .ci{font-size:12px;color:#444}.card.naive{background:#f4f4f4}"
    ".card.truth{border-color:#009e73}"
    ".summary{font-size:15px}.caption{font-size:13px;color:#555;margin:2px 0 8px}"
    "svg.figure{max-width:100%;height:auto;display:block}"
    ".warnings{background:#fff4e5;border:1px solid #e69f00;border-radius:6px;"
    "padding:8px 12px 8px 28px}.ok{color:#007a55}"
    "pre{font-family:'DejaVu Sans Mono','Liberation Mono',monospace;font-size:12px;"
    "background:#f8f8f8;padding:8px;overflow-x:auto;border-radius:4px}"
    ".missing{color:#777;font-style:italic}"
    "footer{margin-top:32px;font-size:12px;color:#777}"
    "@media print{body{margin:0;max-width:none}section{break-inside:avoid}"
    "pre{white-space:pre-wrap}}";

static void
card(FILE *f, const char *cls, const char *label, const msgpack_object *r, double value,
    int digits)
{
	double ci[2], level = 0.95;

	fprintf(f, "<div class=\"card %s\"><div class=\"label\">", cls);
	svg_escape_str(f, label);
	fprintf(f, "</div><div class=\"value\">%+.*f</div>", digits, value);
	if (r && report_interval(r, ci) == 0) {
		mpo_number(mpo_get(r, "ci_level"), &level);
		fprintf(f, "<div class=\"ci\">%.0f%% CI [%+.*f, %+.*f]</div>", 100 * level, digits,
		    ci[0], digits, ci[1]);
	}
	fputs("</div>\n", f);
}

static void
headline(FILE *f, const report_page *p)
{
	const report_results *r = p->results;
	double naive = NAN, lo = INFINITY, hi = -INFINITY, truth = NAN;
	int adjusted = 0;

	fputs("<div class=\"headline\">\n", f);
	for (int i = 0; i < r->nresults; i++) {
		const msgpack_object *res = r->results[i];
		double e, t;
		char name[64] = "";

		if (mpo_number(mpo_get(res, "estimate"), &e) != 0 || !isfinite(e))
			continue;
		{
			const msgpack_object *n = mpo_get(res, "name");

			if (n && n->type == MSGPACK_OBJECT_STR)
				snprintf(name, sizeof name, "%.*s", (int)n->via.str.size, n->via.str.ptr);
		}
		if (strcmp(name, "naive") == 0) {
			naive = e;
			card(f, "naive", "naive difference", res, e, r->digits);
		} else {
			adjusted++;
			lo = fmin(lo, e);
			hi = fmax(hi, e);
			card(f, "adjusted", name, res, e, r->digits);
		}
		if (isnan(truth) && report_truth(r, res, &t) == 0 && strcmp(name, "naive") != 0)
			truth = t;
	}
	if (isfinite(truth))
		card(f, "truth", "truth (from gen)", NULL, truth, r->digits);
	fputs("</div>\n<p class=\"summary\">", f);
	if (adjusted) {
		fputs("After adjustment, the effect of ", f);
		svg_escape_str(f, p->treatment ? p->treatment : "the treatment");
		fputs(" on ", f);
		svg_escape_str(f, p->outcome ? p->outcome : "the outcome");
		if (adjusted > 1)
			fprintf(f, " is estimated between %+.*f and %+.*f (%d estimates)", r->digits, lo,
			    r->digits, hi, adjusted);
		else
			fprintf(f, " is estimated at %+.*f", r->digits, lo);
		if (isfinite(naive))
			fprintf(f, ", against a naive difference of %+.*f", r->digits, naive);
		if (isfinite(truth))
			fprintf(f, "; the truth in this simulated data is %+.*f", r->digits, truth);
		fputs(".", f);
	} else if (isfinite(naive))
		fprintf(f, "Only the naive difference (%+.*f) is in the stream: run weight or "
		    "match for an adjusted estimate.", r->digits, naive);
	else
		fputs("The stream holds no estimate.", f);
	fputs("</p>\n", f);
}

/* The text report, section by section: a line that is not indented is a
 * heading; the Warnings section and the command line are shown apart. */
typedef enum { SECTION_TABLES, SECTION_WARNINGS } section_kind;

static int
is_heading(const char *line, size_t len)
{
	return len > 0 && line[0] != ' ' && strncmp(line, "psflow report:", 14) != 0;
}

static void
text_sections(FILE *f, const char *text, section_kind want, int *found)
{
	const char *p = text;
	int in_pre = 0, keep = 0;

	*found = 0;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (is_heading(p, len)) {
			int warnings = len == 8 && strncmp(p, "Warnings", 8) == 0;
			int rerun = len >= 5 && strncmp(p, "Rerun", 5) == 0;

			if (in_pre)
				fputs("</pre>\n", f);
			in_pre = 0;
			if (want == SECTION_WARNINGS && keep)
				fputs("</ul>\n", f);
			keep = want == SECTION_WARNINGS ? warnings : !warnings && !rerun;
			if (keep && want == SECTION_TABLES) {
				fputs("<h3>", f);
				svg_escape(f, p, len);
				fputs("</h3>\n", f);
			}
			if (keep && want == SECTION_WARNINGS)
				fputs("<ul class=\"warnings\">\n", f);
			*found |= keep;
		} else if (keep && len > 0 && want == SECTION_TABLES) {
			if (!in_pre)
				fputs("<pre>", f);
			in_pre = 1;
			svg_escape(f, p + 2 * (len >= 2 && p[0] == ' ' && p[1] == ' '),
			    len - 2 * (len >= 2 && p[0] == ' ' && p[1] == ' '));
			fputc('\n', f);
		} else if (keep && len > 0) {
			fputs("<li>", f);
			svg_escape(f, p + 2 * (len >= 2 && p[0] == ' '), len - 2 * (len >= 2 && p[0] == ' '));
			fputs("</li>\n", f);
		}
		p += len + (nl != NULL);
	}
	if (in_pre)
		fputs("</pre>\n", f);
	if (want == SECTION_WARNINGS && keep)
		fputs("</ul>\n", f);
}

void
report_page_write(FILE *f, const report_page *p)
{
	int found;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<title>psflow report", f);
	if (p->treatment) {
		fputs(": ", f);
		svg_escape_str(f, p->treatment);
	}
	fputs("</title>\n<style>", f);
	fputs(style, f);
	fputs("</style>\n</head>\n<body>\n<header>\n<h1>What ", f);
	svg_escape_str(f, p->treatment ? p->treatment : "the treatment");
	fputs(" does to ", f);
	svg_escape_str(f, p->outcome ? p->outcome : "the outcome");
	fprintf(f, "</h1>\n<p class=\"sub\">psflow report &middot; %llu rows &middot; flow: ",
	    (unsigned long long)p->rows);
	svg_escape_str(f, p->flow);
	if (p->scenario) {
		fputs(" &middot; scenario: ", f);
		svg_escape_str(f, p->scenario);
	}
	fputs("</p>\n</header>\n<section id=\"headline\">\n", f);
	headline(f, p);
	fputs("</section>\n<section id=\"warnings\">\n<h2>Warnings</h2>\n", f);
	text_sections(f, p->text_report, SECTION_WARNINGS, &found);
	if (!found)
		fputs("<p class=\"ok\">None: positivity, effective sample sizes and balance "
		    "passed their checks.</p>\n", f);
	fputs("</section>\n", f);
	for (int k = 0; report_figures[k].id; k++) {
		fprintf(f, "<section id=\"fig-%s\">\n<h2>", report_figures[k].id);
		svg_escape_str(f, report_figures[k].title);
		fputs("</h2>\n", f);
		if (p->svg[k]) {
			fputs("<p class=\"caption\">", f);
			svg_escape_str(f, report_figures[k].caption);
			fputs("</p>\n", f);
			fputs(p->svg[k], f);
		} else
			fprintf(f, "<p class=\"missing\">Not in this stream: %s</p>\n",
			    strcmp(report_figures[k].id, "estimates") == 0 ? "no estimate (run weight "
			    "or match)." : strcmp(report_figures[k].id, "love") == 0 ? "no balance "
			    "result (run balance)." : strcmp(report_figures[k].id, "overlap") == 0 ?
			    "no propensity histogram (run fitps, weight or match)." :
			    "no bootstrap replicates (run boot, with --draws above 0).");
		fputs("</section>\n", f);
	}
	fputs("<section id=\"tables\">\n<h2>Tables</h2>\n", f);
	text_sections(f, p->text_report, SECTION_TABLES, &found);
	fputs("</section>\n<section id=\"recipe\">\n<h2>Rerun this flow</h2>\n"
	    "<p class=\"caption\">The recipe the stream carries, as a command line (the "
	    "programs on PATH):</p>\n<pre class=\"command\">", f);
	svg_escape_str(f, p->command);
	fputs("</pre>\n", f);
	if (p->command_note) {
		fputs("<p class=\"missing\">Not whole: ", f);
		svg_escape_str(f, p->command_note);
		fputs("</p>\n", f);
	}
	fputs("</section>\n<footer>Made by psflow report " PSFLOW_VERSION
	    "; one file, no network access needed.</footer>\n</body>\n</html>\n", f);
}
