/* texttable — rows of text cells printed as an aligned table or as a
 * Markdown pipe table. Cells are copied.
 *
 * Ownership: a texttable owns copies of its cells (texttable_free). (rule: base/README.md) */
#ifndef PSFLOW_TEXTTABLE_H
#define PSFLOW_TEXTTABLE_H

#include <stdio.h>

typedef struct {
	int ncols, nrows;
	char **cells; /* nrows x ncols, row 0 the header */
	int *right;   /* per column: right-align (numbers) */
} texttable;

void texttable_init(texttable *t, int ncols, const char *const *header,
    const char *align); /* align: one 'l' or 'r' per column */
/* Adds a row; cells[i] may be NULL (printed empty). */
void texttable_row(texttable *t, const char *const *cells);
void texttable_print(const texttable *t, FILE *f, int markdown, const char *indent);
void texttable_free(texttable *t);

#endif
