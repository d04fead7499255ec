/* quantile — sorting doubles and R's type-7 quantiles of sorted values.
 *
 * Ownership: the caller's array is sorted in place. (rule: base/README.md) */
#ifndef PSFLOW_QUANTILE_H
#define PSFLOW_QUANTILE_H

#include <stddef.h>

void sort_doubles(double *v, size_t n);
/* R's type 7 (the default): v[floor(h)] + frac(h) (v[ceil(h)] - v[floor(h)]),
 * h = (n - 1) q, for v sorted ascending; NaN when n is 0. */
double quantile_sorted(const double *v, size_t n, double q);

#endif
