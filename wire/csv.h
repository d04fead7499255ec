/* csv — RFC 4180 records from text held in memory.
 *
 * Quoted fields may hold commas, doubled quotes and line breaks; lines may
 * end in LF or CRLF; a UTF-8 byte-order mark at the start is skipped; blank
 * lines at the end are ignored (elsewhere a blank line is a record of one
 * empty field). Fields point into the text, or into the reader's
 * scratch buffer when they had to be unquoted: they are valid until the next
 * csv_next(). The reader does not own the text.
 *
 * Ownership: see above; csv_free releases the scratch. (rule: base/README.md) */
#ifndef PSFLOW_CSV_H
#define PSFLOW_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "table.h"

typedef struct {
	const char *p;
	size_t len;
} csv_field;

typedef struct {
	const char *text;
	size_t len, pos;
	size_t line;        /* physical line of the next record, 1-based */
	size_t record_line; /* physical line where the last record began */
	csv_field *fields;
	int nfields, cap;
	char *scratch;
	size_t scratch_cap;
	/* the record's quoted fields: their offsets in scratch, their indexes */
	size_t *quoted_off;
	int *quoted_idx;
	int quoted_cap;
} csv_reader;

void csv_init(csv_reader *r, const char *text, size_t len);
/* 1 and the fields of the next record, or 0 at the end of the text. Dies on
 * an unterminated quote or text after a closing quote, naming the line. */
int csv_next(csv_reader *r);
void csv_free(csv_reader *r);

/* Reads a whole file ("-": stdin) into memory: len bytes, in a buffer of
 * cap bytes to give back with bigmem_free(text, cap). */
char *slurp(const char *path, size_t *len, size_t *cap);
/* Dies naming the line when the text holds a NUL byte (no CSV does). */
void csv_check_text(const char *text, size_t n, const char *path);

/* Writes a field to f, quoted when it must be. */
void csv_write_field(FILE *f, const char *p, size_t len);
/* Row r of column c as a CSV field (empty when missing; doubles in the
 * shortest form that reads back the same; categories quoted when needed). */
void csv_write_cell(FILE *f, const column *c, size_t r);

#endif
