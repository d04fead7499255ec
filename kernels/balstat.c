#include "balstat.h"

#include <math.h>

/* Weighted means and population variances of both groups under weighting
 * k, summed in order of value (the same sums whatever the batches were). */
static void
moments(const tally *tl, int k, double mean[2], double var[2],
    double sum_w[2])
{
	double s[2] = { 0, 0 }, ss[2] = { 0, 0 };

	sum_w[0] = sum_w[1] = 0;
	for (size_t i = 0; i < tl->nvalues; i++) {
		size_t v = tl->order[i];

		for (int g = 0; g < 2; g++) {
			double w = tally_sum(tl, v, g, k);

			sum_w[g] += w;
			s[g] += w * tl->values[v];
		}
	}
	for (int g = 0; g < 2; g++)
		mean[g] = sum_w[g] > 0 ? s[g] / sum_w[g] : NAN;
	for (size_t i = 0; i < tl->nvalues; i++) {
		size_t v = tl->order[i];

		for (int g = 0; g < 2; g++) {
			double d = tl->values[v] - mean[g];

			ss[g] += tally_sum(tl, v, g, k) * d * d;
		}
	}
	for (int g = 0; g < 2; g++)
		var[g] = sum_w[g] > 0 ? ss[g] / sum_w[g] : NAN;
}

double
balstat_sd_denominator(const tally *tl, sd_mode mode)
{
	double mean[2], var[2], sum_w[2];

	moments(tl, 0, mean, var, sum_w);
	switch (mode) {
	case SD_TREATED: return sqrt(var[1]);
	case SD_CONTROL: return sqrt(var[0]);
	case SD_POOLED: break;
	}
	return sqrt((var[0] + var[1]) / 2);
}

void
balstat_compute(const tally *tl, int k, double sd_denominator, balstat *b)
{
	double mean[2], var[2], sum_w[2], cdf[2] = { 0, 0 };

	moments(tl, k, mean, var, sum_w);
	b->mean_t = mean[1];
	b->mean_c = mean[0];
	b->smd = sd_denominator > 0 ? (mean[1] - mean[0]) / sd_denominator :
	    mean[1] == mean[0] ? 0 : NAN;
	b->var_ratio = var[0] > 0 ? var[1] / var[0] : NAN;
	/* KS: the CDFs step once per distinct value */
	b->ks = 0;
	for (size_t i = 0; i < tl->nvalues; i++) {
		size_t v = tl->order[i];

		for (int g = 0; g < 2; g++)
			if (sum_w[g] > 0)
				cdf[g] += tally_sum(tl, v, g, k) / sum_w[g];
		b->ks = fmax(b->ks, fabs(cdf[1] - cdf[0]));
	}
}
