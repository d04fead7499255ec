#define _GNU_SOURCE /* O_TMPFILE */
#include "passing.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

/* A run of rows in the file: its columns one after another, each whole,
 * as a batch carries them (so a batch is one write a column). */
typedef struct {
	size_t first, n;
	off_t at;
} segment;

struct passing {
	table rows;           /* the schema; the rows too while in memory */
	size_t *offset;       /* per column: the bytes of a row's columns before it */
	size_t row_bytes;
	size_t memory_bytes;
	char dir[4096];
	int fd;               /* -1: every row is in memory */
	off_t size;
	segment *seg;
	size_t nseg, segcap, nrows;
};

static const char *
spill_dir(const char *dir)
{
	const char *env = getenv("TMPDIR");

	if (dir && *dir)
		return dir;
	return env && *env ? env : "/tmp";
}

passing *
passing_open(const table *schema, size_t memory_bytes, const char *dir)
{
	passing *p = xcalloc(1, sizeof *p);

	table_init(&p->rows);
	table_copy_schema(&p->rows, schema);
	p->offset = xcalloc((size_t)schema->ncols + 1, sizeof *p->offset);
	for (int c = 0; c < schema->ncols; c++) {
		p->offset[c] = p->row_bytes;
		p->row_bytes += coltype_width(schema->cols[c].type);
	}
	p->memory_bytes = memory_bytes;
	snprintf(p->dir, sizeof p->dir, "%s", spill_dir(dir));
	p->fd = -1;
	return p;
}

/* An unlinked file of the caller's alone: O_TMPFILE where the file system
 * has it, else a name made and removed at once. */
static int
open_spill_file(const char *dir)
{
	char path[4200];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	snprintf(path, sizeof path, "%s/psflow-passing-XXXXXX", dir);
	if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
		unlink(path);
	return fd;
}

static void
write_all(passing *p, const void *data, size_t len)
{
	const char *b = data;

	while (len > 0) {
		ssize_t k = write(p->fd, b, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("the temporary file for the columns passed on (in %s, %lld bytes so far) "
			    "could not be written: %s: set TMPDIR (or --temp-dir) to a directory with "
			    "room, or raise --memory-mb", p->dir, (long long)p->size,
			    k < 0 ? strerror(errno) : "nothing written");
		b += k;
		len -= (size_t)k;
		p->size += k;
	}
}

/* Rows [first, first + n) of the columns cols[k] points to, as a segment. */
static void
write_segment(passing *p, size_t first, size_t n, void *const *cols)
{
	if (p->nseg == p->segcap) {
		p->segcap = p->segcap ? 2 * p->segcap : 256;
		p->seg = xreallocarray(p->seg, p->segcap, sizeof *p->seg);
	}
	p->seg[p->nseg++] = (segment){ first, n, p->size };
	for (int c = 0; c < p->rows.ncols; c++)
		write_all(p, cols[c], n * coltype_width(p->rows.cols[c].type));
}

/* The rows in memory go to a new file, and their memory back. */
static void
spill(passing *p)
{
	void **cols = xcalloc((size_t)p->rows.ncols + 1, sizeof *cols);
	table empty;

	if ((p->fd = open_spill_file(p->dir)) < 0)
		die("cannot make a temporary file in %s for the columns passed on: %s: set "
		    "TMPDIR (or --temp-dir) to a directory this user may write, or raise "
		    "--memory-mb", p->dir, strerror(errno));
	for (int c = 0; c < p->rows.ncols; c++)
		cols[c] = p->rows.cols[c].data;
	write_segment(p, 0, p->rows.nrows, cols);
	free(cols);
	table_init(&empty);
	table_copy_schema(&empty, &p->rows);
	table_free(&p->rows);
	p->rows = empty;
}

void
passing_append(passing *p, const table *batch, const int *cols)
{
	size_t n = batch->nrows;

	if (p->fd >= 0) {
		void **data = xcalloc((size_t)p->rows.ncols + 1, sizeof *data);

		for (int c = 0; c < p->rows.ncols; c++)
			data[c] = batch->cols[cols[c]].data;
		write_segment(p, p->nrows, n, data);
		free(data);
	} else {
		size_t at = p->rows.nrows;

		table_set_rows_written(&p->rows, at + n, p->rows.ncols);
		for (int c = 0; c < p->rows.ncols; c++) {
			size_t w = coltype_width(p->rows.cols[c].type);

			memcpy((char *)p->rows.cols[c].data + at * w, batch->cols[cols[c]].data, n * w);
		}
		if (p->rows.nrows > 0 && p->rows.ncols > 0 &&
		    p->rows.nrows > p->memory_bytes / p->row_bytes)
			spill(p);
	}
	p->nrows += n;
}

/* The segment holding row r: the last whose first row is r or before. */
static size_t
segment_of(const passing *p, size_t r)
{
	size_t lo = 0, hi = p->nseg;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->seg[mid].first <= r)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

const void *
passing_rows(passing *p, int k, size_t first, size_t n, void *buf)
{
	size_t w = coltype_width(p->rows.cols[k].type), done = 0;

	if (first + n > p->nrows || first + n < first)
		die("internal error: rows %zu to %zu of the columns passed on, of %zu", first,
		    first + n, p->nrows);
	if (p->fd < 0)
		return (const char *)p->rows.cols[k].data + first * w;
	for (size_t s = segment_of(p, first); done < n; s++) {
		const segment *g = &p->seg[s];
		size_t from = first + done - g->first, take = g->n - from;
		off_t at = g->at + (off_t)(g->n * p->offset[k] + from * w);
		char *to = (char *)buf + done * w;
		size_t len;

		if (take > n - done)
			take = n - done;
		len = take * w;
		while (len > 0) {
			ssize_t got = pread(p->fd, to, len, at);

			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				die("the temporary file for the columns passed on (in %s) could not be "
				    "read back: %s", p->dir, got < 0 ? strerror(errno) :
				    "it is shorter than what was written");
			to += got;
			at += got;
			len -= (size_t)got;
		}
		done += take;
	}
	return buf;
}

const table *
passing_schema(const passing *p)
{
	return &p->rows;
}

size_t
passing_nrows(const passing *p)
{
	return p->nrows;
}

void
passing_sizes(const passing *p, size_t *in_memory, size_t *in_file)
{
	*in_memory = p->fd < 0 ? p->nrows : 0;
	*in_file = p->fd < 0 ? 0 : p->nrows;
}

void
passing_free(passing *p)
{
	if (p == NULL)
		return;
	if (p->fd >= 0)
		close(p->fd);
	table_free(&p->rows);
	free(p->offset);
	free(p->seg);
	free(p);
}
