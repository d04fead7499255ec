#include "balstat.h"

#include <math.h>

static void
weighted_moments(const double *x, const uint8_t *t, const double *w, size_t n,
    double mean[2], double var[2], double sum_w[2])
{
	double s[2] = { 0, 0 }, ss[2] = { 0, 0 };

	sum_w[0] = sum_w[1] = 0;
	for (size_t i = 0; i < n; i++) {
		double wi = w ? w[i] : 1;

		sum_w[t[i]] += wi;
		s[t[i]] += wi * x[i];
	}
	for (int g = 0; g < 2; g++)
		mean[g] = sum_w[g] > 0 ? s[g] / sum_w[g] : NAN;
	for (size_t i = 0; i < n; i++) {
		double wi = w ? w[i] : 1, d = x[i] - mean[t[i]];

		ss[t[i]] += wi * d * d;
	}
	for (int g = 0; g < 2; g++)
		var[g] = sum_w[g] > 0 ? ss[g] / sum_w[g] : NAN;
}

double
balstat_sd_denominator(const double *x, const uint8_t *t, size_t n, sd_mode mode)
{
	double mean[2], var[2], sum_w[2];

	weighted_moments(x, t, NULL, n, mean, var, sum_w);
	switch (mode) {
	case SD_TREATED: return sqrt(var[1]);
	case SD_CONTROL: return sqrt(var[0]);
	case SD_POOLED: break;
	}
	return sqrt((var[0] + var[1]) / 2);
}

void
balstat_order(const double *x, size_t n, keyed *order)
{
	for (size_t i = 0; i < n; i++)
		order[i] = (keyed){ x[i], i };
	keyed_sort(order, n);
}

void
balstat_compute(const double *x, const uint8_t *t, const double *w, size_t n,
    double sd_denominator, const keyed *order, balstat *b)
{
	double mean[2], var[2], sum_w[2], cdf[2] = { 0, 0 };

	weighted_moments(x, t, w, n, mean, var, sum_w);
	b->mean_t = mean[1];
	b->mean_c = mean[0];
	b->smd = sd_denominator > 0 ? (mean[1] - mean[0]) / sd_denominator :
	    mean[1] == mean[0] ? 0 : NAN;
	b->var_ratio = var[0] > 0 ? var[1] / var[0] : NAN;
	/* KS: walk the values in order, one step per distinct value */
	b->ks = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && order[j].key == order[i].key) {
			size_t r = order[j].index;
			double wi = w ? w[r] : 1;

			if (sum_w[t[r]] > 0)
				cdf[t[r]] += wi / sum_w[t[r]];
			j++;
		}
		b->ks = fmax(b->ks, fabs(cdf[1] - cdf[0]));
		i = j;
	}
}
