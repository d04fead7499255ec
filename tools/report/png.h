/* png — an SVG figure rendered to a PNG file by librsvg and cairo (the
 * well-kept libraries for it), at its own size times scale.
 *
 * Ownership: the SVG text is the caller's. (rule: base/README.md) */
#ifndef PSFLOW_PNG_H
#define PSFLOW_PNG_H

#include <stddef.h>

/* Returns 0, or -1 with the problem in why. */
int svg_write_png(const char *svg, size_t len, double scale, const char *path, char *why,
    size_t whylen);

#endif
