#include "stream.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CRC-32 as zlib and gzip compute it (RFC 1952), with the carry-less
 * multiply where the CPU has it: zlib's table-driven crc32 was 5-12% of a
 * stage at ten million rows */
#include <isa-l/crc.h>

#include "err.h"
#include "xalloc.h"

/* The CRC-32 of len more bytes after crc. ISA-L's AVX and AVX-512 versions
 * return with the vector registers' upper halves in use (no vzeroupper),
 * and every SSE instruction after them then waits on those halves: gen,
 * whose exp is SSE, took three times as long. So they are cleared here,
 * on CPUs that have them. */
static uint32_t
crc_update(uint32_t crc, const unsigned char *data, size_t len)
{
	crc = crc32_gzip_refl(crc, data, len);
#if defined(__x86_64__) && defined(__GNUC__)
	if (__builtin_cpu_supports("avx"))
		__asm__ volatile("vzeroupper");
#endif
	return crc;
}

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "psflow's bin columns are little-endian; add byte swapping for this host"
#endif

/* ---- head ---------------------------------------------------------------- */

void
stream_head_init(stream_head *h)
{
	memset(h, 0, sizeof *h);
	h->version = STREAM_VERSION;
	table_init(&h->schema);
}

static void
free_covariates(stream_head *h)
{
	for (int i = 0; i < h->ncovariates; i++)
		free(h->covariates[i]);
	free(h->covariates);
	h->covariates = NULL;
	h->ncovariates = 0;
}

void
stream_head_free(stream_head *h)
{
	table_free(&h->schema);
	free(h->treatment);
	free(h->outcome);
	free(h->ps);
	free(h->support);
	free_covariates(h);
	for (int i = 0; i < h->nrecipe; i++)
		free(h->recipe[i].bytes);
	free(h->recipe);
	free(h->meta.bytes);
	memset(h, 0, sizeof *h);
}

void
stream_head_set_role(char **role, const char *value)
{
	if (value == NULL)
		return;
	free(*role);
	*role = xstrdup(value);
}

void
stream_head_set_covariates(stream_head *h, const char *list)
{
	const char *p = list;

	if (list == NULL)
		return;
	free_covariates(h);
	while (*p) {
		size_t len = strcspn(p, ",");

		if (len > 0) {
			h->covariates = xreallocarray(h->covariates,
			    (size_t)h->ncovariates + 1, sizeof *h->covariates);
			h->covariates[h->ncovariates++] = xstrndup(p, len);
		}
		p += len;
		if (*p == ',')
			p++;
	}
}

void
mpraw_copy(mpraw *dst, const void *bytes, size_t len)
{
	dst->bytes = xmalloc(len);
	memcpy(dst->bytes, bytes, len);
	dst->len = len;
}

static void
mpraw_from_seq(mpraw *dst, const mpseq *m)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mpseq_pack(m, &pk);
	dst->bytes = (uint8_t *)sb.data;
	dst->len = sb.size;
}

void
stream_head_add_recipe(stream_head *h, const mpseq *entry)
{
	h->recipe = xreallocarray(h->recipe, (size_t)h->nrecipe + 1, sizeof *h->recipe);
	mpraw_from_seq(&h->recipe[h->nrecipe++], entry);
}

void
stream_head_set_meta(stream_head *h, const mpseq *meta)
{
	free(h->meta.bytes);
	mpraw_from_seq(&h->meta, meta);
}

void
mpraw_unpack(const mpraw *raw, msgpack_unpacked *out)
{
	size_t off = 0;

	msgpack_unpacked_init(out);
	if (raw->len == 0) {
		static const char empty_map = (char)0x80;

		msgpack_unpack_next(out, &empty_map, 1, &off);
		return;
	}
	if (msgpack_unpack_next(out, (const char *)raw->bytes, raw->len, &off) !=
	    MSGPACK_UNPACK_SUCCESS)
		die("internal error: a stored map does not unpack");
}

/* ---- reader -------------------------------------------------------------- */

typedef struct {
	const char *level;
	int32_t code;
} level_index;

struct stream_in {
	io_in *io;
	stream_head head;
	table schema; /* the input's columns, private: stages may add to head */
	mpraw head_raw;
	level_index **levels; /* per column: sorted levels of a cat column */
	msgpack_unpacked unpacked;
	uint64_t rows, batches, messages, results;
	uint32_t crc;     /* CRC-32 of every message before the end */
	char *seen;       /* per column: present in the batch being decoded */
	int nlevel_slots; /* entries of levels */
	/* the column being decoded: held here, not in locals, so that a
	 * refusal (die) loses nothing even where die does not exit (fuzzing) */
	char *col_name, *col_type, **col_levels;
	int col_nlevels;
	int ninput;       /* the input's own columns; derived ones come after */
	struct { int col, src; int32_t level; } *derived;
	int nderived;
	int ended;
};

static void
drop_column_parts(stream_in *s)
{
	free(s->col_name);
	free(s->col_type);
	for (int l = 0; l < s->col_nlevels; l++)
		free(s->col_levels[l]);
	free(s->col_levels);
	s->col_name = s->col_type = NULL;
	s->col_levels = NULL;
	s->col_nlevels = 0;
}

static int
cmp_level(const void *a, const void *b)
{
	return strcmp(((const level_index *)a)->level, ((const level_index *)b)->level);
}

_Noreturn static void
bad(stream_in *s, const char *what, const char *detail)
{
	die("%s: %s after %llu rows in %llu batches: %s", io_in_name(s->io), what,
	    (unsigned long long)s->rows, (unsigned long long)s->batches, detail);
}

static const msgpack_object *
unpack(stream_in *s, const uint8_t *data, size_t len)
{
	size_t off = 0;

	msgpack_unpacked_destroy(&s->unpacked);
	msgpack_unpacked_init(&s->unpacked);
	if (msgpack_unpack_next(&s->unpacked, (const char *)data, len, &off) !=
	    MSGPACK_UNPACK_SUCCESS)
		bad(s, "undecodable message", "corrupt MessagePack");
	if (s->unpacked.data.type != MSGPACK_OBJECT_MAP)
		bad(s, "message is not a map", "not a psflow stream?");
	{
		const msgpack_object *dup = mpo_duplicate_key(&s->unpacked.data);

		if (dup) {
			char detail[200];

			snprintf(detail, sizeof detail, "a map has the key '%.*s' twice "
			    "(readers differ on which one counts)",
			    dup->type == MSGPACK_OBJECT_STR ? (int)(dup->via.str.size < 100 ?
			    dup->via.str.size : 100) : 9,
			    dup->type == MSGPACK_OBJECT_STR ? dup->via.str.ptr : "(integer)");
			bad(s, "bad message", detail);
		}
	}
	return &s->unpacked.data;
}

static char *
need_str(stream_in *s, const msgpack_object *o, const char *what)
{
	char *str = mpo_strdup(o);

	if (str == NULL) {
		char detail[160];

		snprintf(detail, sizeof detail, "%s must be a string, not %s", what,
		    mpo_type_name(o));
		bad(s, "bad head", detail);
	}
	return str;
}

static void
copy_raw_object(mpraw *dst, const msgpack_object *o)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_object(&pk, *o);
	dst->bytes = (uint8_t *)sb.data;
	dst->len = sb.size;
}

static void
decode_columns(stream_in *s, const msgpack_object *cols)
{
	stream_head *h = &s->head;

	if (cols == NULL || cols->type != MSGPACK_OBJECT_ARRAY)
		bad(s, "bad head", "'columns' must be an array of {name, type}");
	s->levels = xcalloc(cols->via.array.size + 1, sizeof *s->levels);
	s->nlevel_slots = (int)cols->via.array.size;
	for (uint32_t i = 0; i < cols->via.array.size; i++) {
		const msgpack_object *c = &cols->via.array.ptr[i], *lv;
		coltype type;

		s->col_name = need_str(s, mpo_get(c, "name"), "a column's name");
		s->col_type = need_str(s, mpo_get(c, "type"), "a column's type");
		if (coltype_parse(s->col_type, &type) != 0) {
			char detail[200];

			snprintf(detail, sizeof detail, "column '%.100s' has unknown type "
			    "'%.40s' (known: f64, i64, bool, cat)", s->col_name, s->col_type);
			bad(s, "bad head", detail);
		}
		if (table_find(&h->schema, s->col_name) >= 0)
			bad(s, "bad head", "two columns have the same name");
		lv = mpo_get(c, "levels");
		if (type == COL_CAT) {
			int nlevels;

			if (lv == NULL || lv->type != MSGPACK_OBJECT_ARRAY)
				bad(s, "bad head", "a cat column needs 'levels', an array of strings");
			nlevels = (int)lv->via.array.size;
			s->col_levels = xcalloc((size_t)nlevels + 1, sizeof *s->col_levels);
			s->levels[i] = xcalloc((size_t)nlevels + 1, sizeof **s->levels);
			for (int l = 0; l < nlevels; l++) {
				s->col_levels[l] = need_str(s, &lv->via.array.ptr[l], "a level");
				s->col_nlevels = l + 1;
				s->levels[i][l].level = s->col_levels[l];
				s->levels[i][l].code = l;
			}
			qsort(s->levels[i], (size_t)nlevels, sizeof **s->levels, cmp_level);
			for (int l = 1; l < nlevels; l++)
				if (strcmp(s->levels[i][l - 1].level, s->levels[i][l].level) == 0)
					bad(s, "bad head", "a cat column has a level twice");
		}
		table_add_column(&h->schema, s->col_name, type, s->col_levels, s->col_nlevels);
		table_add_column(&s->schema, s->col_name, type, s->col_levels, s->col_nlevels);
		if (type == COL_CAT) {
			/* index the private schema's copies, which live as long as s */
			column *col = &s->schema.cols[s->schema.ncols - 1];

			for (int l = 0; l < s->col_nlevels; l++)
				s->levels[i][l].level = col->levels[s->levels[i][l].code];
		}
		drop_column_parts(s);
	}
}

static char *
optional_role(stream_in *s, const msgpack_object *roles, const char *key)
{
	const msgpack_object *o = mpo_get(roles, key);

	if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
		return NULL;
	return need_str(s, o, "a role");
}

static void
decode_head(stream_in *s, const msgpack_object *m)
{
	stream_head *h = &s->head;
	const msgpack_object *o, *roles;
	int64_t version;

	if (!mpo_is_str(mpo_get(m, "kind"), "head"))
		bad(s, "the first message is not a head", "not a psflow stream, or "
		    "its start was lost");
	if (mpo_int(mpo_get(m, "version"), &version) != 0)
		bad(s, "bad head", "'version' must be an integer");
	if (version != STREAM_VERSION) {
		die("%s: stream protocol version %lld is not known to this psflow, "
		    "which reads version %d: upgrade psflow or re-create the stream",
		    io_in_name(s->io), (long long)version, STREAM_VERSION);
	}
	h->version = (int)version;
	decode_columns(s, mpo_get(m, "columns"));
	roles = mpo_get(m, "roles");
	if (roles != NULL && roles->type != MSGPACK_OBJECT_MAP &&
	    roles->type != MSGPACK_OBJECT_NIL)
		bad(s, "bad head", "'roles' must be a map");
	h->treatment = optional_role(s, roles, "treatment");
	h->outcome = optional_role(s, roles, "outcome");
	h->ps = optional_role(s, roles, "ps");
	h->support = optional_role(s, roles, "support");
	o = mpo_get(roles, "covariates");
	if (o != NULL && o->type == MSGPACK_OBJECT_ARRAY) {
		h->covariates = xcalloc(o->via.array.size + 1, sizeof *h->covariates);
		for (uint32_t i = 0; i < o->via.array.size; i++)
			h->covariates[h->ncovariates++] =
			    need_str(s, &o->via.array.ptr[i], "a covariate");
	} else if (o != NULL && o->type != MSGPACK_OBJECT_NIL)
		bad(s, "bad head", "'covariates' must be an array of strings");
	o = mpo_get(m, "recipe");
	if (o != NULL && o->type == MSGPACK_OBJECT_ARRAY) {
		h->recipe = xcalloc(o->via.array.size + 1, sizeof *h->recipe);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (o->via.array.ptr[i].type != MSGPACK_OBJECT_MAP)
				bad(s, "bad head", "each recipe entry must be a map");
			copy_raw_object(&h->recipe[h->nrecipe++], &o->via.array.ptr[i]);
		}
	} else if (o != NULL && o->type != MSGPACK_OBJECT_NIL)
		bad(s, "bad head", "'recipe' must be an array of maps");
	o = mpo_get(m, "meta");
	if (o != NULL && o->type == MSGPACK_OBJECT_MAP)
		copy_raw_object(&h->meta, o);
	else if (o != NULL && o->type != MSGPACK_OBJECT_NIL)
		bad(s, "bad head", "'meta' must be a map");
}

static const char *
describe_stop(io_status st)
{
	switch (st) {
	case IO_EOF: return "the input ended";
	case IO_TIMEOUT: return "no message arrived within --timeout";
	case IO_PEER_GONE: return "the sending stage disconnected";
	case IO_TRUNCATED: return "the input ended inside a message (truncated stream)";
	case IO_MSG: break;
	}
	return "the input stopped";
}

stream_in *
stream_in_open(const char *spec, const io_opts *opts)
{
	return stream_in_from(io_in_open(spec, opts));
}

stream_in *
stream_in_new(io_in *io)
{
	stream_in *s = xcalloc(1, sizeof *s);

	s->io = io;
	stream_head_init(&s->head);
	table_init(&s->schema);
	msgpack_unpacked_init(&s->unpacked);
	return s;
}

stream_in *
stream_in_from(io_in *io)
{
	stream_in *s = stream_in_new(io);

	stream_in_read_head(s);
	return s;
}

void
stream_in_read_head(stream_in *s)
{
	const uint8_t *data;
	size_t len;
	io_status st;

	st = io_in_next(s->io, &data, &len);
	/* An empty pipe: the stage before this one wrote nothing, which a
	 * psflow stage does only when it failed, and it said why on the same
	 * stderr. A second message would bury the one that matters. */
	if (st == IO_EOF && io_in_is_pipe(s->io))
		die_quietly();
	if (st != IO_MSG)
		die("%s: %s before a head arrived: no stream (is the upstream stage "
		    "running, and did it fail?)", io_in_name(s->io), describe_stop(st));
	s->messages++;
	s->crc = crc_update(0, (const unsigned char *)data, len);
	mpraw_copy(&s->head_raw, data, len);
	decode_head(s, unpack(s, data, len));
	s->ninput = s->schema.ncols;
}

int
stream_in_add_indicator(stream_in *s, const char *name, const char *source,
    const char *level, char *why, size_t whylen)
{
	int src = table_find(&s->schema, source), at;
	const column *c;
	int32_t code = -1;

	if (s->batches > 0) {
		snprintf(why, whylen, "internal error: an indicator after the first batch");
		return -1;
	}
	if (src < 0) {
		snprintf(why, whylen, "'%s' is not a column of the stream", source);
		return -1;
	}
	c = &s->schema.cols[src];
	if (c->type != COL_CAT || c->nlevels != 2) {
		snprintf(why, whylen, "'%s=%s' needs '%s' to be text of two levels, and it is %s%s",
		    source, level, source, c->type == COL_CAT ? "text of " : coltype_name(c->type),
		    c->type == COL_CAT ? (c->nlevels < 2 ? "fewer levels" : "more levels") : "");
		return -1;
	}
	for (int l = 0; l < 2; l++)
		if (strcmp(c->levels[l], level) == 0)
			code = l;
	if (code < 0) {
		snprintf(why, whylen, "'%s' is not a level of '%s' (its levels: %s, %s)", level,
		    source, c->levels[0], c->levels[1]);
		return -1;
	}
	at = table_add_column(&s->schema, name, COL_BOOL, NULL, 0);
	table_add_column(&s->head.schema, name, COL_BOOL, NULL, 0);
	s->derived = xreallocarray(s->derived, (size_t)s->nderived + 1, sizeof *s->derived);
	s->derived[s->nderived].col = at;
	s->derived[s->nderived].src = src;
	s->derived[s->nderived++].level = code;
	return 0;
}

static void
fill_derived(stream_in *s, table *rows, size_t at, size_t n)
{
	for (int k = 0; k < s->nderived; k++) {
		const int32_t *from = (const int32_t *)rows->cols[s->derived[k].src].data + at;
		uint8_t *to = (uint8_t *)rows->cols[s->derived[k].col].data + at;

		for (size_t r = 0; r < n; r++)
			to[r] = from[r] < 0 ? BOOL_MISSING : from[r] == s->derived[k].level;
	}
}

stream_head *
stream_in_head(stream_in *s)
{
	return &s->head;
}

const mpraw *
stream_in_head_raw(const stream_in *s)
{
	return &s->head_raw;
}

uint64_t
stream_in_rows(const stream_in *s)
{
	return s->rows;
}

_Noreturn static void
bad_column(stream_in *s, const column *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
bad_column(stream_in *s, const column *c, const char *fmt, ...)
{
	char detail[256];
	va_list ap;
	int off = snprintf(detail, sizeof detail, "column '%s' (%s): ", c->name,
	    coltype_name(c->type));

	va_start(ap, fmt);
	vsnprintf(detail + off, sizeof detail - (size_t)off, fmt, ap);
	va_end(ap);
	bad(s, "bad batch", detail);
}

static void
decode_bin(stream_in *s, column *c, size_t at, size_t n, const msgpack_object *o)
{
	size_t w = coltype_width(c->type);
	char *to = (char *)c->data + at * w;

	if (o->via.bin.size != n * w)
		bad_column(s, c, "binary data of %u bytes, but %zu rows need %zu",
		    o->via.bin.size, n, n * w);
	/* bin payloads sit at any offset: copy, never cast */
	if (n > 0 && w > 0)
		memcpy(to, o->via.bin.ptr, n * w);
	if (c->type == COL_BOOL) {
		for (size_t r = 0; r < n; r++)
			if (((uint8_t *)to)[r] > 1 && ((uint8_t *)to)[r] != BOOL_MISSING)
				bad_column(s, c, "byte %u at row %zu is not 0, 1 or 255",
				    ((uint8_t *)to)[r], r);
	} else if (c->type == COL_CAT) {
		for (size_t r = 0; r < n; r++) {
			int32_t code = ((int32_t *)to)[r];

			if (code < -1 || code >= c->nlevels)
				bad_column(s, c, "level code %d at row %zu is outside "
				    "[-1, %d)", code, r, c->nlevels);
		}
	}
}

static int32_t
level_code(stream_in *s, int ci, const column *c, const msgpack_object *o, size_t r)
{
	level_index key = { 0 }, *hit;
	char buf[256];

	if (o->via.str.size >= sizeof buf)
		bad_column(s, c, "row %zu: a level longer than 255 bytes", r);
	if (o->via.str.size && memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
		bad_column(s, c, "row %zu: a level with a NUL byte in it", r);
	if (o->via.str.size)
		memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	key.level = buf;
	hit = bsearch(&key, s->levels[ci], (size_t)c->nlevels, sizeof key, cmp_level);
	if (hit == NULL)
		bad_column(s, c, "row %zu: '%s' is not one of its levels", r, buf);
	return hit->code;
}

static void
decode_array(stream_in *s, int ci, column *c, size_t at, size_t n,
    const msgpack_object *o)
{
	if (o->via.array.size != n)
		bad_column(s, c, "%u values, but the batch has %zu rows",
		    o->via.array.size, n);
	for (size_t r = 0; r < n; r++) {
		const msgpack_object *v = &o->via.array.ptr[r];
		int nil = v->type == MSGPACK_OBJECT_NIL;
		double d;
		int64_t i;

		switch (c->type) {
		case COL_F64:
			if (nil)
				d = NAN;
			else if (mpo_number(v, &d) != 0)
				bad_column(s, c, "row %zu: expected a number, got %s", r,
				    mpo_type_name(v));
			((double *)c->data)[at + r] = d;
			break;
		case COL_I64:
			if (nil)
				i = I64_MISSING;
			else if (mpo_int(v, &i) != 0 || i == I64_MISSING)
				bad_column(s, c, "row %zu: expected an integer, got %s", r,
				    mpo_type_name(v));
			((int64_t *)c->data)[at + r] = i;
			break;
		case COL_BOOL:
			if (nil)
				i = BOOL_MISSING;
			else if (v->type == MSGPACK_OBJECT_BOOLEAN)
				i = v->via.boolean;
			else if (mpo_int(v, &i) != 0 || (i != 0 && i != 1))
				bad_column(s, c, "row %zu: expected true/false, got %s", r,
				    mpo_type_name(v));
			((uint8_t *)c->data)[at + r] = (uint8_t)i;
			break;
		case COL_CAT:
			if (nil)
				i = CAT_MISSING;
			else if (v->type == MSGPACK_OBJECT_STR)
				i = level_code(s, ci, c, v, r);
			else if (mpo_int(v, &i) != 0 || i < -1 || i >= c->nlevels)
				bad_column(s, c, "row %zu: expected a level, got %s", r,
				    mpo_type_name(v));
			((int32_t *)c->data)[at + r] = (int32_t)i;
			break;
		}
	}
}

static void
decode_batch(stream_in *s, const msgpack_object *m, table *rows)
{
	const table *schema = &s->schema;
	const msgpack_object *cols = mpo_get(m, "columns");
	int64_t n;
	size_t at = rows->nrows;
	char *seen;

	if (rows->ncols < schema->ncols)
		die("internal error: batch table does not have the head's columns");
	if (mpo_int(mpo_get(m, "rows"), &n) != 0 || n < 0 || (uint64_t)n > (1ull << 40))
		bad(s, "bad batch", "'rows' must be a non-negative integer");
	if (cols == NULL || cols->type != MSGPACK_OBJECT_MAP)
		bad(s, "bad batch", "'columns' must be a map of column name to data");
	if (schema->ncols > 0 && (uint64_t)n > (uint64_t)SIZE_MAX / 16)
		bad(s, "bad batch", "too many rows");
	if (schema->ncols == 0 && n > 0)
		bad(s, "bad batch", "rows without columns (the head has none)");
	/* Every size is checked against the bytes that arrived before anything
	 * is allocated for 'rows': a few hundred bytes must not claim a
	 * terabyte. */
	if (s->seen == NULL)
		s->seen = xmalloc((size_t)schema->ncols + 1);
	seen = s->seen;
	memset(seen, 0, (size_t)schema->ncols + 1);
	for (uint32_t i = 0; i < cols->via.map.size; i++) {
		const msgpack_object *k = &cols->via.map.ptr[i].key;
		const msgpack_object *v = &cols->via.map.ptr[i].val;
		char *name = mpo_strdup(k);
		int ci = name ? table_find(schema, name) : -1;
		char detail[200];

		if (ci < 0)
			snprintf(detail, sizeof detail, "column '%.100s' is not in the "
			    "head", name ? name : "(not a string)");
		free(name); /* before bad() exits: leak checkers count it otherwise */
		if (ci >= s->ninput) {
			snprintf(detail, sizeof detail, "column '%.100s' is derived by this stage "
			    "(-t COL=LEVEL) and may not come in the batch", schema->cols[ci].name);
			ci = -1;
		}
		if (ci < 0)
			bad(s, "bad batch", detail);
		if (seen[ci]++)
			bad_column(s, &schema->cols[ci], "appears twice");
		if (v->type == MSGPACK_OBJECT_BIN &&
		    v->via.bin.size != (uint64_t)n * coltype_width(schema->cols[ci].type))
			bad_column(s, &schema->cols[ci], "binary data of %u bytes, but %lld rows "
			    "need %llu", v->via.bin.size, (long long)n,
			    (unsigned long long)n * coltype_width(schema->cols[ci].type));
		else if (v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size != (uint64_t)n)
			bad_column(s, &schema->cols[ci], "%u values, but the batch has %lld rows",
			    v->via.array.size, (long long)n);
		else if (v->type != MSGPACK_OBJECT_BIN && v->type != MSGPACK_OBJECT_ARRAY)
			bad_column(s, &schema->cols[ci], "data must be bin or an array, not %s",
			    mpo_type_name(v));
	}
	for (int ci = 0; ci < s->ninput; ci++)
		if (!seen[ci])
			bad_column(s, &schema->cols[ci], "missing from the batch");
	/* every column of the head is decoded below (or derived), or the batch
	 * is refused */
	table_set_rows_written(rows, at + (size_t)n, schema->ncols);
	for (uint32_t i = 0; i < cols->via.map.size; i++) {
		const msgpack_object *v = &cols->via.map.ptr[i].val;
		char *name = mpo_strdup(&cols->via.map.ptr[i].key);
		int ci = table_find(schema, name);

		free(name);
		if (v->type == MSGPACK_OBJECT_BIN)
			decode_bin(s, &rows->cols[ci], at, (size_t)n, v);
		else
			decode_array(s, ci, &rows->cols[ci], at, (size_t)n, v);
	}
	fill_derived(s, rows, at, (size_t)n);
	s->rows += (uint64_t)n;
	s->batches++;
}

static void
check_end(stream_in *s, const msgpack_object *m)
{
	int64_t rows, batches;
	const uint8_t *data;
	size_t len;

	if (mpo_int(mpo_get(m, "rows"), &rows) != 0 ||
	    mpo_int(mpo_get(m, "batches"), &batches) != 0)
		bad(s, "bad end", "'rows' and 'batches' must be integers");
	if ((uint64_t)rows != s->rows || (uint64_t)batches != s->batches)
		die("%s: the stream says it sent %lld rows in %lld batches, but %llu "
		    "rows in %llu batches arrived: data were lost or duplicated",
		    io_in_name(s->io), (long long)rows, (long long)batches,
		    (unsigned long long)s->rows, (unsigned long long)s->batches);
	/* results and crc32 are optional (a hand-written producer may leave
	 * them out); psflow writes both, so an added, lost or changed message
	 * or a flipped bit is caught here */
	if (mpo_get(m, "results") != NULL) {
		int64_t results;

		if (mpo_int(mpo_get(m, "results"), &results) != 0)
			bad(s, "bad end", "'results' must be an integer");
		if ((uint64_t)results != s->results)
			die("%s: the stream says it sent %lld results, but %llu arrived: a "
			    "result was lost, or one was added by another sender",
			    io_in_name(s->io), (long long)results, (unsigned long long)s->results);
	}
	if (mpo_get(m, "crc32") != NULL) {
		int64_t crc;

		if (mpo_int(mpo_get(m, "crc32"), &crc) != 0 || crc < 0 || crc > 0xffffffffLL)
			bad(s, "bad end", "'crc32' must be an unsigned 32-bit integer");
		if ((uint32_t)crc != s->crc)
			die("%s: the stream's checksum does not match: its messages were "
			    "changed on the way (CRC-32 %08llx sent, %08lx of what arrived)",
			    io_in_name(s->io), (unsigned long long)crc, (unsigned long)s->crc);
	}
	s->ended = 1;
	/* Over a byte stream, nothing may follow the end. ZeroMQ has no end
	 * of file: the end message is all there is. */
	if (!io_in_is_zmq(s->io) && io_in_next(s->io, &data, &len) != IO_EOF)
		bad(s, "a message follows the end", "two streams concatenated?");
}

stream_event
stream_in_next(stream_in *s, table *rows, mpraw *raw)
{
	const uint8_t *data;
	size_t len;
	const msgpack_object *m, *kind;
	io_status st;

	if (s->ended)
		die("internal error: read past the end of %s", io_in_name(s->io));
	st = io_in_next(s->io, &data, &len);
	if (st != IO_MSG)
		die("%s: %s after %llu rows in %llu batches, without an end message: "
		    "the stream is incomplete (did the upstream stage fail or get "
		    "killed%s?)", io_in_name(s->io), describe_stop(st),
		    (unsigned long long)s->rows, (unsigned long long)s->batches,
		    st == IO_PEER_GONE ? ", or send a message over this reader's --max-message, "
		    "which ZeroMQ drops with its connection" : "");
	s->messages++;
	m = unpack(s, data, len);
	kind = mpo_get(m, "kind");
	if (mpo_is_str(kind, "end")) {
		check_end(s, m);
		return STREAM_END;
	}
	s->crc = crc_update(s->crc, (const unsigned char *)data, len);
	if (mpo_is_str(kind, "batch")) {
		decode_batch(s, m, rows);
		return STREAM_BATCH;
	}
	if (mpo_is_str(kind, "result")) {
		s->results++;
		raw->bytes = (uint8_t *)data;
		raw->len = len;
		return STREAM_RESULT;
	}
	if (mpo_is_str(kind, "error")) {
		/* the stage before failed and said why: on a pipe it said so on
		 * this stderr already; from a file or another host, here */
		char *stage = mpo_strdup(mpo_get(m, "stage"));
		char *message = mpo_strdup(mpo_get(m, "message"));
		char text[1200];

		snprintf(text, sizeof text, "%s: %.100s, the stage before this one, failed: %.1000s",
		    io_in_name(s->io), stage ? stage : "(unnamed)", message ? message : "(no reason given)");
		if (io_in_is_pipe(s->io)) {
			/* said on this stderr already: passed on, not said again */
			char who[128], why[1024];

			snprintf(who, sizeof who, "%s", stage ? stage : "(unnamed)");
			snprintf(why, sizeof why, "%s", message ? message : "(no reason given)");
			free(stage);
			free(message);
			die_forwarding(who, why);
		}
		free(stage);
		free(message);
		die("%s", text);
	}
	if (mpo_is_str(kind, "head"))
		bad(s, "a second head", "two streams concatenated?");
	bad(s, "unknown message", "'kind' must be head, batch, result or end");
}

void
stream_in_free(stream_in *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < s->nlevel_slots; i++)
		free(s->levels[i]);
	free(s->levels);
	free(s->derived);
	free(s->seen);
	drop_column_parts(s);
	table_free(&s->schema);
	free(s->head_raw.bytes);
	stream_head_free(&s->head);
	msgpack_unpacked_destroy(&s->unpacked);
	io_in_free(s->io);
	free(s);
}

/* ---- writer -------------------------------------------------------------- */

struct stream_out {
	io_out *io;
	int keep_io;
	size_t batch_rows;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t rows, batches, results;
	uint32_t crc;
	int wrote_head;
	/* held while a batch is written and, for good, by the die hook: a
	 * stage that writes its rows in a thread of their own (stage.h) and
	 * fails meanwhile tells the next stage between two whole frames.
	 * Recursive: the writing thread may fail inside its own write. */
	pthread_mutex_t frame_lock;
};

stream_out *
stream_out_open(const char *spec, const io_opts *opts, size_t batch_rows)
{
	return stream_out_to(io_out_open(spec, opts), batch_rows, 0);
}

/* The stream this program is writing, told when the program fails. */
static stream_out *failing_out;

/* die()'s hook: an `error` message to the next stage, so that it stops with
 * this stage's reason instead of a second, misleading one (a stream cut
 * short). Only after the head: before it, the next stage sees no stream. */
static void
tell_next_stage(const char *stage, const char *message)
{
	stream_out *o = failing_out;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	failing_out = NULL;
	if (o == NULL || !o->wrote_head)
		return;
	/* never given back: the process ends, and a row-writing thread must
	 * not go on into the stream after the error */
	pthread_mutex_lock(&o->frame_lock);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_pack_cstr(&pk, "kind");
	mp_pack_cstr(&pk, "error");
	mp_pack_cstr(&pk, "stage");
	mp_pack_cstr(&pk, stage);
	mp_pack_cstr(&pk, "message");
	mp_pack_cstr(&pk, message);
	io_out_write(o->io, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	/* over ZeroMQ the message must leave before the process ends */
	io_out_set_linger(o->io, 2000);
	io_out_free(o->io);
}

stream_out *
stream_out_to(io_out *io, size_t batch_rows, int keep)
{
	stream_out *o = xcalloc(1, sizeof *o);

	if (!keep) {
		failing_out = o;
		err_set_die_hook(tell_next_stage);
	}
	o->io = io;
	o->keep_io = keep;
	o->batch_rows = batch_rows ? batch_rows : STREAM_DEFAULT_BATCH_ROWS;
	{
		pthread_mutexattr_t recursive;

		pthread_mutexattr_init(&recursive);
		pthread_mutexattr_settype(&recursive, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&o->frame_lock, &recursive);
		pthread_mutexattr_destroy(&recursive);
	}
	o->crc = 0;
	msgpack_sbuffer_init(&o->sb);
	msgpack_packer_init(&o->pk, &o->sb, msgpack_sbuffer_write);
	return o;
}

static void
flush_message(stream_out *o)
{
	o->crc = crc_update(o->crc, (const unsigned char *)o->sb.data, o->sb.size);
	io_out_write(o->io, o->sb.data, o->sb.size);
	msgpack_sbuffer_clear(&o->sb);
}

static void
pack_str(msgpack_packer *pk, const char *s)
{
	mp_pack_cstr(pk, s);
}

/* The head, with `extra` (when not NULL) after its recipe entries. */
static void
write_head(stream_out *o, const stream_head *h, const mpraw *extra)
{
	msgpack_packer *pk = &o->pk;
	const table *t = &h->schema;

	msgpack_pack_map(pk, 6);
	pack_str(pk, "kind");
	pack_str(pk, "head");
	pack_str(pk, "version");
	msgpack_pack_int(pk, STREAM_VERSION);
	pack_str(pk, "columns");
	msgpack_pack_array(pk, (size_t)t->ncols);
	for (int i = 0; i < t->ncols; i++) {
		const column *c = &t->cols[i];

		msgpack_pack_map(pk, c->type == COL_CAT ? 3 : 2);
		pack_str(pk, "name");
		pack_str(pk, c->name);
		pack_str(pk, "type");
		pack_str(pk, coltype_name(c->type));
		if (c->type == COL_CAT) {
			pack_str(pk, "levels");
			msgpack_pack_array(pk, (size_t)c->nlevels);
			for (int l = 0; l < c->nlevels; l++)
				pack_str(pk, c->levels[l]);
		}
	}
	pack_str(pk, "roles");
	msgpack_pack_map(pk, 3 + (h->ps != NULL) + (h->support != NULL));
	pack_str(pk, "treatment");
	pack_str(pk, h->treatment);
	pack_str(pk, "outcome");
	pack_str(pk, h->outcome);
	pack_str(pk, "covariates");
	msgpack_pack_array(pk, (size_t)h->ncovariates);
	for (int i = 0; i < h->ncovariates; i++)
		pack_str(pk, h->covariates[i]);
	if (h->ps) {
		pack_str(pk, "ps");
		pack_str(pk, h->ps);
	}
	if (h->support) {
		pack_str(pk, "support");
		pack_str(pk, h->support);
	}
	pack_str(pk, "recipe");
	msgpack_pack_array(pk, (size_t)h->nrecipe + (extra != NULL));
	for (int i = 0; i < h->nrecipe; i++)
		pk->callback(pk->data, (const char *)h->recipe[i].bytes, h->recipe[i].len);
	if (extra)
		pk->callback(pk->data, (const char *)extra->bytes, extra->len);
	pack_str(pk, "meta");
	if (h->meta.len)
		pk->callback(pk->data, (const char *)h->meta.bytes, h->meta.len);
	else
		msgpack_pack_map(pk, 0);
	flush_message(o);
	o->wrote_head = 1;
}

void
stream_out_head(stream_out *o, const stream_head *h)
{
	write_head(o, h, NULL);
}

void
stream_out_head_adding(stream_out *o, const stream_head *h, const mpseq *recipe)
{
	mpraw entry;

	if (recipe == NULL) { /* as it came */
		write_head(o, h, NULL);
		return;
	}
	mpraw_from_seq(&entry, recipe);
	write_head(o, h, &entry);
	free(entry.bytes);
}

/* A batch goes out as its framing (packed here) around the column bodies,
 * which are written straight from the table: no copy of the data. */
void
stream_out_rows(stream_out *o, const table *t, size_t from, size_t n)
{
	msgpack_packer *pk = &o->pk;
	size_t *mark = xreallocarray(NULL, (size_t)t->ncols + 1, sizeof *mark);
	struct iovec *iov = xreallocarray(NULL, 2 * (size_t)t->ncols + 2, sizeof *iov);

	while (n > 0) {
		size_t take = n < o->batch_rows ? n : o->batch_rows, at = 0;
		int piece = 0;

		msgpack_pack_map(pk, 3);
		pack_str(pk, "kind");
		pack_str(pk, "batch");
		pack_str(pk, "rows");
		msgpack_pack_uint64(pk, take);
		pack_str(pk, "columns");
		msgpack_pack_map(pk, (size_t)t->ncols);
		for (int i = 0; i < t->ncols; i++) {
			pack_str(pk, t->cols[i].name);
			msgpack_pack_bin(pk, take * coltype_width(t->cols[i].type));
			mark[i] = o->sb.size; /* the body goes here */
		}
		for (int i = 0; i < t->ncols; i++) {
			size_t w = coltype_width(t->cols[i].type);

			iov[piece++] = (struct iovec){ o->sb.data + at, mark[i] - at };
			iov[piece++] = (struct iovec){ (char *)t->cols[i].data + from * w, take * w };
			at = mark[i];
		}
		iov[piece++] = (struct iovec){ o->sb.data + at, o->sb.size - at };
		for (int i = 0; i < piece; i++)
			o->crc = crc_update(o->crc, iov[i].iov_base, iov[i].iov_len);
		pthread_mutex_lock(&o->frame_lock);
		io_out_writev(o->io, iov, piece);
		pthread_mutex_unlock(&o->frame_lock);
		msgpack_sbuffer_clear(&o->sb);
		o->rows += take;
		o->batches++;
		from += take;
		n -= take;
	}
	free(mark);
	free(iov);
}

void
stream_out_raw(stream_out *o, const void *bytes, size_t len)
{
	o->crc = crc_update(o->crc, (const unsigned char *)bytes, len);
	io_out_write(o->io, bytes, len);
	o->results++;
}

void
stream_out_map(stream_out *o, const mpseq *m)
{
	mpseq_pack(m, &o->pk);
	flush_message(o);
	o->results++;
}

void
stream_out_end(stream_out *o)
{
	msgpack_packer *pk = &o->pk;

	msgpack_pack_map(pk, 5);
	pack_str(pk, "kind");
	pack_str(pk, "end");
	pack_str(pk, "rows");
	msgpack_pack_uint64(pk, o->rows);
	pack_str(pk, "batches");
	msgpack_pack_uint64(pk, o->batches);
	pack_str(pk, "results");
	msgpack_pack_uint64(pk, o->results);
	pack_str(pk, "crc32");
	msgpack_pack_uint32(pk, (uint32_t)o->crc);
	io_out_write(o->io, o->sb.data, o->sb.size); /* (not in its own checksum) */
	msgpack_sbuffer_clear(&o->sb);
	if (failing_out == o)
		failing_out = NULL;
	if (!o->keep_io)
		io_out_free(o->io);
	msgpack_sbuffer_destroy(&o->sb);
	pthread_mutex_destroy(&o->frame_lock);
	free(o);
}

void
result_begin(mpseq *m, const char *stage, const char *name)
{
	mpseq_map(m);
	mpseq_str(m, "kind", "result");
	mpseq_str(m, "stage", stage);
	mpseq_str(m, "name", name);
}
