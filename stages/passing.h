/* passing — the columns a stage passes on unread, kept apart from the rows
 * it works on, in the stream's order: in memory up to a bound, and past it
 * in an unlinked temporary file, as sort(1) spills its runs. A stage that
 * holds every row (match) then holds only the columns it reads; at a
 * hundred million rows the others are gigabytes of its peak, and a file's
 * pages are the kernel's to write out and drop when memory is short.
 *
 * Contract: batches are appended in stream order (each with the columns of
 * `schema`, in its order); rows are then read back in any order, from one
 * thread or several (pread). Failures to make, write or read the file die,
 * naming the directory and what to do.
 *
 * Ownership: a passing owns its copy of the schema, its rows in memory and
 * the file (closed, and so removed, by passing_free). Batches appended and
 * buffers passed to passing_rows stay the caller's. (rule: base/README.md) */
#ifndef PSFLOW_PASSING_H
#define PSFLOW_PASSING_H

#include <stddef.h>

#include "table.h"

typedef struct passing passing;

/* The columns `schema` has (no rows), kept in memory until they take more
 * than memory_bytes, then in a file in dir (NULL: $TMPDIR, else /tmp). */
passing *passing_open(const table *schema, size_t memory_bytes, const char *dir);
/* Appends rows [0, batch->nrows) of batch's columns cols[0..ncols): the
 * passing's columns, in order. */
void passing_append(passing *p, const table *batch, const int *cols);
/* Rows [first, first + n) of column k: a pointer into the rows in memory,
 * or buf (n values of the column's width) filled from the file. */
const void *passing_rows(passing *p, int k, size_t first, size_t n, void *buf);
const table *passing_schema(const passing *p);
size_t passing_nrows(const passing *p);
/* Rows appended while in memory only, and rows in the file (0: none). */
void passing_sizes(const passing *p, size_t *in_memory, size_t *in_file);
void passing_free(passing *p);

#endif
