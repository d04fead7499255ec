/* hashbits — the bits of a double, and a slot for 64 bits in a table of a
 * power of two: what the open-addressing tables (tally, rowgroup, match's
 * cells) and keyed's radix sorts share.
 *
 * Ownership: inline arithmetic only; nothing is allocated. (rule: base/README.md) */
#ifndef PSFLOW_HASHBITS_H
#define PSFLOW_HASHBITS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t
bits_of(double x)
{
	uint64_t b;

	memcpy(&b, &x, sizeof b);
	return b;
}

/* The bits of a double (not NaN), mapped so that unsigned order is numeric
 * order: every bit of a negative number flipped, only the sign bit of a
 * positive one. -0 is taken as +0, so that the two compare equal as they
 * do in C. */
static inline uint64_t
order_bits(double x)
{
	uint64_t u = bits_of(x == 0 ? 0 : x);

	return (u >> 63) ? ~u : u | 0x8000000000000000ull;
}

/* Fibonacci hashing: the top bits of the product mix every bit of the key.
 * nslots is a power of two (at most 2^32). */
static inline size_t
hash_slot(uint64_t key, size_t nslots)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (nslots - 1);
}

#endif
