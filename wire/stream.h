/* stream — the psflow wire protocol (PROTOCOL.md): head, batch, result, end.
 *
 * A reader opens its input, reads and checks the head, then hands out
 * batches (appended to a table with the head's columns), results (raw bytes,
 * to be passed on untouched) and finally the end, after checking that the
 * row and batch counts agree. Every protocol violation dies with a message
 * that names the input and says how far it got.
 *
 * Ownership: a stream_head owns its strings, schema and raw maps. The raw
 * bytes of a result returned by stream_in_next() belong to the reader and
 * are valid until its next call. */
#ifndef PSFLOW_STREAM_H
#define PSFLOW_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "io.h"
#include "mpo.h"
#include "table.h"

#define STREAM_VERSION 1
/* Batches of 8,192 rows (about 1 MB for 16 columns): a reader's buffer and
 * a streaming stage's batch stay small (memory first touched costs more
 * than the work on it here), and the next stage starts sooner. 65,536 was
 * 30% slower on 10M rows through weight. */
#define STREAM_DEFAULT_BATCH_ROWS 8192

typedef struct {
	uint8_t *bytes;
	size_t len;
} mpraw;

typedef struct {
	int version;
	table schema;        /* the columns, no rows */
	char *treatment;     /* roles; NULL when not set */
	char *outcome;
	char *ps;            /* the propensity column, once fitps has run */
	char *support;       /* the common support's bool column (rows with 0 are
				outside it: later stages leave them out), once a
				rule set it (fitps --common-support, weight --trim) */
	char **covariates;
	int ncovariates;
	mpraw *recipe;       /* one raw map per stage, oldest first */
	int nrecipe;
	mpraw meta;          /* a raw map; len 0 means empty */
} stream_head;

void stream_head_init(stream_head *h);
void stream_head_free(stream_head *h);
/* Replaces a role; NULL leaves it as it is. Copies. */
void stream_head_set_role(char **role, const char *value);
/* Replaces the covariates with a comma-separated list. */
void stream_head_set_covariates(stream_head *h, const char *list);
/* Appends a finished map as this stage's recipe entry. */
void stream_head_add_recipe(stream_head *h, const mpseq *entry);
/* Replaces meta with a finished map. */
void stream_head_set_meta(stream_head *h, const mpseq *meta);
/* Unpacks a raw map. The object's strings and bins point into raw->bytes
 * (msgpack-c does not copy them): raw must outlive the object. */
void mpraw_unpack(const mpraw *raw, msgpack_unpacked *out);
void mpraw_copy(mpraw *dst, const void *bytes, size_t len);

typedef enum { STREAM_BATCH, STREAM_RESULT, STREAM_END } stream_event;

typedef struct stream_in stream_in;

/* Opens the input and reads its head. */
stream_in *stream_in_open(const char *spec, const io_opts *opts);
/* The same over an opened reader, which the stream then owns. */
stream_in *stream_in_from(io_in *io);
/* stream_in_from in two steps (for a fuzz harness, which must hold the
 * stream to free it when reading the head fails). */
stream_in *stream_in_new(io_in *io);
void stream_in_read_head(stream_in *s);
stream_head *stream_in_head(stream_in *s);
/* A bool column `name` derived from the cat column `source`: true where it
 * is `level`, false at its other level, missing where it is missing (a text
 * treatment, -t used_beta=yes). Added after the input's columns, to the head
 * and to every batch from then on; call before the first batch. The column
 * must have exactly two levels, `level` one of them: else -1 and why. */
int stream_in_add_indicator(stream_in *s, const char *name, const char *source,
    const char *level, char *why, size_t whylen);
/* The head message's bytes as they arrived. */
const mpraw *stream_in_head_raw(const stream_in *s);
/* BATCH: the batch's rows were appended to `rows`, which must start with
 * the input's columns in order (table_copy_schema from the head's schema as
 * it was read); columns after those are left missing for the caller.
 * RESULT: *raw points at the result's bytes. END: counts were checked. */
stream_event stream_in_next(stream_in *s, table *rows, mpraw *raw);
uint64_t stream_in_rows(const stream_in *s);
void stream_in_free(stream_in *s);

typedef struct stream_out stream_out;

stream_out *stream_out_open(const char *spec, const io_opts *opts, size_t batch_rows);
/* The same over an opened writer. stream_out_end() closes it unless keep is
 * set (to take bytes from a memory writer afterwards). */
stream_out *stream_out_to(io_out *io, size_t batch_rows, int keep);
void stream_out_head(stream_out *o, const stream_head *h);
/* The head with one more recipe entry after h's, h left as it is. */
/* The head with one more recipe entry (recipe NULL: the head as it is). */
void stream_out_head_adding(stream_out *o, const stream_head *h, const mpseq *recipe);
/* Writes rows [from, from+n) of t, in batches of at most batch_rows. */
void stream_out_rows(stream_out *o, const table *t, size_t from, size_t n);
void stream_out_raw(stream_out *o, const void *bytes, size_t len);
/* Writes a finished map (a result) as one message. */
void stream_out_map(stream_out *o, const mpseq *m);
/* Writes end with the counts and closes the output. */
void stream_out_end(stream_out *o);

/* Starts a result map: kind, stage and name. */
void result_begin(mpseq *m, const char *stage, const char *name);

#endif
