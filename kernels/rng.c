#include "rng.h"

#include <math.h>

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void
rng_seed(rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

void
rng_stream(rng *r, uint64_t seed, uint64_t index)
{
	uint64_t x = seed;

	/* mix the index through splitmix so neighbouring streams are unrelated */
	x ^= splitmix64(&index) + 0x632be59bd9b4e019ull;
	rng_seed(r, splitmix64(&x));
}

double
rng_uniform(rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

double
rng_gamma_int(rng *r, int k)
{
	double prod = 1;

	for (int i = 0; i < k; i++)
		prod *= 1.0 - rng_uniform(r); /* in (0, 1]: log never sees 0 */
	return -log(prod);
}

double
rng_beta_int(rng *r, int a, int b)
{
	double x = rng_gamma_int(r, a), y = rng_gamma_int(r, b);

	return x + y > 0 ? x / (x + y) : 0.5;
}

double
rng_normal(rng *r)
{
	double u1 = 1.0 - rng_uniform(r), u2 = rng_uniform(r); /* u1 in (0, 1] */

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

uint64_t
rng_poisson(rng *r, double lambda)
{
	double limit = exp(-lambda), prod = 1.0 - rng_uniform(r);
	uint64_t k = 0;

	while (prod > limit) {
		k++;
		prod *= 1.0 - rng_uniform(r);
	}
	return k;
}

/* The 1 bits of x, by adding neighbouring fields (the baseline build has
 * no popcount instruction, and libgcc's is a call). */
static inline uint64_t
ones_in(uint64_t x)
{
	x -= (x >> 1) & 0x5555555555555555ull;
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (x * 0x0101010101010101ull) >> 56;
}

/* How many of `bits` random bits are 1. */
static uint64_t
random_ones(rng *r, uint64_t bits)
{
	uint64_t ones = 0;

	for (; bits >= 64; bits -= 64)
		ones += ones_in(rng_next(r));
	if (bits > 0)
		ones += ones_in(rng_next(r) >> (64 - bits));
	return ones;
}

uint64_t
rng_binomial_ratio(rng *r, uint64_t trials, uint64_t a, uint64_t total)
{
	uint64_t successes = 0, undecided = trials, rest = a;

	if (a == 0 || trials == 0)
		return 0;
	if (a >= total)
		return trials;
	while (undecided > 0 && rest > 0) {
		/* the fraction's next binary digit: rest / total doubled */
		int digit = (rest <<= 1) >= total;
		uint64_t ones = random_ones(r, undecided);

		if (digit) {
			rest -= total;
			successes += undecided - ones; /* a 0 under a 1: below */
			undecided = ones;
		} else
			undecided -= ones; /* a 1 over a 0: above */
	}
	/* rest == 0: the fraction's digits end, and a tie so far is not below */
	return successes;
}

static void
split_bins(rng *r, uint64_t draws, uint64_t lo, uint64_t hi, uint64_t n, int shift,
    uint32_t *counts)
{
	uint64_t mid, first, middle, end, left;

	if (hi - lo == 1) {
		counts[lo] = (uint32_t)draws;
		return;
	}
	mid = lo + (hi - lo) / 2;
	first = lo << shift, middle = mid << shift;
	end = hi << shift < n ? hi << shift : n;
	left = rng_binomial_ratio(r, draws, middle - first, end - first);
	split_bins(r, left, lo, mid, n, shift, counts);
	split_bins(r, draws - left, mid, hi, n, shift, counts);
}

void
rng_multinomial_bins(rng *r, uint64_t draws, uint64_t n, int shift, uint32_t *counts)
{
	uint64_t bins = (n + ((uint64_t)1 << shift) - 1) >> shift;

	if (bins > 0)
		split_bins(r, draws, 0, bins, n, shift, counts);
}

void
rng_offsets(rng *r, uint32_t *at, size_t count, uint64_t rows, int shift)
{
	size_t j = 0;

	if (rows == (uint64_t)1 << shift && shift > 0 && shift <= 32) {
		int per = 64 / shift;
		uint64_t mask = ((uint64_t)1 << shift) - 1;

		for (; j + (size_t)per <= count; j += (size_t)per) {
			uint64_t x = rng_next(r);

			for (int f = 0; f < per; f++, x >>= shift)
				at[j + (size_t)f] = (uint32_t)(x & mask);
		}
		if (j < count) {
			uint64_t x = rng_next(r);

			for (; j < count; j++, x >>= shift)
				at[j] = (uint32_t)(x & mask);
		}
		return;
	}
	for (; j < count; j++)
		at[j] = (uint32_t)rng_below(r, rows);
}
