/* pshist — the propensity's distribution by group, as weighted bins, for
 * the overlap plot: what a stage passes downstream instead of its rows.
 *
 * The bins are fixed, PSHIST_BINS of equal width on [0, 1] (bin i holds
 * i/PSHIST_BINS <= ps < (i+1)/PSHIST_BINS; ps = 1 falls in the last), so
 * that every stage bins alike, a batch at a time, with no first pass for
 * the range, and histograms of one stream add up. Each bin holds the sum
 * of the weights of the group's units in it (1 each for raw counts).
 *
 * Ownership: a pshist is a value; arrays passed in are the caller's.
 * (rule: base/README.md) */
#ifndef PSFLOW_PSHIST_H
#define PSFLOW_PSHIST_H

#include <stddef.h>
#include <stdint.h>

#define PSHIST_BINS 200

typedef struct {
	double sum[2][PSHIST_BINS]; /* [0] controls, [1] treated */
	double skipped;             /* units with a ps outside [0, 1] or NaN */
} pshist;

void pshist_init(pshist *h);
/* n units of treatment t[i] (nonzero: treated) and propensity ps[i], with
 * weight w[i] (w NULL: 1 each). A unit with a ps outside [0, 1] or NaN is
 * not binned but counted in skipped (stages refuse such ps before). */
void pshist_add(pshist *h, const uint8_t *t, const double *ps, const double *w, size_t n);
/* The bin of ps (0 .. PSHIST_BINS-1), or -1 outside [0, 1]. */
int pshist_bin(double ps);
/* The occupied bins: *first and *last (inclusive) span every nonzero bin
 * of either group; returns 0, or -1 when every bin is empty. */
int pshist_span(const pshist *h, int *first, int *last);

#endif
