/* svg — the few pieces of SVG and HTML text report's figures are made of:
 * escaped text, a figure's frame, axis ticks, a linear scale.
 *
 * Text from the stream (column and level names) is escaped for XML and
 * HTML, and bytes that are not UTF-8 become U+FFFD, so that any stream
 * gives a well-formed page.
 *
 * Ownership: nothing here allocates. (rule: base/README.md) */
#ifndef PSFLOW_SVG_H
#define PSFLOW_SVG_H

#include <stddef.h>
#include <stdio.h>

/* s (n bytes), escaped for XML/HTML text and attribute values. */
void svg_escape(FILE *f, const char *s, size_t n);
void svg_escape_str(FILE *f, const char *s);
/* printf, the result escaped. */
void svg_escapef(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The figure's opening tag (id, size in px, an accessible title) and its
 * closing one. */
void svg_open(FILE *f, const char *id, double width, double height, const char *title);
void svg_close(FILE *f);
/* Text at (x, y); anchor "start", "middle" or "end"; cls may be NULL. */
void svg_text(FILE *f, double x, double y, const char *anchor, const char *cls,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Round tick values covering [lo, hi] (about `target` of them, steps of
 * 1, 2 or 5 times a power of ten) into ticks[0..max); returns how many. */
int svg_ticks(double lo, double hi, int target, double *ticks, int max);

/* x in [d0, d1] mapped to [r0, r1]. */
typedef struct {
	double d0, d1, r0, r1;
} svg_scale;
double svg_at(const svg_scale *s, double x);

#endif
