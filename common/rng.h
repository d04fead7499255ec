/* rng — xoshiro256** seeded through splitmix64; deterministic everywhere.
 *
 * rng_stream(seed, i) gives a generator that depends on (seed, i) alone, so
 * replicate i of a bootstrap draws the same numbers whichever worker runs it. */
#ifndef PSFLOW_RNG_H
#define PSFLOW_RNG_H

#include <stdint.h>

typedef struct {
	uint64_t s[4];
} rng;

void rng_seed(rng *r, uint64_t seed);
void rng_stream(rng *r, uint64_t seed, uint64_t index);
uint64_t rng_next(rng *r);
/* Uniform on [0, 1), 53 random bits. */
double rng_uniform(rng *r);
/* Uniform integer on [0, n), without modulo bias. */
uint64_t rng_below(rng *r, uint64_t n);
/* Gamma(k, 1) for a whole k >= 1: minus the log of a product of uniforms. */
double rng_gamma_int(rng *r, int k);
/* Beta(a, b) for whole a, b >= 1. */
double rng_beta_int(rng *r, int a, int b);

#endif
