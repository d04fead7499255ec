/* bootci — bootstrap confidence intervals from the replicates' estimates:
 * percentile (R's type-7 quantiles), normal (estimate +- z SD), and BCa
 * (Efron 1987: bias from the share of replicates below the estimate,
 * acceleration from jackknife estimates). The normal distribution's cdf and
 * quantile (Acklam's approximation polished by one Newton step: |error| <
 * 1e-15 in double precision) are here too. Never exits.
 *
 * Ownership: the replicate arrays are borrowed; nothing is allocated. (rule: base/README.md) */
#ifndef PSFLOW_BOOTCI_H
#define PSFLOW_BOOTCI_H

#include <stddef.h>

typedef enum { BOOTCI_PERCENTILE, BOOTCI_NORMAL, BOOTCI_BCA } bootci_method;

const char *bootci_name(bootci_method m);

double normal_cdf(double x);
double normal_quantile(double p); /* -inf at 0, +inf at 1 */

/* The level interval into ci[2] from the m replicate estimates `sorted`
 * (ascending, m >= 2) around `estimate`; for BCa, the estimates without
 * each of nblocks blocks of rows at jack[0], jack[stride], ... NaN where
 * an end cannot be had. */
void bootci_interval(bootci_method method, double level, const double *sorted,
    size_t m, double estimate, const double *jack, size_t stride, int nblocks,
    double ci[2]);

#endif
