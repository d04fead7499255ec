#include "mpo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"

const msgpack_object *
mpo_get(const msgpack_object *map, const char *key)
{
	size_t klen = strlen(key);

	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
		    memcmp(k->via.str.ptr, key, klen) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

int
mpo_is_str(const msgpack_object *o, const char *s)
{
	size_t len = strlen(s);

	/* (a zero-length str may have a NULL ptr, and memcmp must not see it) */
	return o != NULL && o->type == MSGPACK_OBJECT_STR &&
	    o->via.str.size == len && (len == 0 || memcmp(o->via.str.ptr, s, len) == 0);
}

char *
mpo_strdup(const msgpack_object *o)
{
	if (o == NULL || o->type != MSGPACK_OBJECT_STR)
		return NULL;
	if (o->via.str.size == 0)
		return xstrdup(""); /* (its ptr may be NULL) */
	if (memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
		return NULL;
	return xstrndup(o->via.str.ptr, o->via.str.size);
}

static int
cmp_key(const void *a, const void *b)
{
	const msgpack_object *x = *(const msgpack_object *const *)a;
	const msgpack_object *y = *(const msgpack_object *const *)b;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->type == MSGPACK_OBJECT_STR) {
		size_t n = x->via.str.size < y->via.str.size ? x->via.str.size : y->via.str.size;
		int c = n ? memcmp(x->via.str.ptr, y->via.str.ptr, n) : 0;

		return c ? c : (x->via.str.size > y->via.str.size) - (x->via.str.size < y->via.str.size);
	}
	if (x->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (x->via.u64 > y->via.u64) - (x->via.u64 < y->via.u64);
	if (x->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return (x->via.i64 > y->via.i64) - (x->via.i64 < y->via.i64);
	return 0; /* other keys are refused where a key is read: never equal here */
}

/* Keys that can be equal: strings and integers (psflow reads no others). */
static int
same_key(const msgpack_object *x, const msgpack_object *y)
{
	return (x->type == MSGPACK_OBJECT_STR || x->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    x->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) && cmp_key(&x, &y) == 0;
}

const msgpack_object *
mpo_duplicate_key(const msgpack_object *o)
{
	const msgpack_object *dup = NULL;
	uint32_t n;

	if (o->type == MSGPACK_OBJECT_ARRAY) {
		for (uint32_t i = 0; i < o->via.array.size && dup == NULL; i++)
			if (o->via.array.ptr[i].type == MSGPACK_OBJECT_MAP ||
			    o->via.array.ptr[i].type == MSGPACK_OBJECT_ARRAY)
				dup = mpo_duplicate_key(&o->via.array.ptr[i]);
		return dup;
	}
	if (o->type != MSGPACK_OBJECT_MAP)
		return NULL;
	n = o->via.map.size;
	if (n <= 8) {
		/* the usual map: a few keys, compared pairwise */
		for (uint32_t i = 0; i < n && dup == NULL; i++)
			for (uint32_t j = i + 1; j < n && dup == NULL; j++)
				if (same_key(&o->via.map.ptr[i].key, &o->via.map.ptr[j].key))
					dup = &o->via.map.ptr[j].key;
	} else {
		const msgpack_object **keys = xreallocarray(NULL, n, sizeof *keys);

		for (uint32_t i = 0; i < n; i++)
			keys[i] = &o->via.map.ptr[i].key;
		qsort(keys, n, sizeof *keys, cmp_key);
		for (uint32_t i = 1; i < n && dup == NULL; i++)
			if (same_key(keys[i - 1], keys[i]))
				dup = keys[i];
		free(keys);
	}
	for (uint32_t i = 0; i < n && dup == NULL; i++)
		dup = mpo_duplicate_key(&o->via.map.ptr[i].val);
	return dup;
}

int
mpo_number(const msgpack_object *o, double *out)
{
	if (o == NULL)
		return -1;
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*out = (double)o->via.u64;
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*out = (double)o->via.i64;
		return 0;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*out = o->via.f64;
		return 0;
	default:
		return -1;
	}
}

int
mpo_int(const msgpack_object *o, int64_t *out)
{
	if (o == NULL)
		return -1;
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > (uint64_t)INT64_MAX)
			return -1;
		*out = (int64_t)o->via.u64;
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*out = o->via.i64;
		return 0;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		if (!(fabs(o->via.f64) < 9.2e18) || o->via.f64 != floor(o->via.f64))
			return -1;
		*out = (int64_t)o->via.f64;
		return 0;
	default:
		return -1;
	}
}

const char *
mpo_type_name(const msgpack_object *o)
{
	if (o == NULL)
		return "nothing";
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: return "nil";
	case MSGPACK_OBJECT_BOOLEAN: return "a boolean";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "an integer";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: return "a float";
	case MSGPACK_OBJECT_STR: return "a string";
	case MSGPACK_OBJECT_ARRAY: return "an array";
	case MSGPACK_OBJECT_MAP: return "a map";
	case MSGPACK_OBJECT_BIN: return "binary data";
	case MSGPACK_OBJECT_EXT: return "an ext object";
	}
	return "an unknown object";
}

/* The length of the UTF-8 sequence at s (n bytes left), 0 if invalid. */
size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and past U+10FFFF are not UTF-8 */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

void
mpo_json_string(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else if (c < 0x80)
			fputc(c, f);
		else {
			/* JSON is UTF-8: a byte that is not (a Latin-1 CSV's) is U+FFFD */
			size_t n = utf8_len((const unsigned char *)s + i, len - i);

			if (n == 0)
				fputs("\\ufffd", f);
			else
				fwrite(s + i, 1, n, f);
			i += n ? n - 1 : 0;
		}
	}
	fputc('"', f);
}

int
format_double(char *buf, size_t size, double x)
{
	/* the shortest of %.15g..%.17g that reads back as the same double */
	for (int digits = 15; digits <= 17; digits++) {
		int n = snprintf(buf, size, "%.*g", digits, x);

		if (digits == 17 || strtod(buf, NULL) == x)
			return n;
	}
	return 0;
}

void
mpo_json_number(FILE *f, double x)
{
	char buf[40];

	if (!isfinite(x))
		fputs("null", f);
	else {
		format_double(buf, sizeof buf, x);
		fputs(buf, f);
	}
}

void
mpo_json(FILE *f, const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		fputs("null", f);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(o->via.boolean ? "true" : "false", f);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		fprintf(f, "%llu", (unsigned long long)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		fprintf(f, "%lld", (long long)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		mpo_json_number(f, o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		mpo_json_string(f, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		fprintf(f, "{\"bin\":%u}", o->via.bin.size);
		break;
	case MSGPACK_OBJECT_EXT:
		fprintf(f, "{\"ext\":%d,\"size\":%u}", o->via.ext.type, o->via.ext.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		fputc('[', f);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i)
				fputc(',', f);
			mpo_json(f, &o->via.array.ptr[i]);
		}
		fputc(']', f);
		break;
	case MSGPACK_OBJECT_MAP:
		fputc('{', f);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;

			if (i)
				fputc(',', f);
			if (k->type == MSGPACK_OBJECT_STR)
				mpo_json(f, k);
			else {
				/* JSON keys are strings: quote whatever the key is */
				fputc('"', f);
				if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
					fprintf(f, "%llu", (unsigned long long)k->via.u64);
				else
					fputs(mpo_type_name(k), f);
				fputc('"', f);
			}
			fputc(':', f);
			mpo_json(f, &o->via.map.ptr[i].val);
		}
		fputc('}', f);
		break;
	}
}

void
mp_pack_f64(msgpack_packer *pk, double x)
{
	if (isnan(x))
		msgpack_pack_nil(pk);
	else
		msgpack_pack_double(pk, x);
}

void
mp_pack_cstr(msgpack_packer *pk, const char *s)
{
	if (s == NULL)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void
mpseq_init(mpseq *s, int is_map)
{
	msgpack_sbuffer_init(&s->sb);
	msgpack_packer_init(&s->pk, &s->sb, msgpack_sbuffer_write);
	s->n = 0;
	s->is_map = is_map;
}

void
mpseq_map(mpseq *s)
{
	mpseq_init(s, 1);
}

void
mpseq_array(mpseq *s)
{
	mpseq_init(s, 0);
}

msgpack_packer *
mpseq_key(mpseq *s, const char *key)
{
	mp_pack_cstr(&s->pk, key);
	s->n++;
	return &s->pk;
}

msgpack_packer *
mpseq_item(mpseq *s)
{
	s->n++;
	return &s->pk;
}

static msgpack_packer *
next(mpseq *s, const char *key)
{
	return s->is_map ? mpseq_key(s, key) : mpseq_item(s);
}

void
mpseq_str(mpseq *s, const char *key, const char *value)
{
	mp_pack_cstr(next(s, key), value);
}

void
mpseq_f64(mpseq *s, const char *key, double value)
{
	mp_pack_f64(next(s, key), value);
}

void
mpseq_i64(mpseq *s, const char *key, int64_t value)
{
	msgpack_pack_int64(next(s, key), value);
}

void
mpseq_bool(mpseq *s, const char *key, int value)
{
	msgpack_packer *pk = next(s, key);

	if (value)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

void
mpseq_nil(mpseq *s, const char *key)
{
	msgpack_pack_nil(next(s, key));
}

void
mpseq_take(mpseq *s, const char *key, mpseq *inner)
{
	mpseq_pack(inner, next(s, key));
	mpseq_free(inner);
}

void
mpseq_pack(const mpseq *s, msgpack_packer *pk)
{
	if (s->is_map)
		msgpack_pack_map(pk, s->n);
	else
		msgpack_pack_array(pk, s->n);
	/* the entries are already MessagePack: append them as they are */
	pk->callback(pk->data, s->sb.data, s->sb.size);
}

void
mpseq_free(mpseq *s)
{
	msgpack_sbuffer_destroy(&s->sb);
	memset(s, 0, sizeof *s);
}

void
mpseq_f64_pair(mpseq *s, const char *key, double a, double b)
{
	msgpack_packer *pk = mpseq_key(s, key);

	msgpack_pack_array(pk, 2);
	mp_pack_f64(pk, a);
	mp_pack_f64(pk, b);
}

char *
mpo_result_json(const msgpack_object *o, size_t *len, char **stage, char **name)
{
	char *json = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&json, &n);

	if (f == NULL)
		die("out of memory for a result's JSON");
	mpo_json(f, o);
	if (fclose(f) != 0)
		die("out of memory for a result's JSON");
	*len = n;
	*stage = mpo_strdup(mpo_get(o, "stage"));
	*name = mpo_strdup(mpo_get(o, "name"));
	return json;
}
