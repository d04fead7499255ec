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
