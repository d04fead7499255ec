/* table — columns of typed values held in memory, the shape of a batch.
 *
 * Types and their missing value:
 *   COL_F64   double    NaN
 *   COL_I64   int64_t   INT64_MIN
 *   COL_BOOL  uint8_t   0xFF (0 false, 1 true)
 *   COL_CAT   int32_t   -1   (else an index into levels)
 * Ownership: a table owns its column names, levels and data; functions that
 * take names or levels copy them. */
#ifndef PSFLOW_TABLE_H
#define PSFLOW_TABLE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef enum { COL_F64, COL_I64, COL_BOOL, COL_CAT } coltype;

#define I64_MISSING INT64_MIN
#define BOOL_MISSING 0xFF
#define CAT_MISSING (-1)

typedef struct {
	char *name;
	coltype type;
	char **levels; /* COL_CAT only */
	int nlevels;
	void *data;
} column;

typedef struct {
	column *cols;
	int ncols;
	size_t nrows, cap;
	/* names to columns (index + 1; 0 is empty), open addressing: a head of
	 * 40,000 columns must not cost 40,000^2 string compares */
	int *name_slots;
	size_t nslots;
} table;

void table_init(table *t);
void table_free(table *t);
/* Adds a column (all values missing for rows already there); returns its
 * index. Dies if the name is taken. */
int table_add_column(table *t, const char *name, coltype type,
    char *const *levels, int nlevels);
int table_find(const table *t, const char *name); /* -1 when absent */
void table_reserve(table *t, size_t rows);
void table_set_rows(table *t, size_t rows); /* grows (missing-filled) or shrinks */
/* The same, but the new rows of the first ncols_written columns are left for
 * the caller, who writes every one of them (a decoder: filling them first
 * would touch every byte twice). */
void table_set_rows_written(table *t, size_t rows, int ncols_written);
/* dst gets src's columns (no rows); dst must be empty. */
void table_copy_schema(table *dst, const table *src);
/* Appends rows [from, from+n) of src; the schemas must match. */
void table_append_rows(table *dst, const table *src, size_t from, size_t n);
/* dst (same schema, any rows) becomes src's rows idx[0..n). */
void table_gather(table *dst, const table *src, const size_t *idx, size_t n);

/* Gives back column c's values, keeping its name and type (data NULL):
 * for a column its holder has read for the last time, whose values live
 * on elsewhere (stage_read_all_holding's columns kept apart). Nothing may
 * read it, and no row may be added, after. */
void table_release_column(table *t, int c);

/* Keeps the rows whose keep[] is non-zero, in order, in place. */
void table_keep_rows(table *t, const uint8_t *keep);

size_t coltype_width(coltype type);
const char *coltype_name(coltype type);
int coltype_parse(const char *name, coltype *type); /* 0 ok, -1 unknown */

/* Value as a double: i64 and bool converted, missing as NaN. Not for cat. */
double column_f64(const column *c, size_t row);
int column_is_missing(const column *c, size_t row);
int column_is_numeric(const column *c);
/* Copies a numeric column into out[0..n) as doubles (missing: NaN). */
void column_to_f64(const column *c, size_t n, double *out);
/* column_f64() of rows [first, first + n) into out[0..n) (NaN for cat):
 * inline, a loop for each type, so that a caller built for wide vectors
 * (design blocks, every pass of a fit) gets them vectorised. */
static inline void
column_rows_f64(const column *c, size_t first, size_t n, double *out)
{
	switch (c->type) {
	case COL_F64:
		memcpy(out, (const double *)c->data + first, n * sizeof *out);
		return;
	case COL_I64: {
		const int64_t *v = (const int64_t *)c->data + first;

		for (size_t r = 0; r < n; r++)
			out[r] = v[r] == I64_MISSING ? NAN : (double)v[r];
		return;
	}
	case COL_BOOL: {
		const uint8_t *v = (const uint8_t *)c->data + first;

		for (size_t r = 0; r < n; r++)
			out[r] = v[r] == BOOL_MISSING ? NAN : (double)v[r];
		return;
	}
	case COL_CAT:
		break;
	}
	for (size_t r = 0; r < n; r++)
		out[r] = NAN;
}

#endif
