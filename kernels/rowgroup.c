#include "rowgroup.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "hashbits.h"

static uint64_t
row_hash(const double *X, size_t n, int p, size_t i)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;

	for (int k = 0; k < p; k++) {
		h ^= bits_of(X[(size_t)k * n + i]);
		/* splitmix64's finaliser: every input bit moves every output bit */
		h ^= h >> 30;
		h *= 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 27;
		h *= 0x94d049bb133111ebULL;
		h ^= h >> 31;
	}
	return h;
}

static int
rows_equal(const double *X, size_t n, int p, size_t a, size_t b)
{
	for (int k = 0; k < p; k++)
		if (bits_of(X[(size_t)k * n + a]) != bits_of(X[(size_t)k * n + b]))
			return 0;
	return 1;
}

size_t
rowgroup(const double *X, size_t n, int p, uint32_t *group)
{
	size_t size = 16, mask, ngroups = 0;
	uint32_t *slot; /* first row of a group + 1; 0: empty */

	if (n >= UINT32_MAX)
		return 0;
	while (size < 2 * n)
		size *= 2;
	mask = size - 1;
	slot = xcalloc(size, sizeof *slot);
	for (size_t i = 0; i < n; i++) {
		size_t s = (size_t)row_hash(X, n, p, i) & mask;

		/* linear probing; the table is at most half full */
		while (slot[s] && !rows_equal(X, n, p, slot[s] - 1, i))
			s = (s + 1) & mask;
		if (slot[s] == 0) {
			slot[s] = (uint32_t)i + 1;
			group[i] = (uint32_t)ngroups++;
		} else
			group[i] = group[slot[s] - 1];
	}
	free(slot);
	return ngroups;
}
