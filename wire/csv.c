#include "csv.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bigmem.h"
#include "err.h"
#include "mpo.h"
#include "xalloc.h"

void
csv_init(csv_reader *r, const char *text, size_t len)
{
	memset(r, 0, sizeof *r);
	r->text = text;
	r->len = len;
	r->line = 1;
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		r->pos = 3;
}

void
csv_free(csv_reader *r)
{
	free(r->fields);
	free(r->scratch);
	free(r->quoted_off);
	free(r->quoted_idx);
	memset(r, 0, sizeof *r);
}

static void
grow_fields(csv_reader *r)
{
	r->cap = r->cap ? r->cap * 2 : 32;
	r->fields = xreallocarray(r->fields, (size_t)r->cap, sizeof *r->fields);
}

/* Inline: called for every field of the file. */
static inline void
add_field(csv_reader *r, const char *p, size_t len)
{
	if (r->nfields == r->cap)
		grow_fields(r);
	r->fields[r->nfields].p = p;
	r->fields[r->nfields].len = len;
	r->nfields++;
}

/* Unquoted fields of a record go straight into r->fields; quoted ones are
 * copied to scratch, and since scratch may move while the record is read,
 * their offsets are fixed up at the end. */
int
csv_next(csv_reader *r)
{
	const char *t = r->text;
	size_t n = r->len, used = 0;
	int quoted_mask_n = 0;

	/* Blank lines at the end of the text are no records; elsewhere a blank
	 * line is a record of one empty field (a missing value, or an error the
	 * caller reports), never silently skipped. */
	{
		size_t k = r->pos;

		while (k < n && (t[k] == '\n' || t[k] == '\r'))
			k++;
		if (k >= n)
			return 0;
	}
	r->nfields = 0;
	r->record_line = r->line;
	for (;;) {
		if (r->pos < n && t[r->pos] == '"') {
			size_t start = used;

			r->pos++;
			for (;;) {
				char c;

				if (r->pos >= n)
					die("line %zu: a quoted field is never closed",
					    r->record_line);
				c = t[r->pos++];
				if (c == '"') {
					if (r->pos < n && t[r->pos] == '"')
						r->pos++;
					else
						break;
				}
				if (c == '\n')
					r->line++;
				if (used == r->scratch_cap) {
					r->scratch_cap = r->scratch_cap ? r->scratch_cap * 2 : 256;
					r->scratch = xrealloc(r->scratch, r->scratch_cap);
				}
				r->scratch[used++] = c;
			}
			if (quoted_mask_n == r->quoted_cap) {
				r->quoted_cap = r->quoted_cap ? 2 * r->quoted_cap : 16;
				r->quoted_off = xreallocarray(r->quoted_off, (size_t)r->quoted_cap,
				    sizeof *r->quoted_off);
				r->quoted_idx = xreallocarray(r->quoted_idx, (size_t)r->quoted_cap,
				    sizeof *r->quoted_idx);
			}
			r->quoted_off[quoted_mask_n] = start;
			r->quoted_idx[quoted_mask_n++] = r->nfields;
			add_field(r, NULL, used - start);
			if (r->pos < n && t[r->pos] != ',' && t[r->pos] != '\n' &&
			    t[r->pos] != '\r')
				die("line %zu: text after the closing quote of field %d",
				    r->line, r->nfields);
		} else {
			size_t start = r->pos;

			while (r->pos < n && t[r->pos] != ',' && t[r->pos] != '\n' &&
			    t[r->pos] != '\r')
				r->pos++;
			add_field(r, t + start, r->pos - start);
		}
		if (r->pos < n && t[r->pos] == ',') {
			r->pos++;
			continue;
		}
		/* end of record: LF, CRLF, lone CR or end of text */
		if (r->pos < n && t[r->pos] == '\r')
			r->pos++;
		if (r->pos < n && t[r->pos] == '\n')
			r->pos++;
		r->line++;
		break;
	}
	/* (quoted fields that were all empty left no scratch: NULL + 0 is
	 * undefined) */
	for (int i = 0; i < quoted_mask_n; i++)
		r->fields[r->quoted_idx[i]].p = r->scratch ? r->scratch + r->quoted_off[i] : "";
	return 1;
}

char *
slurp(const char *path, size_t *len, size_t *cap_out)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY);
	size_t cap = 1 << 20, n = 0;
	struct stat st;
	char *buf;

	if (fd < 0)
		die("cannot open '%s':", path);
	/* a file's size is known: one buffer of that size (and a byte more, to
	 * see the end), not doubling copies */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		cap = (size_t)st.st_size + 1;
	buf = bigmem_resize(NULL, 0, cap);
	for (;;) {
		ssize_t got;

		if (n == cap) {
			buf = bigmem_resize(buf, cap, 2 * cap);
			cap *= 2;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			die("reading '%s':", path);
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*len = n;
	*cap_out = cap;
	return buf;
}

void
csv_check_text(const char *text, size_t n, const char *path)
{
	/* a NUL is no CSV text (a UTF-16 file, a binary one): said with its
	 * line, never read as the end of a field */
	const char *nul = memchr(text, '\0', n);

	if (nul) {
		size_t line = 1;

		for (const char *q = text; q < nul; q++)
			line += *q == '\n';
		die("%s, line %zu: a NUL byte: this is not a CSV text file (UTF-16? "
		    "convert it to UTF-8)", strcmp(path, "-") ? path : "stdin", line);
	}
}

void
csv_write_field(FILE *f, const char *p, size_t len)
{
	int quote = len == 0 ? 0 : (p[0] == ' ' || p[len - 1] == ' ');

	for (size_t i = 0; i < len && !quote; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r')
			quote = 1;
	if (!quote) {
		fwrite(p, 1, len, f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '"')
			fputc('"', f);
		fputc(p[i], f);
	}
	fputc('"', f);
}

void
csv_write_cell(FILE *f, const column *c, size_t r)
{
	char buf[40];

	if (column_is_missing(c, r))
		return;
	switch (c->type) {
	case COL_F64:
		format_double(buf, sizeof buf, ((const double *)c->data)[r]);
		fputs(buf, f);
		break;
	case COL_I64:
		fprintf(f, "%" PRId64, ((const int64_t *)c->data)[r]);
		break;
	case COL_BOOL:
		fputs(((const uint8_t *)c->data)[r] ? "true" : "false", f);
		break;
	case COL_CAT: {
		const char *l = c->levels[((const int32_t *)c->data)[r]];

		csv_write_field(f, l, strlen(l));
		break;
	}
	}
}
