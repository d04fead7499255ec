#include "texttable.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"

void
texttable_init(texttable *t, int ncols, const char *const *header, const char *align)
{
	t->ncols = ncols;
	t->nrows = 0;
	t->cells = NULL;
	t->right = xcalloc((size_t)ncols, sizeof *t->right);
	for (int c = 0; c < ncols; c++)
		t->right[c] = align[c] == 'r';
	texttable_row(t, header);
}

void
texttable_row(texttable *t, const char *const *cells)
{
	t->cells = xreallocarray(t->cells, (size_t)(t->nrows + 1) * (size_t)t->ncols,
	    sizeof *t->cells);
	for (int c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] = xstrdup(cells[c] ? cells[c] : "");
	t->nrows++;
}

/* display width: UTF-8 continuation bytes take no column */
static int
width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

void
texttable_print(const texttable *t, FILE *f, int markdown, const char *indent)
{
	int *wid = xcalloc((size_t)t->ncols, sizeof *wid);

	for (int r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			int w = width(t->cells[r * t->ncols + c]);

			wid[c] = w > wid[c] ? w : wid[c];
		}
	for (int r = 0; r < t->nrows; r++) {
		fputs(indent, f);
		if (markdown)
			fputs("| ", f);
		for (int c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			int pad = wid[c] - width(s);

			if (c)
				fputs(markdown ? " | " : "  ", f);
			if (t->right[c])
				fprintf(f, "%*s%s", pad, "", s);
			else if (c < t->ncols - 1 || markdown)
				fprintf(f, "%s%*s", s, pad, "");
			else
				fputs(s, f);
		}
		fputs(markdown ? " |\n" : "\n", f);
		if (r == 0) {
			fputs(indent, f);
			if (markdown) {
				fputs("|", f);
				for (int c = 0; c < t->ncols; c++) {
					fputc(t->right[c] ? ' ' : ':', f);
					for (int k = 0; k < wid[c]; k++)
						fputc('-', f);
					fputs(t->right[c] ? ":|" : " |", f);
				}
				fputc('\n', f);
			} else {
				for (int c = 0; c < t->ncols; c++) {
					if (c)
						fputs("  ", f);
					for (int k = 0; k < wid[c]; k++)
						fputc('-', f);
				}
				fputc('\n', f);
			}
		}
	}
	free(wid);
}

void
texttable_free(texttable *t)
{
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->right);
	memset(t, 0, sizeof *t);
}
