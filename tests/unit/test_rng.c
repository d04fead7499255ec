/* rng: determinism, independence of streams, ranges and the Beta(5, 2) mean;
 * the exact binomial against its probabilities (chi-square), the
 * multinomial bins' sums, means, variances and covariance, and the slice
 * offsets' uniformity and the independence of a word's neighbouring
 * fields. The chi-square limits are about 4.5 standard deviations above
 * the statistic's mean (a false alarm about once in 10^5 seeds); the
 * seeds are fixed, so a run is repeatable. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rng.h"

/* Binomial(n, p)'s probabilities into pmf[0..n]. */
static void
binomial_pmf(int n, double p, double *pmf)
{
	for (int k = 0; k <= n; k++) {
		double c = 1;

		for (int j = 1; j <= k; j++)
			c = c * (n - k + j) / j;
		pmf[k] = c * pow(p, k) * pow(1 - p, n - k);
	}
}

/* Pearson's chi-square of observed counts against expected ones (cells
 * expecting under 5 pooled into the last). */
static double
chi_square(const double *observed, const double *expected, int cells, int *df)
{
	double chi = 0, po = 0, pe = 0;
	int used = 0;

	for (int k = 0; k < cells; k++) {
		if (expected[k] < 5) {
			po += observed[k], pe += expected[k];
			continue;
		}
		chi += (observed[k] - expected[k]) * (observed[k] - expected[k]) / expected[k];
		used++;
	}
	if (pe > 0) {
		chi += (po - pe) * (po - pe) / pe;
		used++;
	}
	*df = used - 1;
	return chi;
}

static void
check_binomial(void)
{
	rng g;
	double pmf[41], observed[41] = { 0 }, expected[41], chi, sum = 0, sq = 0;
	const int reps = 200000;
	int df, inside = 1;

	rng_seed(&g, 11);
	binomial_pmf(12, 5.0 / 13, pmf);
	for (int i = 0; i < reps; i++) {
		uint64_t x = rng_binomial_ratio(&g, 12, 5, 13);

		inside &= x <= 12;
		observed[x <= 12 ? x : 12]++;
	}
	CHECK(inside, "Binomial(12, 5/13) never has more than 12 successes");
	for (int k = 0; k <= 12; k++)
		expected[k] = reps * pmf[k];
	chi = chi_square(observed, expected, 13, &df);
	CHECK(df >= 9 && chi < df + 4.5 * sqrt(2.0 * df),
	    "Binomial(12, 5/13) matches its probabilities (chi-square)");
	for (int i = 0; i < reps; i++) {
		double x = (double)rng_binomial_ratio(&g, 40, 3, 8);

		sum += x, sq += x * x;
	}
	/* mean 15, variance 9.375; sd of the mean 0.0068, of the variance ~0.03 */
	CHECK_NEAR(sum / reps, 15.0, 0.035, "Binomial(40, 3/8) mean is 15");
	CHECK_NEAR(sq / reps - (sum / reps) * (sum / reps), 9.375, 0.15,
	    "Binomial(40, 3/8) variance is 9.375");
	{
		rng before = g;

		CHECK(rng_binomial_ratio(&g, 1000, 0, 7) == 0 &&
		    memcmp(&before, &g, sizeof g) == 0, "a = 0: no successes, no bits used");
		CHECK(rng_binomial_ratio(&g, 1000, 7, 7) == 1000 &&
		    memcmp(&before, &g, sizeof g) == 0, "a = total: every trial, no bits used");
		CHECK(rng_binomial_ratio(&g, 0, 3, 7) == 0, "no trials, no successes");
	}
	{
		/* a half: one bit decides each trial, so 64 trials read one word */
		rng copy = g;
		uint64_t word = rng_next(&copy), zeros = 0;

		for (int b = 0; b < 64; b++)
			zeros += !((word >> b) & 1);
		CHECK(rng_binomial_ratio(&g, 64, 1, 2) == zeros,
		    "Binomial(64, 1/2) counts the 0 bits of one word");
	}
}

static void
check_bins(void)
{
	enum { BINS = 5, REPS = 4000 };
	const uint64_t n = 4 * 2048 + 1845, draws = n;
	double mean[BINS] = { 0 }, sq[BINS] = { 0 }, cross = 0;
	uint32_t counts[BINS];
	int sums_right = 1;
	rng g;

	rng_seed(&g, 5);
	for (int i = 0; i < REPS; i++) {
		uint64_t total = 0;

		rng_multinomial_bins(&g, draws, n, 11, counts);
		for (int b = 0; b < BINS; b++) {
			total += counts[b];
			mean[b] += counts[b];
			sq[b] += (double)counts[b] * counts[b];
		}
		cross += (double)counts[0] * counts[4];
		sums_right &= total == draws;
	}
	CHECK(sums_right, "the bins' counts add up to the draws, every time");
	for (int b = 0; b < BINS; b++) {
		double p = (b < 4 ? 2048.0 : 1845.0) / (double)n, m = mean[b] / REPS;
		double var = sq[b] / REPS - m * m, want = (double)draws * p * (1 - p);

		/* sd of the mean sqrt(want / REPS) ~ 0.65; of the variance ~ 2.2% */
		CHECK(fabs(m - (double)draws * p) < 4.5 * sqrt(want / REPS) &&
		    fabs(var / want - 1) < 0.1, "each bin's count has the binomial mean and variance");
	}
	{
		double p0 = 2048.0 / (double)n, p4 = 1845.0 / (double)n;
		double cov = cross / REPS - (mean[0] / REPS) * (mean[4] / REPS);

		CHECK_NEAR(cov / (-(double)draws * p0 * p4), 1.0, 0.15,
		    "the first and last bins' counts have the multinomial covariance");
	}
	{
		/* 3 draws on 7 items in bins of 2: the last bin (1 item) is
		 * Binomial(3, 1/7), the first Binomial(3, 2/7) */
		double pmf[4], first[4] = { 0 }, last[4] = { 0 }, e1[4], e3[4];
		int df1, df3;
		const int reps = 100000;

		for (int i = 0; i < reps; i++) {
			rng_multinomial_bins(&g, 3, 7, 1, counts);
			first[counts[0]]++, last[counts[3]]++;
		}
		binomial_pmf(3, 2.0 / 7, pmf);
		for (int k = 0; k < 4; k++)
			e1[k] = reps * pmf[k];
		binomial_pmf(3, 1.0 / 7, pmf);
		for (int k = 0; k < 4; k++)
			e3[k] = reps * pmf[k];
		CHECK(chi_square(first, e1, 4, &df1) < df1 + 4.5 * sqrt(2.0 * df1) &&
		    chi_square(last, e3, 4, &df3) < df3 + 4.5 * sqrt(2.0 * df3),
		    "bins of 2 of 7 items: the first and last counts are binomial (chi-square)");
	}
}

static void
check_offsets(void)
{
	enum { PER = 50 };
	const uint64_t sizes[2] = { 2048, 579 };
	static uint32_t at[2048 * PER];
	static double observed[2048], expected[2048];
	rng g;

	rng_seed(&g, 9);
	for (int s = 0; s < 2; s++) {
		size_t rows = (size_t)sizes[s], count = rows * PER;
		int inside = 1, df;
		double chi;

		memset(observed, 0, sizeof observed);
		rng_offsets(&g, at, count, rows, 11);
		for (size_t j = 0; j < count; j++) {
			inside &= at[j] < rows;
			if (at[j] < rows)
				observed[at[j]]++;
		}
		for (size_t k = 0; k < rows; k++)
			expected[k] = PER;
		chi = chi_square(observed, expected, (int)rows, &df);
		CHECK(inside && chi < df + 4.5 * sqrt(2.0 * df),
		    s == 0 ? "offsets in 2^11 rows (bit fields) are uniform (chi-square)" :
		    "offsets in 579 rows (rng_below) are uniform (chi-square)");
	}
	{
		/* neighbouring fields of a word: the joint counts of one's top 4
		 * bits and the next one's bottom 4 (the bits beside each other in
		 * the word) over 256 cells */
		static double joint[256], want[256];
		int df;

		for (int k = 0; k < 256; k++)
			want[k] = (2048.0 * PER / 2) / 256;
		rng_offsets(&g, at, 2048 * PER, 2048, 11);
		for (size_t j = 0; j + 1 < 2048 * PER; j += 2)
			joint[(at[j] >> 7) * 16 + (at[j + 1] & 15)]++;
		CHECK(chi_square(joint, want, 256, &df) < df + 4.5 * sqrt(2.0 * df),
		    "neighbouring offsets are independent (chi-square of the bits beside each other)");
	}
}

int
main(void)
{
	rng a, b;
	double sum = 0, lo = 1, hi = 0;
	int same = 1;
	const int n = 200000;

	rng_seed(&a, 42);
	rng_seed(&b, 42);
	for (int i = 0; i < 100; i++)
		same &= rng_next(&a) == rng_next(&b);
	CHECK(same, "same seed, same sequence");
	rng_stream(&a, 7, 0);
	rng_stream(&b, 7, 1);
	CHECK(rng_next(&a) != rng_next(&b), "streams 0 and 1 differ");
	rng_stream(&a, 7, 5);
	rng_stream(&b, 7, 5);
	CHECK(rng_next(&a) == rng_next(&b), "stream (seed, i) depends on seed and i only");
	for (int i = 0; i < n; i++) {
		double u = rng_uniform(&a);

		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
		sum += rng_beta_int(&b, 5, 2);
	}
	CHECK(lo >= 0 && hi < 1, "uniform in [0, 1)");
	/* mean 5/7, sd of the mean sqrt(10/392/n) ~ 3.6e-4 */
	CHECK_NEAR(sum / n, 5.0 / 7.0, 0.002, "Beta(5,2) mean is 5/7");
	{
		int counts[3] = { 0 };

		for (int i = 0; i < 30000; i++)
			counts[rng_below(&a, 3)]++;
		CHECK(counts[0] > 9500 && counts[1] > 9500 && counts[2] > 9500,
		    "rng_below(3) hits every value about evenly");
	}
	check_binomial();
	check_bins();
	check_offsets();
	CHECK_DONE();
}
