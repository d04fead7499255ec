/* mpo — reading MessagePack objects and building maps and arrays.
 *
 * Reading: thin accessors over msgpack_object. Objects decoded by msgpack-c
 * point into the bytes they came from; copy what must outlive them.
 * Building: an mpseq collects the entries of one map or array in its own
 * buffer, so entries can be added without knowing their count up front;
 * mpseq_pack() then writes header and entries into another packer.
 *
 * Ownership: decoded objects point into the caller's bytes; an mpseq owns
 * its buffer (mpseq_free), mpseq_take moves one into another. (rule: base/README.md) */
#ifndef PSFLOW_MPO_H
#define PSFLOW_MPO_H

#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

const msgpack_object *mpo_get(const msgpack_object *map, const char *key);
int mpo_is_str(const msgpack_object *o, const char *s);
/* A newly allocated C string, or NULL if o is not a string (or has a NUL). */
char *mpo_strdup(const msgpack_object *o);
/* 0 and the value when o is a number; -1 otherwise. */
int mpo_number(const msgpack_object *o, double *out);
/* 0 and the value when o is an integer (or a float with an integral value). */
int mpo_int(const msgpack_object *o, int64_t *out);
const char *mpo_type_name(const msgpack_object *o);
/* A key that some map in o (at any depth) has twice, or NULL. MessagePack
 * allows it, readers disagree on which copy wins (msgpack-c's lookups take
 * the first, Python's dict the last): psflow refuses such messages. */
/* The length of the UTF-8 sequence at s (n > 0 bytes left), 0 if it is
 * not one (overlong forms, surrogates, past U+10FFFF included). */
size_t utf8_len(const unsigned char *s, size_t n);
const msgpack_object *mpo_duplicate_key(const msgpack_object *o);
/* Writes o as JSON. bin is written as {"bin": <byte count>}; NaN and
 * infinities as null. */
void mpo_json(FILE *f, const msgpack_object *o);
void mpo_json_string(FILE *f, const char *s, size_t len);
/* A result as the JSON text a table cell holds (mp2pg, mp2sqlite): a new
 * string (the caller frees it), its stage and name (new strings, or NULL). */
char *mpo_result_json(const msgpack_object *o, size_t *len, char **stage, char **name);
void mpo_json_number(FILE *f, double x);
/* The shortest decimal text that reads back as exactly x; returns its length. */
int format_double(char *buf, size_t size, double x);

/* Packs a double, or nil when it is NaN. */
void mp_pack_f64(msgpack_packer *pk, double x);
/* Packs a C string, or nil when it is NULL. */
void mp_pack_cstr(msgpack_packer *pk, const char *s);

typedef struct {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t n;
	int is_map;
} mpseq;

void mpseq_map(mpseq *s);
void mpseq_array(mpseq *s);
/* Starts the next map entry; the caller packs its value with the packer. */
msgpack_packer *mpseq_key(mpseq *s, const char *key);
/* Starts the next array item. */
msgpack_packer *mpseq_item(mpseq *s);
void mpseq_str(mpseq *s, const char *key, const char *value);
void mpseq_f64(mpseq *s, const char *key, double value);
void mpseq_i64(mpseq *s, const char *key, int64_t value);
void mpseq_bool(mpseq *s, const char *key, int value);
void mpseq_nil(mpseq *s, const char *key);
/* [a, b] as the value of key: a pair of doubles (NaN as nil), as ranges,
 * bands and intervals are written. */
void mpseq_f64_pair(mpseq *s, const char *key, double a, double b);
/* Moves `inner` in as the value of `key` (map) or as the next item (array,
 * key NULL), and frees it. */
void mpseq_take(mpseq *s, const char *key, mpseq *inner);
/* Writes the finished map or array into pk. */
void mpseq_pack(const mpseq *s, msgpack_packer *pk);
void mpseq_free(mpseq *s);

#endif
