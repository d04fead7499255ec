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

/* Keys [0, m) of from, a bucket whose digits above `below` are all the
 * same, sorted by their lower digits (LSD, the passes going back and
 * forth between from and to) and left in to. The bucket fits in a core's
 * second-level cache, so its passes do not go to memory: counts of 32
 * bits, their own array (zeroed here). */
static void
bucket_sort(keyed *from, keyed *to, size_t m, int below, uint32_t (*count)[BUCKETS])
{
	keyed *src = from, *dst = to, *swap;

	if (m < 64) {
		insertion_sort(from, m);
		memcpy(to, from, m * sizeof *to);
		return;
	}
	memset(count, 0, (size_t)below * sizeof count[0]);
	for (size_t i = 0; i < m; i++) {
		uint64_t b = order_bits(from[i].key);

		for (int d = 0; d < below; d++)
			count[d][digit(b, d)]++;
	}
	for (int d = 0; d < below; d++) {
		uint32_t *c = count[d], sum = 0;

		if (c[digit(order_bits(src[0].key), d)] == m)
			continue; /* one digit for the whole bucket */
		for (size_t b = 0; b < BUCKETS; b++) {
			uint32_t v = c[b];

			c[b] = sum;
			sum += v;
		}
		for (size_t i = 0; i < m; i++)
			dst[c[digit(order_bits(src[i].key), d)]++] = src[i];
		swap = src, src = dst, dst = swap;
	}
	if (src != to)
		memcpy(to, src, m * sizeof *to);
}

/* Input that is nearly in order (boot hands over its cells in the order of
 * the full data's propensities) is finished by insertion in O(n + moves);
 * anything else gets a radix sort of six 11-bit digits (a digit that is
 * the same for every key is skipped), then each run of equal keys put in
 * row order. Past BLOCKED_ROWS keys the highest digit that differs comes
 * first: one pass through memory deals the keys into buckets of that digit
 * (a few thousand keys each at a million keys), and each bucket is then
 * sorted on its lower digits inside the cache. Below, the passes (least
 * digit first) go back and forth between the array and one scratch copy,
 * each digit taken from the key as it is read. Either way the keys end in
 * the order of their bits, the equal ones then by row: the same result. */
enum { BLOCKED_ROWS = 1 << 16 };

void
keyed_sort(keyed *k, size_t n)
{
	size_t *count;
	keyed *from = k, *to;
	uint64_t first;
	int top = -1;

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
	for (int d = PASSES - 1; d >= 0 && top < 0; d--)
		if (count[(size_t)d * BUCKETS + digit(first, d)] != n)
			top = d;
	if (n >= BLOCKED_ROWS && n <= UINT32_MAX && top > 0) {
		size_t *place = count + (size_t)top * BUCKETS, start[BUCKETS + 1];
		uint32_t (*local)[BUCKETS] = xmalloc((size_t)top * sizeof local[0]);

		digit_places(count, n, first, top);
		memcpy(start, place, BUCKETS * sizeof *start);
		start[BUCKETS] = n;
		for (size_t i = 0; i < n; i++)
			to[place[digit(order_bits(k[i].key), top)]++] = k[i];
		for (size_t b = 0; b < BUCKETS; b++)
			if (start[b + 1] > start[b])
				bucket_sort(to + start[b], k + start[b], start[b + 1] - start[b], top,
				    local);
		free(local);
	} else {
		for (int d = 0; d <= top; d++) {
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
