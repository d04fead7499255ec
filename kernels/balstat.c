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

int
balstat_binary(const tally *tl)
{
	for (size_t v = 0; v < tl->nvalues; v++)
		if (tl->values[v] != 0 && tl->values[v] != 1)
			return 0;
	return 1;
}

/* The population variances made sample ones for a covariate that is not
 * binary (cov.wt's unbiased form; S2 = S when the weights are 1). */
static void
sample_variances(double var[2], const double sum_w[2], const double sum_w2[2])
{
	for (int g = 0; g < 2; g++) {
		double S = sum_w[g], S2 = sum_w2 ? sum_w2[g] : sum_w[g];

		var[g] = S > 0 && S - S2 / S > 0 ? var[g] * S / (S - S2 / S) : NAN;
	}
}

double
balstat_sd_denominator(const tally *tl, sd_mode mode, balstat_variance v)
{
	double mean[2], var[2], sum_w[2];

	moments(tl, 0, mean, var, sum_w);
	if (v == BALSTAT_SAMPLE && !balstat_binary(tl))
		sample_variances(var, sum_w, NULL);
	switch (mode) {
	case SD_TREATED: return sqrt(var[1]);
	case SD_CONTROL: return sqrt(var[0]);
	case SD_POOLED: break;
	}
	return sqrt((var[0] + var[1]) / 2);
}

void
balstat_compute(const tally *tl, int k, double sd_denominator, balstat_variance v,
    const double sum_w2[2], balstat *b)
{
	double mean[2], var[2], sum_w[2], cdf[2] = { 0, 0 };

	moments(tl, k, mean, var, sum_w);
	b->binary = balstat_binary(tl);
	b->mean_t = mean[1];
	b->mean_c = mean[0];
	b->smd = sd_denominator > 0 ? (mean[1] - mean[0]) / sd_denominator :
	    mean[1] == mean[0] ? 0 : NAN;
	if (v == BALSTAT_SAMPLE && !b->binary)
		sample_variances(var, sum_w, k == 0 ? NULL : sum_w2);
	b->var_ratio = v == BALSTAT_SAMPLE && b->binary ? NAN :
	    var[0] > 0 ? var[1] / var[0] : NAN;
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
