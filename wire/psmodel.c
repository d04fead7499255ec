#include "psmodel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "csv.h"
#include "err.h"
#include "xalloc.h"
#include "mpscan.h"

#define MODEL_KIND "psflow-model"

void
psmodel_free(psmodel *m)
{
	design_free(&m->d);
	free(m->beta);
	free(m->treatment);
	free(m->xgb);
	psmodel_levels_free(m);
	memset(m, 0, sizeof *m);
}

void
psmodel_levels_free(psmodel *m)
{
	for (int i = 0; i < m->nknown; i++) {
		for (int l = 0; l < m->known[i].nlevels; l++)
			free(m->known[i].levels[l]);
		free(m->known[i].levels);
		free(m->known[i].column);
	}
	free(m->known);
	m->known = NULL;
	m->nknown = 0;
}

/* A factor's transform in a model file: nil (none), "log", "log1p" or
 * "missing" (a missing-value indicator). */
static const char *
transform_word(int transform)
{
	switch (transform) {
	case DESIGN_LOG: return "log";
	case DESIGN_LOG1P: return "log1p";
	case DESIGN_IS_MISSING: return "missing";
	}
	return NULL;
}

static int
transform_parse(const msgpack_object *o, int *transform)
{
	static const int kinds[] = { DESIGN_LOG, DESIGN_LOG1P, DESIGN_IS_MISSING };

	*transform = DESIGN_PLAIN;
	if (o->type == MSGPACK_OBJECT_NIL)
		return 0;
	for (int k = 0; k < 3; k++)
		if (mpo_is_str(o, transform_word(kinds[k]))) {
			*transform = kinds[k];
			return 0;
		}
	return -1;
}

static int
known_index(const psmodel *m, const char *column)
{
	for (int i = 0; i < m->nknown; i++)
		if (strcmp(m->known[i].column, column) == 0)
			return i;
	return -1;
}

void
psmodel_note_levels(psmodel *m, const table *schema)
{
	for (int k = 0; k < m->d.nterms; k++)
		for (int f = 0; f < m->d.terms[k].nfactors; f++) {
			const char *name = m->d.terms[k].factors[f].column;
			int ci = table_find(schema, name);
			psmodel_levels *lv;

			if (ci < 0 || schema->cols[ci].type != COL_CAT || known_index(m, name) >= 0)
				continue;
			m->known = xreallocarray(m->known, (size_t)m->nknown + 1, sizeof *m->known);
			lv = &m->known[m->nknown++];
			lv->column = xstrdup(name);
			lv->nlevels = schema->cols[ci].nlevels;
			lv->levels = xcalloc((size_t)lv->nlevels + 1, sizeof *lv->levels);
			for (int l = 0; l < lv->nlevels; l++)
				lv->levels[l] = xstrdup(schema->cols[ci].levels[l]);
		}
}

void
psmodel_pack(const psmodel *m, mpseq *map)
{
	mpseq terms;

	mpseq_str(map, "kind", MODEL_KIND);
	mpseq_i64(map, "version", 1);
	mpseq_str(map, "treatment", m->treatment);
	if (m->nknown > 0) {
		mpseq levels;

		mpseq_map(&levels);
		for (int i = 0; i < m->nknown; i++) {
			msgpack_packer *pk = mpseq_key(&levels, m->known[i].column);

			msgpack_pack_array(pk, (size_t)m->known[i].nlevels);
			for (int l = 0; l < m->known[i].nlevels; l++)
				mp_pack_cstr(pk, m->known[i].levels[l]);
		}
		mpseq_take(map, "levels", &levels);
	}
	if (m->xgb) {
		mpseq_str(map, "learner", "gbm");
		mpseq_i64(map, "trees", m->trees);
		msgpack_pack_bin_with_body(mpseq_key(map, "xgboost"), m->xgb, m->xgb_len);
	} else { /* no "learner": logistic, as files before boosting */
		if (m->C > 0)
			mpseq_f64(map, "l2", m->C);
		else
			mpseq_nil(map, "l2");
		mpseq_f64(map, "intercept", m->beta[0]);
	}
	mpseq_array(&terms);
	for (int k = 0; k < m->d.nterms; k++) {
		const design_term *t = &m->d.terms[k];
		mpseq term, factors;

		mpseq_map(&term);
		mpseq_str(&term, "name", t->name);
		mpseq_array(&factors);
		for (int f = 0; f < t->nfactors; f++) {
			msgpack_packer *pk = mpseq_item(&factors);

			const design_factor *fa = &t->factors[f];

			msgpack_pack_array(pk, fa->filled ? 4 : fa->transform ? 3 : 2);
			mp_pack_cstr(pk, fa->column);
			mp_pack_cstr(pk, fa->level);
			if (fa->transform || fa->filled)
				mp_pack_cstr(pk, transform_word(fa->transform));
			if (fa->filled && fa->level)
				msgpack_pack_nil(pk); /* a category's missing value is no level */
			else if (fa->filled)
				msgpack_pack_double(pk, fa->fill);
		}
		mpseq_take(&term, "factors", &factors);
		if (!m->xgb)
			mpseq_f64(&term, "coef", m->beta[k + 1]);
		mpseq_take(&terms, NULL, &term);
	}
	mpseq_take(map, "terms", &terms);
}

void
psmodel_save(const psmodel *m, const char *path)
{
	mpseq map;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		die("cannot write the model to '%s':", path);
	mpseq_map(&map);
	psmodel_pack(m, &map);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mpseq_pack(&map, &pk);
	if (fwrite(sb.data, 1, sb.size, f) != sb.size || fclose(f) != 0)
		die("writing the model to '%s':", path);
	msgpack_sbuffer_destroy(&sb);
	mpseq_free(&map);
}

_Noreturn static void
bad_model(const char *where, const char *what)
{
	die("%s: not a psflow model: %s (make one with fitps --save-model)", where, what);
}

void
psmodel_from_object(psmodel *m, const msgpack_object *o, const char *where)
{
	const msgpack_object *terms = mpo_get(o, "terms"), *l2 = mpo_get(o, "l2");
	const msgpack_object *learner = mpo_get(o, "learner");
	double b0 = 0, trees;
	int boosted = mpo_is_str(learner, "gbm");

	memset(m, 0, sizeof *m);
	if (!mpo_is_str(mpo_get(o, "kind"), MODEL_KIND))
		bad_model(where, "its kind is not " MODEL_KIND);
	{
		int64_t version;

		if (mpo_int(mpo_get(o, "version"), &version) != 0)
			bad_model(where, "'version' must be an integer");
		if (version != 1)
			die("%s: model file version %lld is not one this psflow reads (1): "
			    "refit it with this psflow's fitps --save-model", where, (long long)version);
	}
	if (mpo_duplicate_key(o) != NULL)
		bad_model(where, "a map has a key twice");
	{
		const msgpack_object *lv = mpo_get(o, "levels");

		if (lv && lv->type != MSGPACK_OBJECT_MAP)
			bad_model(where, "'levels' must be a map of column to its levels");
		for (uint32_t i = 0; lv && i < lv->via.map.size; i++) {
			const msgpack_object *a = &lv->via.map.ptr[i].val;
			psmodel_levels *k;
			char *column = mpo_strdup(&lv->via.map.ptr[i].key);

			if (column == NULL || a->type != MSGPACK_OBJECT_ARRAY) {
				free(column);
				bad_model(where, "'levels' must be a map of column to its levels");
			}
			m->known = xreallocarray(m->known, (size_t)m->nknown + 1, sizeof *m->known);
			k = &m->known[m->nknown++];
			k->column = column;
			k->levels = xcalloc((size_t)a->via.array.size + 1, sizeof *k->levels);
			k->nlevels = 0;
			for (uint32_t l = 0; l < a->via.array.size; l++)
				if ((k->levels[k->nlevels++] = mpo_strdup(&a->via.array.ptr[l])) == NULL)
					bad_model(where, "a level must be a string");
		}
	}
	if (learner && !boosted && !mpo_is_str(learner, "logistic"))
		bad_model(where, "its learner is neither logistic nor gbm");
	if (terms == NULL || terms->type != MSGPACK_OBJECT_ARRAY)
		bad_model(where, "'terms' must be an array");
	if (boosted) {
		const msgpack_object *x = mpo_get(o, "xgboost");

		if (x == NULL || x->type != MSGPACK_OBJECT_BIN || x->via.bin.size == 0)
			bad_model(where, "a gbm model needs its 'xgboost' bytes");
		if (mpo_number(mpo_get(o, "trees"), &trees) != 0 || !(trees >= 1 && trees <= 1e6) ||
		    trees != (int)trees)
			bad_model(where, "a gbm model needs a whole number of 'trees'");
		m->trees = (int)trees;
		m->xgb_len = x->via.bin.size;
		m->xgb = xmalloc(m->xgb_len);
		memcpy(m->xgb, x->via.bin.ptr, m->xgb_len);
	} else if (mpo_number(mpo_get(o, "intercept"), &b0) != 0)
		bad_model(where, "'intercept' must be a number");
	m->treatment = mpo_strdup(mpo_get(o, "treatment"));
	if (l2 != NULL && l2->type != MSGPACK_OBJECT_NIL && mpo_number(l2, &m->C) != 0)
		bad_model(where, "'l2' must be a number or nil");
	m->beta = xcalloc(terms->via.array.size + 1, sizeof *m->beta);
	m->beta[0] = b0;
	for (uint32_t k = 0; k < terms->via.array.size; k++) {
		const msgpack_object *t = &terms->via.array.ptr[k];
		const msgpack_object *fs = mpo_get(t, "factors");
		design_factor *f;
		uint32_t nf;

		if (fs == NULL || fs->type != MSGPACK_OBJECT_ARRAY || fs->via.array.size == 0)
			bad_model(where, "each term needs 'factors'");
		if (!boosted && mpo_number(mpo_get(t, "coef"), &m->beta[k + 1]) != 0)
			bad_model(where, "each term needs a numeric 'coef'");
		nf = fs->via.array.size;
		/* checked whole before anything is copied: a refusal loses nothing */
		for (uint32_t i = 0; i < nf; i++) {
			const msgpack_object *pair = &fs->via.array.ptr[i], *col;

			int transform;
			double fill;

			if (pair->type != MSGPACK_OBJECT_ARRAY || pair->via.array.size < 2 ||
			    pair->via.array.size > 4 || (pair->via.array.size >= 3 &&
			    transform_parse(&pair->via.array.ptr[2], &transform) != 0) ||
			    (pair->via.array.size == 4 &&
			    pair->via.array.ptr[3].type != MSGPACK_OBJECT_NIL &&
			    mpo_number(&pair->via.array.ptr[3], &fill) != 0) ||
			    (col = &pair->via.array.ptr[0])->type != MSGPACK_OBJECT_STR ||
			    (col->via.str.size && memchr(col->via.str.ptr, '\0', col->via.str.size)))
				bad_model(where, "a factor must be [column, level or nil(, log, log1p, "
				    "missing or nil(, its fill))]");
		}
		f = xcalloc(nf, sizeof *f);
		for (uint32_t i = 0; i < nf; i++) {
			const msgpack_object *pair = &fs->via.array.ptr[i];

			f[i].column = mpo_strdup(&pair->via.array.ptr[0]);
			f[i].level = mpo_strdup(&pair->via.array.ptr[1]);
			if (pair->via.array.size >= 3)
				transform_parse(&pair->via.array.ptr[2], &f[i].transform);
			if (pair->via.array.size == 4) {
				f[i].filled = 1;
				if (pair->via.array.ptr[3].type != MSGPACK_OBJECT_NIL)
					mpo_number(&pair->via.array.ptr[3], &f[i].fill);
			}
		}
		design_add_term(&m->d, f, (int)nf);
		for (uint32_t i = 0; i < nf; i++) {
			free(f[i].column);
			free(f[i].level);
		}
		free(f);
	}
	if (m->d.nterms != (int)terms->via.array.size)
		bad_model(where, "two terms have the same name");
}

void
psmodel_load(psmodel *m, const char *path)
{
	size_t len, cap, objlen = 0, off = 0;
	char *bytes = slurp(path, &len, &cap);
	msgpack_unpacked u;
	mpscan_status st = mpscan((const uint8_t *)bytes, len, 64u << 20, &objlen);

	if (st != MPSCAN_OK)
		bad_model(path, mpscan_strerror(st));
	if (objlen != len)
		bad_model(path, "bytes follow the model's map (two files joined, or a damaged one?)");
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, bytes, objlen, &off) != MSGPACK_UNPACK_SUCCESS ||
	    u.data.type != MSGPACK_OBJECT_MAP)
		bad_model(path, "it is not a MessagePack map");
	psmodel_from_object(m, &u.data, path);
	msgpack_unpacked_destroy(&u);
	bigmem_free(bytes, cap);
}
