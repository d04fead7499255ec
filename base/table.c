#include "table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "hashbits.h"
#include "err.h"
#include "xalloc.h"

size_t
coltype_width(coltype type)
{
	switch (type) {
	case COL_F64: return sizeof(double);
	case COL_I64: return sizeof(int64_t);
	case COL_BOOL: return 1;
	case COL_CAT: return sizeof(int32_t);
	}
	return 0;
}

const char *
coltype_name(coltype type)
{
	static const char *names[] = { "f64", "i64", "bool", "cat" };

	return names[type];
}

int
coltype_parse(const char *name, coltype *type)
{
	for (int i = COL_F64; i <= COL_CAT; i++)
		if (strcmp(name, coltype_name((coltype)i)) == 0) {
			*type = (coltype)i;
			return 0;
		}
	return -1;
}

void
table_init(table *t)
{
	memset(t, 0, sizeof *t);
}

void
table_free(table *t)
{
	for (int i = 0; i < t->ncols; i++) {
		column *c = &t->cols[i];

		free(c->name);
		for (int l = 0; l < c->nlevels; l++)
			free(c->levels[l]);
		free(c->levels);
		bigmem_free(c->data, (t->cap ? t->cap : 1) * coltype_width(c->type));
	}
	free(t->cols);
	free(t->name_slots);
	table_init(t);
}

static void
fill_missing(column *c, size_t from, size_t to)
{
	/* one loop per type: each compiles to a plain fill */
	switch (c->type) {
	case COL_F64:
		for (size_t r = from; r < to; r++)
			((double *)c->data)[r] = NAN;
		break;
	case COL_I64:
		for (size_t r = from; r < to; r++)
			((int64_t *)c->data)[r] = I64_MISSING;
		break;
	case COL_BOOL:
		memset((uint8_t *)c->data + from, BOOL_MISSING, to > from ? to - from : 0);
		break;
	case COL_CAT:
		for (size_t r = from; r < to; r++)
			((int32_t *)c->data)[r] = CAT_MISSING;
		break;
	}
}

/* FNV-1a: column names are short and few; any fair spread will do. */
static uint64_t
name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h;
}

static void
index_name(table *t, int ci)
{
	size_t at = hash_slot(name_hash(t->cols[ci].name), t->nslots);

	while (t->name_slots[at] != 0)
		at = (at + 1) & (t->nslots - 1);
	t->name_slots[at] = ci + 1;
}

/* Keeps the index at most half full. */
static void
grow_name_index(table *t)
{
	if ((size_t)(t->ncols + 1) * 2 <= t->nslots)
		return;
	free(t->name_slots);
	t->nslots = t->nslots ? 2 * t->nslots : 16;
	t->name_slots = xcalloc(t->nslots, sizeof *t->name_slots);
	for (int i = 0; i < t->ncols; i++)
		index_name(t, i);
}

int
table_find(const table *t, const char *name)
{
	size_t at;

	if (t->nslots == 0)
		return -1;
	for (at = hash_slot(name_hash(name), t->nslots); t->name_slots[at] != 0;
	    at = (at + 1) & (t->nslots - 1))
		if (strcmp(t->cols[t->name_slots[at] - 1].name, name) == 0)
			return t->name_slots[at] - 1;
	return -1;
}

int
table_add_column(table *t, const char *name, coltype type, char *const *levels,
    int nlevels)
{
	column *c;

	if (table_find(t, name) >= 0)
		die("column '%s' is already in the stream: choose another name", name);
	grow_name_index(t);
	/* room for twice as many: a head of many columns adds them one by one */
	if ((t->ncols & (t->ncols - 1)) == 0)
		t->cols = xreallocarray(t->cols, t->ncols ? 2 * (size_t)t->ncols : 1,
		    sizeof *t->cols);
	c = &t->cols[t->ncols];
	memset(c, 0, sizeof *c);
	c->name = xstrdup(name);
	c->type = type;
	if (type == COL_CAT) {
		c->levels = xcalloc((size_t)nlevels + 1, sizeof *c->levels);
		for (int l = 0; l < nlevels; l++)
			c->levels[l] = xstrdup(levels[l]);
		c->nlevels = nlevels;
	}
	c->data = bigmem_resize(NULL, 0, (t->cap ? t->cap : 1) * coltype_width(type));
	fill_missing(c, 0, t->nrows);
	index_name(t, t->ncols);
	return t->ncols++;
}

void
table_reserve(table *t, size_t rows)
{
	size_t cap = t->cap ? t->cap : 1024;

	if (rows <= t->cap)
		return;
	while (cap < rows)
		cap = cap > SIZE_MAX / 2 ? rows : cap * 2;
	if (cap > SIZE_MAX / 8)
		die("a table of %zu rows is too large", rows);
	for (int i = 0; i < t->ncols; i++) {
		size_t w = coltype_width(t->cols[i].type);

		t->cols[i].data = bigmem_resize(t->cols[i].data, (t->cap ? t->cap : 1) * w,
		    cap * w);
	}
	t->cap = cap;
}

void
table_release_column(table *t, int c)
{
	bigmem_free(t->cols[c].data, (t->cap ? t->cap : 1) * coltype_width(t->cols[c].type));
	t->cols[c].data = NULL;
}

void
table_set_rows(table *t, size_t rows)
{
	table_set_rows_written(t, rows, 0);
}

void
table_set_rows_written(table *t, size_t rows, int ncols_written)
{
	table_reserve(t, rows);
	if (rows > t->nrows)
		for (int i = ncols_written; i < t->ncols; i++)
			fill_missing(&t->cols[i], t->nrows, rows);
	t->nrows = rows;
}

void
table_copy_schema(table *dst, const table *src)
{
	for (int i = 0; i < src->ncols; i++)
		table_add_column(dst, src->cols[i].name, src->cols[i].type,
		    src->cols[i].levels, src->cols[i].nlevels);
}

void
table_append_rows(table *dst, const table *src, size_t from, size_t n)
{
	table_reserve(dst, dst->nrows + n);
	for (int i = 0; i < dst->ncols; i++) {
		size_t w = coltype_width(dst->cols[i].type);

		memcpy((char *)dst->cols[i].data + dst->nrows * w,
		    (const char *)src->cols[i].data + from * w, n * w);
	}
	dst->nrows += n;
}

void
table_gather(table *dst, const table *src, const size_t *idx, size_t n)
{
	table_reserve(dst, n);
	for (int i = 0; i < dst->ncols; i++) {
		size_t w = coltype_width(dst->cols[i].type);
		char *to = dst->cols[i].data;
		const char *from = src->cols[i].data;

		switch (w) {
		case 8:
			for (size_t r = 0; r < n; r++)
				memcpy(to + r * 8, from + idx[r] * 8, 8);
			break;
		case 4:
			for (size_t r = 0; r < n; r++)
				memcpy(to + r * 4, from + idx[r] * 4, 4);
			break;
		default:
			for (size_t r = 0; r < n; r++)
				to[r] = from[idx[r]];
		}
	}
	dst->nrows = n;
}

void
table_keep_rows(table *t, const uint8_t *keep)
{
	size_t to = 0;

	for (size_t r = 0; r < t->nrows; r++) {
		if (!keep[r])
			continue;
		if (to != r)
			for (int i = 0; i < t->ncols; i++) {
				size_t w = coltype_width(t->cols[i].type);
				char *d = t->cols[i].data;

				memcpy(d + to * w, d + r * w, w);
			}
		to++;
	}
	t->nrows = to;
}

int
column_is_numeric(const column *c)
{
	return c->type != COL_CAT;
}

double
column_f64(const column *c, size_t row)
{
	switch (c->type) {
	case COL_F64:
		return ((const double *)c->data)[row];
	case COL_I64: {
		int64_t v = ((const int64_t *)c->data)[row];

		return v == I64_MISSING ? NAN : (double)v;
	}
	case COL_BOOL: {
		uint8_t v = ((const uint8_t *)c->data)[row];

		return v == BOOL_MISSING ? NAN : (double)v;
	}
	case COL_CAT:
		break;
	}
	return NAN;
}

int
column_is_missing(const column *c, size_t row)
{
	switch (c->type) {
	case COL_F64: return isnan(((const double *)c->data)[row]);
	case COL_I64: return ((const int64_t *)c->data)[row] == I64_MISSING;
	case COL_BOOL: return ((const uint8_t *)c->data)[row] == BOOL_MISSING;
	case COL_CAT: return ((const int32_t *)c->data)[row] < 0;
	}
	return 1;
}

void
column_to_f64(const column *c, size_t n, double *out)
{
	column_rows_f64(c, 0, n, out);
}

