/* pshist — see pshist.h. */
#include "pshist.h"

#include <string.h>

void
pshist_init(pshist *h)
{
	memset(h, 0, sizeof *h);
}

int
pshist_bin(double ps)
{
	int b;

	if (!(ps >= 0 && ps <= 1)) /* NaN fails both */
		return -1;
	b = (int)(ps * PSHIST_BINS);
	return b < PSHIST_BINS ? b : PSHIST_BINS - 1;
}

void
pshist_add(pshist *h, const uint8_t *t, const double *ps, const double *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int b = pshist_bin(ps[i]);
		double wi = w ? w[i] : 1;

		if (b < 0)
			h->skipped += wi;
		else
			h->sum[t[i] != 0][b] += wi;
	}
}

int
pshist_span(const pshist *h, int *first, int *last)
{
	int lo = -1, hi = -1;

	for (int b = 0; b < PSHIST_BINS; b++)
		if (h->sum[0][b] != 0 || h->sum[1][b] != 0) {
			if (lo < 0)
				lo = b;
			hi = b;
		}
	if (lo < 0)
		return -1;
	*first = lo;
	*last = hi;
	return 0;
}
