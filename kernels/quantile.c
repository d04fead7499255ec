#include "quantile.h"

#include <math.h>
#include <stdlib.h>

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void
sort_doubles(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
}

double
quantile_sorted(const double *v, size_t n, double q)
{
	double h, lo;

	if (n == 0)
		return NAN;
	h = (double)(n - 1) * q;
	lo = floor(h);
	if (lo >= (double)(n - 1))
		return v[n - 1];
	return v[(size_t)lo] + (h - lo) * (v[(size_t)lo + 1] - v[(size_t)lo]);
}
