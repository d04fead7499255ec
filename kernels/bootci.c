#include "bootci.h"

#include <math.h>

#include "quantile.h"

double
normal_cdf(double x)
{
	return 0.5 * erfc(-x / sqrt(2));
}

double
normal_quantile(double p)
{
	/* Acklam's rational approximation, then one Newton step */
	static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
		2.506628277459239e+00 };
	static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01 };
	static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
		2.938163982698783e+00 };
	static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
		2.445134137142996e+00, 3.754408661907416e+00 };
	double q, r, x;

	if (p <= 0)
		return -INFINITY;
	if (p >= 1)
		return INFINITY;
	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else if (p > 1 - 0.02425) {
		q = sqrt(-2 * log(1 - p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else {
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
		    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	}
	/* Newton on Phi(x) = p */
	x -= (normal_cdf(x) - p) / (exp(-x * x / 2) / sqrt(2 * M_PI));
	return x;
}

void
bootci_interval(bootci_method method, double level, const double *sorted, size_t m,
    double estimate, const double *jack, size_t stride, int nblocks, double ci[2])
{
	double alpha = (1 - level) / 2, mean = 0, sd = 0;

	ci[0] = ci[1] = NAN;
	for (size_t i = 0; i < m; i++)
		mean += sorted[i] / (double)m;
	for (size_t i = 0; i < m; i++)
		sd += (sorted[i] - mean) * (sorted[i] - mean) / (double)(m - 1);
	sd = sqrt(sd);
	switch (method) {
	case BOOTCI_PERCENTILE:
		ci[0] = quantile_sorted(sorted, m, alpha);
		ci[1] = quantile_sorted(sorted, m, 1 - alpha);
		break;
	case BOOTCI_NORMAL:
		ci[0] = estimate - normal_quantile(1 - alpha) * sd;
		ci[1] = estimate + normal_quantile(1 - alpha) * sd;
		break;
	case BOOTCI_BCA: {
		double below = 0, jm = 0, num = 0, den = 0, z0, a, za = normal_quantile(alpha);

		for (size_t i = 0; i < m; i++)
			below += sorted[i] < estimate ? 1 : sorted[i] == estimate ? 0.5 : 0;
		z0 = normal_quantile(below / (double)m);
		for (int g = 0; g < nblocks; g++)
			jm += jack[(size_t)g * stride] / nblocks;
		for (int g = 0; g < nblocks; g++) {
			double d = jm - jack[(size_t)g * stride];

			num += d * d * d;
			den += d * d;
		}
		a = den > 0 ? num / (6 * pow(den, 1.5)) : 0;
		ci[0] = quantile_sorted(sorted, m,
		    normal_cdf(z0 + (z0 + za) / (1 - a * (z0 + za))));
		ci[1] = quantile_sorted(sorted, m,
		    normal_cdf(z0 + (z0 - za) / (1 - a * (z0 - za))));
		break;
	}
	}
}

const char *
bootci_name(bootci_method m)
{
	return m == BOOTCI_NORMAL ? "normal" : m == BOOTCI_BCA ? "bca" : "percentile";
}
