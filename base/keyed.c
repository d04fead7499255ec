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

static uint64_t
keyed_bits(const keyed *k)
{
	return order_bits(k->key);
}

static uint64_t
own_bits(const uint64_t *k)
{
	return *k;
}

static void
bits_insertion_sort(uint64_t *k, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t v = k[i];
		size_t j = i;

		for (; j > 0 && v < k[j - 1]; j--)
			k[j] = k[j - 1];
		k[j] = v;
	}
}

/* The radix sort of n elements of type T by the 64 bits BITS_OF gives
 * each, written once for keyed and uint64_t (a function call per element
 * read would cost more than the sort): NAME##_radix leaves the elements in
 * the order of their bits, those with equal bits in any order (keyed_sort
 * then puts them in row order).
 *
 * Six digits of 11 bits; a digit that is the same for every element is
 * skipped. Past BLOCKED_ROWS elements the highest digit that differs comes
 * first: one pass through memory deals them into its buckets (a few
 * thousand elements each at a million propensities), and each bucket is
 * sorted on its lower digits inside the core's second-level cache, with
 * counts of 32 bits. Below, the passes (least digit first) go back and
 * forth between the array and one scratch copy, each digit taken from the
 * element as it is read. Either way the order of the bits is the same. */
enum { BLOCKED_ROWS = 1 << 16 };

#define RADIX_SORT(NAME, T, BITS_OF, SMALL_SORT) \
	/* Elements [0, m) of from, whose digits above `below` are all the \
	 * same, sorted by their lower digits and left in to. */ \
	static __attribute__((noinline)) void \
	NAME##_bucket(T *from, T *to, size_t m, int below, uint32_t (*count)[BUCKETS]) \
	{ \
		T *src = from, *dst = to, *swap; \
 \
		if (m < 64) { \
			SMALL_SORT(from, m); \
			memcpy(to, from, m * sizeof *to); \
			return; \
		} \
		memset(count, 0, (size_t)below * sizeof count[0]); \
		for (size_t i = 0; i < m; i++) { \
			uint64_t b = BITS_OF(&from[i]); \
 \
			for (int d = 0; d < below; d++) \
				count[d][digit(b, d)]++; \
		} \
		for (int d = 0; d < below; d++) { \
			uint32_t *c = count[d], sum = 0; \
 \
			if (c[digit(BITS_OF(&src[0]), d)] == m) \
				continue; /* one digit for the whole bucket */ \
			for (size_t b = 0; b < BUCKETS; b++) { \
				uint32_t v = c[b]; \
 \
				c[b] = sum; \
				sum += v; \
			} \
			for (size_t i = 0; i < m; i++) \
				dst[c[digit(BITS_OF(&src[i]), d)]++] = src[i]; \
			swap = src, src = dst, dst = swap; \
		} \
		if (src != to) \
			memcpy(to, src, m * sizeof *to); \
	} \
 \
	static void \
	NAME##_radix(T *k, size_t n, T *lent) \
	{ \
		size_t *count = xcalloc((size_t)PASSES * BUCKETS, sizeof *count); \
		T *scratch = lent ? NULL : xreallocarray(NULL, n, sizeof *scratch); \
		T *from = k, *to = lent ? lent : scratch; \
		uint64_t first = BITS_OF(&k[0]); \
		int top = -1; \
 \
		for (size_t i = 0; i < n; i++) { \
			uint64_t b = BITS_OF(&k[i]); \
 \
			for (int d = 0; d < PASSES; d++) \
				count[(size_t)d * BUCKETS + digit(b, d)]++; \
		} \
		for (int d = PASSES - 1; d >= 0 && top < 0; d--) \
			if (count[(size_t)d * BUCKETS + digit(first, d)] != n) \
				top = d; \
		if (n >= BLOCKED_ROWS && n <= UINT32_MAX && top > 0) { \
			size_t *place = count + (size_t)top * BUCKETS, start[BUCKETS + 1]; \
			uint32_t (*local)[BUCKETS] = xmalloc((size_t)top * sizeof local[0]); \
 \
			digit_places(count, n, first, top); \
			memcpy(start, place, BUCKETS * sizeof *start); \
			start[BUCKETS] = n; \
			for (size_t i = 0; i < n; i++) \
				to[place[digit(BITS_OF(&k[i]), top)]++] = k[i]; \
			for (size_t b = 0; b < BUCKETS; b++) \
				if (start[b + 1] > start[b]) \
					NAME##_bucket(to + start[b], k + start[b], \
					    start[b + 1] - start[b], top, local); \
			free(local); \
		} else { \
			for (int d = 0; d <= top; d++) { \
				size_t *c = count + (size_t)d * BUCKETS; \
				T *swap; \
 \
				if (!digit_places(count, n, first, d)) \
					continue; \
				for (size_t i = 0; i < n; i++) \
					to[c[digit(BITS_OF(&from[i]), d)]++] = from[i]; \
				swap = from, from = to, to = swap; \
			} \
			if (from != k) \
				memcpy(k, from, n * sizeof *k); \
		} \
		free(count); \
		free(scratch); \
	}

RADIX_SORT(keyed, keyed, keyed_bits, insertion_sort)
RADIX_SORT(bits, uint64_t, own_bits, bits_insertion_sort)

/* Input that is nearly in order (boot hands over its cells in the order of
 * the full data's propensities) is finished by insertion in O(n + moves);
 * anything else gets the radix sort, then each run of equal keys put in
 * row order. */
void
keyed_sort(keyed *k, size_t n)
{
	keyed_sort_into(k, n, NULL);
}

void
keyed_sort_into(keyed *k, size_t n, keyed *scratch)
{
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
	keyed_radix(k, n, scratch);
	/* keys equal as numbers have equal bits (-0 is +0 here) */
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && k[j].key == k[i].key)
			j++;
		if (j - i > 1)
			insertion_sort(k + i, j - i);
		i = j;
	}
}

void
bits_sort(uint64_t *k, size_t n)
{
	if (n < 2)
		return;
	bits_radix(k, n, NULL);
}
