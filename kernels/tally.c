#include "tally.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "hashbits.h"
#include "keyed.h"

void
tally_init(tally *tl, int nw)
{
	memset(tl, 0, sizeof *tl);
	tl->nw = nw;
}

void
tally_free(tally *tl)
{
	free(tl->values);
	free(tl->sums);
	free(tl->keys);
	free(tl->slot_value);
	free(tl->order);
	memset(tl, 0, sizeof *tl);
}

/* Integers 0 .. TALLY_SMALL - 1 (category codes, flags, counts) are
 * looked up directly; every other value is hashed. So the hash never holds
 * 0, whose bits mark a free slot. */
static int
is_small(double v)
{
	return v >= 0 && v < TALLY_SMALL && v == (double)(int)v;
}

static void
put_slot(tally *tl, uint64_t bits, size_t v)
{
	size_t s = hash_slot(bits, tl->nslots);

	while (tl->keys[s])
		s = (s + 1) & (tl->nslots - 1);
	tl->keys[s] = bits;
	tl->slot_value[s] = (uint32_t)v;
}

static void
rehash(tally *tl, size_t nslots)
{
	free(tl->keys);
	free(tl->slot_value);
	tl->keys = xcalloc(nslots, sizeof *tl->keys);
	tl->slot_value = xcalloc(nslots, sizeof *tl->slot_value);
	tl->nslots = nslots;
	for (size_t v = 0; v < tl->nvalues; v++)
		if (!is_small(tl->values[v]))
			put_slot(tl, bits_of(tl->values[v]), v);
}

static size_t
new_value(tally *tl, double v)
{
	size_t per = (size_t)tl->nw * 2;

	if (tl->nvalues == INT32_MAX) { /* tally_add's cells are value * 2 + group */
		tl->overflow = 1; /* tally_add says so; the sums are void */
		return 0;
	}
	if (tl->nvalues == tl->cap) {
		tl->cap = tl->cap ? 2 * tl->cap : 16;
		tl->values = xreallocarray(tl->values, tl->cap, sizeof *tl->values);
		tl->sums = xreallocarray(tl->sums, tl->cap, per * sizeof *tl->sums);
	}
	tl->values[tl->nvalues] = v;
	memset(tl->sums + tl->nvalues * per, 0, per * sizeof *tl->sums);
	return tl->nvalues++;
}

static size_t
insert_hashed(tally *tl, double v)
{
	size_t idx;

	if (2 * (tl->nhashed + 1) > tl->nslots)
		rehash(tl, tl->nslots ? 2 * tl->nslots : 64);
	idx = new_value(tl, v);
	put_slot(tl, bits_of(v), idx);
	tl->nhashed++;
	return idx;
}

/* The index of value v, added if new. -0 is taken as 0: they are equal. */
static inline size_t
value_index(tally *tl, double v)
{
	uint64_t bits;

	if (v == 0)
		v = 0;
	if (is_small(v)) {
		int i = (int)v;

		if (!tl->small[i])
			tl->small[i] = (uint32_t)(new_value(tl, v) + 1);
		return tl->small[i] - 1;
	}
	/* the key holds the value's bits, so a probe is one load */
	bits = bits_of(v);
	if (tl->nslots)
		for (size_t s = hash_slot(bits, tl->nslots); tl->keys[s];
		    s = (s + 1) & (tl->nslots - 1))
			if (tl->keys[s] == bits)
				return tl->slot_value[s];
	return insert_hashed(tl, v);
}

int
tally_add(tally *tl, const double *x, const uint8_t *t,
    const double *const *w, size_t n)
{
	enum { CHUNK = 1024 };
	size_t nw = (size_t)tl->nw;
	uint32_t cell[CHUNK]; /* value index * 2 + group, of each row of a chunk */

	/* the lookups first, then one plain loop per weighting: the lookups of
	 * different rows overlap, and the sums need no lookup */
	for (size_t from = 0; from < n; from += CHUNK) {
		size_t m = n - from < CHUNK ? n - from : CHUNK;

		for (size_t r = 0; r < m; r++)
			cell[r] = (uint32_t)(value_index(tl, x[from + r]) * 2 + t[from + r]);
		for (size_t r = 0; r < m; r++)
			tl->sums[cell[r] * nw] += 1;
		for (size_t k = 1; k < nw; k++)
			for (size_t r = 0; r < m; r++)
				tl->sums[cell[r] * nw + k] += w[k][from + r];
	}
	return tl->overflow ? -1 : 0;
}

void
tally_indicator(const tally *tl, double value, tally *out)
{
	size_t per = (size_t)tl->nw * 2;
	size_t zero, one;

	tally_init(out, tl->nw);
	zero = value_index(out, 0);
	one = value_index(out, 1);
	for (size_t v = 0; v < tl->nvalues; v++) {
		size_t to = tl->values[v] == value ? one : zero;

		for (size_t j = 0; j < per; j++)
			out->sums[to * per + j] += tl->sums[v * per + j];
	}
}

double
tally_split_missing(const tally *tl, tally *present, tally *missing)
{
	size_t per = (size_t)tl->nw * 2;
	size_t zero, one;
	double count = 0;

	tally_init(present, tl->nw);
	tally_init(missing, tl->nw);
	zero = value_index(missing, 0);
	one = value_index(missing, 1);
	for (size_t v = 0; v < tl->nvalues; v++) {
		int absent = tl->values[v] != tl->values[v]; /* NaN */
		size_t to = absent ? one : zero;

		for (size_t j = 0; j < per; j++)
			missing->sums[to * per + j] += tl->sums[v * per + j];
		if (absent) {
			count += tl->sums[v * per] + tl->sums[v * per + (size_t)tl->nw];
			continue;
		}
		to = value_index(present, tl->values[v]);
		for (size_t j = 0; j < per; j++)
			present->sums[to * per + j] += tl->sums[v * per + j];
	}
	return count;
}

void
tally_sort(tally *tl)
{
	keyed *k = xreallocarray(NULL, tl->nvalues + 1, sizeof *k);

	for (size_t v = 0; v < tl->nvalues; v++)
		k[v] = (keyed){ tl->values[v], v };
	keyed_sort(k, tl->nvalues);
	tl->order = xreallocarray(tl->order, tl->nvalues + 1, sizeof *tl->order);
	for (size_t v = 0; v < tl->nvalues; v++)
		tl->order[v] = k[v].index;
	free(k);
}

double
tally_sum(const tally *tl, size_t v, int g, int k)
{
	return tl->sums[(v * 2 + (size_t)g) * (size_t)tl->nw + (size_t)k];
}
