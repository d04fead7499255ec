#include "keyed.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"
#include "hashbits.h"

static int
before(const keyed *a, const keyed *b)
{
	return a->key < b->key || (a->key == b->key && a->index < b->index);
}

/* Sorts nearly sorted input by insertion if that takes at most `budget`
 * moves; returns 0 (k then partly sorted, still a permutation) if not. */
static int
insertion_sort_within(keyed *k, size_t n, size_t budget)
{
	size_t moves = 0;

	for (size_t i = 1; i < n; i++) {
		keyed v = k[i];
		size_t j = i;

		while (j > 0 && before(&v, &k[j - 1])) {
			k[j] = k[j - 1];
			j--;
			if (++moves > budget) {
				k[j] = v;
				return 0;
			}
		}
		k[j] = v;
	}
	return 1;
}

static void
insertion_sort(keyed *k, size_t n)
{
	insertion_sort_within(k, n, SIZE_MAX);
}

enum { BITS = 11, BUCKETS = 1 << BITS, PASSES = 6 };

/* Each pass's digit counts (count[pass][digit]) of n keys, one of which is
 * first, turned into the place of each digit's first key in that pass's
 * output. Returns 0 for a pass with nothing to move (every key has the same
 * digit: for propensities most high digits are). */
static int
digit_places(size_t *count, size_t n, uint64_t first, int pass)
{
	size_t *c = count + (size_t)pass * BUCKETS, sum = 0;

	if (c[(first >> (BITS * pass)) & (BUCKETS - 1)] == n)
		return 0;
	for (size_t b = 0; b < BUCKETS; b++) {
		size_t v = c[b];

		c[b] = sum;
		sum += v;
	}
	return 1;
}

static size_t
digit(uint64_t bits, int pass)
{
	return (bits >> (BITS * pass)) & (BUCKETS - 1);
}

/* Input that is nearly in order (boot hands over its cells in the order of
 * the full data's propensities) is finished by insertion in O(n + moves);
 * anything else gets an LSD radix sort, six passes of 11 bits (a pass whose
 * digit is the same for every key is skipped), then each run of equal keys
 * put in row order. The passes go back and forth between the array and one
 * scratch copy, each digit taken from the key as it is read: one scratch
 * array and 16 bytes moved a row a pass (a copy of the keys' bits beside
 * them would double both). */
void
keyed_sort(keyed *k, size_t n)
{
	size_t *count;
	keyed *from = k, *to;
	uint64_t first;

	if (n < 64) {
		insertion_sort(k, n);
		return;
	}
	{
		size_t descents = 0;

		for (size_t i = 1; i < n; i++)
			descents += before(&k[i], &k[i - 1]);
		if (descents <= n / 16 && insertion_sort_within(k, n, 2 * n))
			return;
	}
	count = xcalloc((size_t)PASSES * BUCKETS, sizeof *count);
	to = xreallocarray(NULL, n, sizeof *to);
	for (size_t i = 0; i < n; i++) {
		uint64_t b = order_bits(k[i].key);

		for (int d = 0; d < PASSES; d++)
			count[(size_t)d * BUCKETS + digit(b, d)]++;
	}
	first = order_bits(k[0].key);
	for (int d = 0; d < PASSES; d++) {
		size_t *c = count + (size_t)d * BUCKETS;
		keyed *swap;

		if (!digit_places(count, n, first, d))
			continue;
		for (size_t i = 0; i < n; i++)
			to[c[digit(order_bits(from[i].key), d)]++] = from[i];
		swap = from, from = to, to = swap;
	}
	if (from != k) {
		memcpy(k, from, n * sizeof *k);
		to = from;
	}
	/* keys equal as numbers have equal bits (-0 is +0 here) */
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && k[j].key == k[i].key)
			j++;
		if (j - i > 1)
			insertion_sort(k + i, j - i);
		i = j;
	}
	free(count);
	free(to);
}

void
bits_sort(uint64_t *k, size_t n)
{
	size_t *count;
	uint64_t *from = k, *to, first;

	if (n < 2)
		return;
	first = k[0];
	count = xcalloc((size_t)PASSES * BUCKETS, sizeof *count);
	to = xreallocarray(NULL, n, sizeof *to);
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < PASSES; d++)
			count[(size_t)d * BUCKETS + digit(k[i], d)]++;
	for (int d = 0; d < PASSES; d++) {
		size_t *c = count + (size_t)d * BUCKETS;
		uint64_t *swap;

		if (!digit_places(count, n, first, d))
			continue;
		for (size_t i = 0; i < n; i++)
			to[c[digit(from[i], d)]++] = from[i];
		swap = from, from = to, to = swap;
	}
	if (from != k)
		memcpy(k, from, n * sizeof *k);
	free(count);
	free(from == k ? to : from);
}
