/* boot_resample — see boot_resample.h. */
#include "boot_resample.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hashbits.h"
#include "rng.h"
#include "stage.h"
#include "xalloc.h"

const char *
resample_name(resample_kind k)
{
	return k == RESAMPLE_CLUSTERS ? "clusters" : k == RESAMPLE_POISSON ? "poisson" : "rows";
}

/* A row's value of the column as 64 bits: an integer as it is, a level by
 * its text (so the key does not depend on the level's code), a double by
 * its bits. */
static uint64_t
value_key(const column *c, size_t i)
{
	switch (c->type) {
	case COL_I64: return (uint64_t)((const int64_t *)c->data)[i];
	case COL_BOOL: return ((const uint8_t *)c->data)[i];
	case COL_F64: return bits_of(((const double *)c->data)[i]);
	case COL_CAT: {
		const char *s = c->levels[((const int32_t *)c->data)[i]];
		uint64_t h = 1469598103934665603ull; /* FNV-1a */

		for (; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ull;
		return h;
	}
	}
	return 0;
}

/* A row of a cluster: the cluster's key, the row's place in the replay's
 * order. */
typedef struct {
	uint64_t key;
	uint32_t row;
} member;

static int
by_cluster(const void *a, const void *b)
{
	const member *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/* splitmix64's finaliser: a key spread over 64 bits */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void
boot_resample_prepare(boot_resample *rs, resample_kind kind, const char *colname,
    const table *rows, const replay_data *d)
{
	size_t n = d->n;
	const column *c = NULL;

	memset(rs, 0, sizeof *rs);
	rs->kind = kind;
	rs->column = colname;
	if (kind == RESAMPLE_ROWS)
		return;
	if (colname) {
		int ci = table_find(rows, colname);

		if (ci < 0)
			die("%s column '%s' is not in the stream", kind == RESAMPLE_CLUSTERS ?
			    "cluster" : "key", colname);
		c = &rows->cols[ci];
		for (size_t i = 0; i < n; i++)
			if (column_is_missing(c, i))
				die("%s column '%s' is missing at %s", kind == RESAMPLE_CLUSTERS ?
				    "cluster" : "key", colname, stage_row(i));
	}
	if (kind == RESAMPLE_POISSON) {
		rs->key = xreallocarray(NULL, n + 1, sizeof *rs->key);
		for (size_t i = 0; i < n; i++) /* stream row i is ordered row pos[i] */
			rs->key[d->pos[i]] = c ? value_key(c, i) : (uint64_t)i;
		return;
	}
	{
		/* clusters in order of their key, each's ordered rows in order */
		member *m = xreallocarray(NULL, n + 1, sizeof *m);

		for (size_t i = 0; i < n; i++)
			m[i] = (member){ value_key(c, i), (uint32_t)d->pos[i] };
		qsort(m, n, sizeof *m, by_cluster);
		rs->rows = xreallocarray(NULL, n + 1, sizeof *rs->rows);
		rs->start = xreallocarray(NULL, n + 2, sizeof *rs->start);
		for (size_t j = 0; j < n; j++) {
			if (j == 0 || m[j].key != m[j - 1].key)
				rs->start[rs->nclusters++] = j;
			rs->rows[j] = m[j].row;
		}
		rs->start[rs->nclusters] = n;
		free(m);
	}
}

void
boot_resample_free(boot_resample *rs)
{
	free(rs->rows);
	free(rs->start);
	free(rs->key);
	memset(rs, 0, sizeof *rs);
}

static void
append(uint32_t **list, size_t *cap, size_t *m, uint32_t row)
{
	if (*m == *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		*list = xreallocarray(*list, *cap, sizeof **list);
	}
	(*list)[(*m)++] = row;
}

size_t
boot_resample_list(const boot_resample *rs, uint64_t seed, uint64_t r, size_t n,
    uint32_t **list, size_t *cap)
{
	size_t m = 0;
	rng g;

	if (rs->kind == RESAMPLE_CLUSTERS) {
		/* as many clusters as there are, drawn with replacement */
		rng_stream(&g, seed, r);
		for (size_t j = 0; j < rs->nclusters; j++) {
			size_t c = (size_t)rng_below(&g, rs->nclusters);

			for (size_t k = rs->start[c]; k < rs->start[c + 1]; k++)
				append(list, cap, &m, rs->rows[k]);
		}
		return m;
	}
	/* poisson: each row's count from (seed, replicate, its key) alone */
	for (size_t k = 0; k < n; k++) {
		uint64_t count;

		rng_stream(&g, seed ^ 0x9e3779b97f4a7c15ull, mix(mix(rs->key[k]) ^ r));
		count = rng_poisson(&g, 1.0);
		while (count-- > 0)
			append(list, cap, &m, (uint32_t)k);
	}
	return m;
}
