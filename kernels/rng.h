/* rng — xoshiro256** seeded through splitmix64; deterministic everywhere.
 *
 * rng_stream(seed, i) gives a generator that depends on (seed, i) alone, so
 * replicate i of a bootstrap draws the same numbers whichever worker runs it.
 *
 * Ownership: a generator is a value; copy it to replay a stream. (rule: base/README.md) */
#ifndef PSFLOW_RNG_H
#define PSFLOW_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint64_t s[4];
} rng;

void rng_seed(rng *r, uint64_t seed);
void rng_stream(rng *r, uint64_t seed, uint64_t index);

static inline uint64_t
rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Inline: boot draws n of these per replicate. */
static inline uint64_t
rng_next(rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return result;
}

/* Uniform on [0, 1), 53 random bits. */
double rng_uniform(rng *r);
/* Uniform integer on [0, n), n >= 1, without bias: Lemire's multiply and
 * shift (2019), which divides only in the rare case of a draw near the
 * edge. */
static inline uint64_t
rng_below(rng *r, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
	uint64_t low = (uint64_t)m;

	if (low < n) {
		uint64_t floor = -n % n; /* 2^64 mod n */

		while (low < floor) {
			m = (unsigned __int128)rng_next(r) * n;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}
/* Gamma(k, 1) for a whole k >= 1: minus the log of a product of uniforms. */
double rng_gamma_int(rng *r, int k);
/* Beta(a, b) for whole a, b >= 1. */
double rng_beta_int(rng *r, int a, int b);
/* Standard normal: Box-Muller on two uniforms, the cosine branch (one
 * value per call, so a stream's draws do not depend on a cache). */
double rng_normal(rng *r);
/* Poisson(lambda), 0 <= lambda <= 100: Knuth's product of uniforms. */
uint64_t rng_poisson(rng *r, double lambda);

/* Binomial(trials, a / total) exactly, 0 <= a <= total < 2^63: each trial
 * is a uniform u compared with a / total digit by digit, all trials still
 * undecided taking their next random bit together (a trial whose bit is
 * below the fraction's digit has u < a / total; one above, u > a / total),
 * so only how many trials are undecided is kept, and a digit costs one
 * random bit per undecided trial: about 2 * trials bits in all. a == 0 and
 * a == total use no bits. */
uint64_t rng_binomial_ratio(rng *r, uint64_t trials, uint64_t a, uint64_t total);

/* A multinomial draw of `draws` < 2^32 items, each uniform on [0, n), into
 * bins of 2^shift consecutive values (the last bin holds what is left):
 * counts[0 .. ceil(n / 2^shift)) get how many fall in each bin. The bins
 * are halved recursively, each half's count a binomial of its parent's
 * (the left half first), so the counts are exactly as n uniform draws
 * binned would give, without making the draws. */
void rng_multinomial_bins(rng *r, uint64_t draws, uint64_t n, int shift, uint32_t *counts);

/* count values uniform on [0, rows) into at: shift bits each, 64 / shift
 * of them a random word, when rows == 2^shift; rng_below each otherwise. */
void rng_offsets(rng *r, uint32_t *at, size_t count, uint64_t rows, int shift);

#endif
