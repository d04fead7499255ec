/* svg — see svg.h. */
#include "svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "mpo.h"

void
svg_escape(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(p + i, n - i);

		if (len == 0) {
			fputs("\xef\xbf\xbd", f); /* U+FFFD for a byte that is not UTF-8 */
			i++;
			continue;
		}
		if (len == 1) {
			switch (p[i]) {
			case '&': fputs("&amp;", f); break;
			case '<': fputs("&lt;", f); break;
			case '>': fputs("&gt;", f); break;
			case '"': fputs("&quot;", f); break;
			case '\'': fputs("&#39;", f); break;
			default:
				/* control characters are not allowed in XML 1.0 */
				if (p[i] < 0x20 && p[i] != '\n' && p[i] != '\t')
					fputs("\xef\xbf\xbd", f);
				else
					fputc(p[i], f);
			}
		} else
			fwrite(p + i, 1, len, f);
		i += len;
	}
}

void
svg_escape_str(FILE *f, const char *s)
{
	svg_escape(f, s, strlen(s));
}

static void
vescapef(FILE *f, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = vsnprintf(buf, sizeof buf, fmt, ap);

	if (n < 0)
		return;
	svg_escape(f, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

void
svg_escapef(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vescapef(f, fmt, ap);
	va_end(ap);
}

void
svg_open(FILE *f, const char *id, double width, double height, const char *title)
{
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s\" class=\"figure\" "
	    "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
	    "font-family=\"DejaVu Sans, Liberation Sans, Arial, sans-serif\" font-size=\"12\">"
	    "<title>", id, width, height, width, height);
	svg_escape_str(f, title);
	fputs("</title>\n<rect class=\"paper\" x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" "
	    "fill=\"#ffffff\"/>\n", f);
}

void
svg_close(FILE *f)
{
	fputs("</svg>\n", f);
}

void
svg_text(FILE *f, double x, double y, const char *anchor, const char *cls,
    const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"", x, y, anchor);
	if (cls)
		fprintf(f, " class=\"%s\"", cls);
	fputc('>', f);
	va_start(ap, fmt);
	vescapef(f, fmt, ap);
	va_end(ap);
	fputs("</text>\n", f);
}

int
svg_ticks(double lo, double hi, int target, double *ticks, int max)
{
	double span = hi - lo, step, mag, first;
	int n = 0;

	if (!(span > 0) || !isfinite(span) || target < 1)
		return 0;
	step = span / target;
	mag = pow(10, floor(log10(step)));
	step = step / mag < 1.5 ? mag : step / mag < 3.5 ? 2 * mag : step / mag < 7.5 ? 5 * mag :
	    10 * mag;
	first = ceil(lo / step - 1e-9) * step;
	for (double t = first; t <= hi + step * 1e-9 && n < max; t = first + n * step)
		ticks[n++] = fabs(t) < step * 1e-9 ? 0 : t;
	return n;
}

double
svg_at(const svg_scale *s, double x)
{
	if (s->d1 == s->d0)
		return (s->r0 + s->r1) / 2;
	return s->r0 + (x - s->d0) / (s->d1 - s->d0) * (s->r1 - s->r0);
}
