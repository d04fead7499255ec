#include "stage.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "err.h"
#include "mpo.h"
#include "xalloc.h"

void
rawlist_add(rawlist *l, const mpraw *raw)
{
	l->items = xreallocarray(l->items, (size_t)l->n + 1, sizeof *l->items);
	mpraw_copy(&l->items[l->n++], raw->bytes, raw->len);
}

void
rawlist_free(rawlist *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->items[i].bytes);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* The common support (stream_head.support). A stage that honours it sees
 * the rows inside only, numbered among themselves; the rows outside are put
 * back in their places as it writes, so that the stream carries every row
 * (boot resamples them all and applies the rule to each resample). */
static struct {
	int all_rows;        /* the stage sees every row (stage_note_support) */
	int col;             /* the support column in the input, -1: none */
	int ninput;          /* the input's columns (the stage's come after) */
	size_t *outside;     /* stream positions of the rows outside, ascending */
	size_t noutside, cap;
	size_t seen;         /* stream rows split so far */
	table rows;          /* stage_read_all: the rows outside, for stage_write */
	uint8_t *keep;
	size_t *at, keep_cap;
} support = { .col = -1 };

void
stage_note_support(int all_rows)
{
	support.all_rows = all_rows;
}

size_t
stage_outside_support(void)
{
	return support.noutside;
}

int
stage_inside_only(void)
{
	return support.col >= 0;
}

/* A row as the stage numbers it (among the rows inside) in the stream: the
 * least position p, not outside, with `row` rows inside before it. */
size_t
stage_stream_row(size_t row)
{
	size_t p = row;

	for (;;) {
		size_t lo = 0, hi = support.noutside, q;

		while (lo < hi) { /* outside positions <= p */
			size_t mid = lo + (hi - lo) / 2;

			if (support.outside[mid] <= p)
				lo = mid + 1;
			else
				hi = mid;
		}
		q = row + lo;
		if (q == p)
			return p;
		p = q;
	}
}

static const char *treatment_option;

void
stage_note_treatment_option(const char *treatment)
{
	treatment_option = treatment;
}

/* -t used_beta=yes on a stream whose used_beta is text: the stream reader
 * derives the 0/1 column "used_beta=yes"; said once, by the stage that
 * makes it. */
static void
derive_text_treatment(stage_input *si, int quiet)
{
	const char *t = treatment_option ? treatment_option : si->head->treatment;
	const char *eq = t ? strchr(t, '=') : NULL;
	char *column, why[512];

	if (eq == NULL || eq == t || eq[1] == '\0' || table_find(&si->head->schema, t) >= 0)
		return;
	column = xstrndup(t, (size_t)(eq - t));
	if (stream_in_add_indicator(si->in, t, column, eq + 1, why, sizeof why) != 0) {
		free(column);
		die_usage("-t %s: %s", t, why);
	}
	if (!quiet)
		err_warn("note: the treatment is '%s' == '%s' (1), the other level 0", column, eq + 1);
	free(column);
}

void
stage_open(stage_input *si, const cli_common *cli)
{
	memset(si, 0, sizeof *si);
	si->in = stream_in_open(cli->in, &cli->io);
	si->head = stream_in_head(si->in);
	stage_note_source(si->head);
	derive_text_treatment(si, cli->quiet);
	table_init(&si->rows);
	table_copy_schema(&si->rows, &si->head->schema);
	support.ninput = si->rows.ncols;
	if (si->head->support && !support.all_rows) {
		support.col = stage_column(&si->head->schema, si->head->support,
		    "common support", "fitps --common-support");
		if (si->head->schema.cols[support.col].type != COL_BOOL)
			die("the common support's column '%s' is %s: it must be bool (1 inside)",
			    si->head->support, coltype_name(si->head->schema.cols[support.col].type));
		table_init(&support.rows);
		table_copy_schema(&support.rows, &si->head->schema);
	}
}

/* Takes the rows outside the support out of rows (a batch, or every row),
 * noting their stream positions; with keep_outside, into support.rows. */
static void
split_support(table *rows, int keep_outside)
{
	const uint8_t *in = rows->cols[support.col].data;
	size_t n = rows->nrows, nout = 0;

	if (n > support.keep_cap) {
		support.keep_cap = n;
		support.keep = xrealloc(support.keep, n);
		support.at = xreallocarray(support.at, n, sizeof *support.at);
	}
	for (size_t r = 0; r < n; r++) {
		if (in[r] == BOOL_MISSING)
			die("the common support's column '%s' is missing at row %zu, counting "
			    "from 0 (in the stream)", rows->cols[support.col].name, support.seen + r);
		support.keep[r] = in[r] != 0;
		if (!in[r])
			support.at[nout++] = r;
	}
	if (nout) {
		if (support.noutside + nout > support.cap) {
			support.cap = 2 * (support.noutside + nout);
			support.outside = xreallocarray(support.outside, support.cap,
			    sizeof *support.outside);
		}
		for (size_t j = 0; j < nout; j++)
			support.outside[support.noutside + j] = support.seen + support.at[j];
		support.noutside += nout;
		if (keep_outside) {
			table part;

			table_init(&part);
			table_copy_schema(&part, rows);
			table_gather(&part, rows, support.at, nout);
			table_append_rows(&support.rows, &part, 0, nout);
			table_free(&part);
		}
		table_keep_rows(rows, support.keep);
	}
	support.seen += n;
}

/* A column a stage added, in a row outside the support: weight 0 (w_*),
 * not inside (bool), else missing. */
static void
outside_value(const column *c, size_t r)
{
	switch (c->type) {
	case COL_F64:
		((double *)c->data)[r] = strncmp(c->name, "w_", 2) == 0 ? 0 : NAN;
		break;
	case COL_I64:
		((int64_t *)c->data)[r] = I64_MISSING;
		break;
	case COL_BOOL:
		((uint8_t *)c->data)[r] = 0;
		break;
	case COL_CAT:
		((int32_t *)c->data)[r] = -1;
		break;
	}
}

/* rows (the stage's, inside the support) with the rows outside put back in
 * their places, into all (made here): pos[0..npos) are the outside rows'
 * stream positions and `first` the stream position of the merged rows'
 * first. The outside rows' input columns come from `outside`: its row j
 * (by_position 0: a table of the outside rows only) or its row pos[j] -
 * first (1: the whole batch); the columns the stage added get
 * outside_value. */
static void
merge_support(table *all, const table *rows, const table *outside, size_t first,
    const size_t *pos, size_t npos, int by_position)
{
	size_t n = rows->nrows + npos, i = 0, j = 0;

	table_init(all);
	table_copy_schema(all, rows);
	table_set_rows(all, n);
	for (size_t p = 0; p < n; p++) {
		int out = j < npos && pos[j] == first + p;
		size_t from = by_position ? p : j;

		for (int c = 0; c < all->ncols; c++) {
			size_t w = coltype_width(all->cols[c].type);
			char *to = (char *)all->cols[c].data + p * w;

			if (!out)
				memcpy(to, (const char *)rows->cols[c].data + i * w, w);
			else if (c < support.ninput)
				memcpy(to, (const char *)outside->cols[c].data + from * w, w);
			else
				outside_value(&all->cols[c], p);
		}
		if (out)
			j++;
		else
			i++;
	}
}

static struct {
	char file[256];
	int64_t first_line;
	int lines; /* rows map to lines */
} source;

void
stage_note_source(const stream_head *h)
{
	msgpack_unpacked u;
	const msgpack_object *csv;
	const msgpack_object *simple;

	memset(&source, 0, sizeof source);
	mpraw_unpack(&h->meta, &u);
	csv = mpo_get(&u.data, "csv");
	simple = mpo_get(csv, "one_line_per_row");
	if (csv && simple && simple->type == MSGPACK_OBJECT_BOOLEAN && simple->via.boolean &&
	    mpo_int(mpo_get(csv, "first_line"), &source.first_line) == 0 &&
	    source.first_line >= 1) {
		char *file = mpo_strdup(mpo_get(csv, "file"));

		if (file) {
			snprintf(source.file, sizeof source.file, "%s", file);
			source.lines = 1;
		}
		free(file);
	}
	msgpack_unpacked_destroy(&u);
}

const char *
stage_row(size_t row)
{
	static char buf[4][320];
	static int next;
	char *b = buf[next++ & 3];

	row = stage_stream_row(row);

	if (source.lines)
		snprintf(b, sizeof buf[0], "row %zu, line %llu of %s", row,
		    (unsigned long long)(source.first_line + (int64_t)row), source.file);
	else
		snprintf(b, sizeof buf[0], "row %zu, counting from 0", row);
	return b;
}

void
stage_rows_renumbered(stream_head *h)
{
	msgpack_unpacked u;
	mpseq meta;

	mpraw_unpack(&h->meta, &u);
	mpseq_map(&meta);
	for (uint32_t i = 0; u.data.type == MSGPACK_OBJECT_MAP && i < u.data.via.map.size; i++) {
		const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
		char *key = mpo_strdup(&kv->key);

		if (key && strcmp(key, "csv") != 0)
			msgpack_pack_object(mpseq_key(&meta, key), kv->val);
		free(key);
	}
	stream_head_set_meta(h, &meta);
	mpseq_free(&meta);
	msgpack_unpacked_destroy(&u);
	source.lines = 0;
}

void
stage_read_all(stage_input *si)
{
	mpraw raw;

	for (;;) {
		stream_event ev = stream_in_next(si->in, &si->rows, &raw);

		if (ev == STREAM_END)
			break;
		if (ev == STREAM_RESULT)
			rawlist_add(&si->results, &raw);
	}
	if (support.col >= 0)
		split_support(&si->rows, 1);
}

/* The next batch into batch (emptied first), upstream results kept on
 * the way; 0 at the end. */
static int
next_batch(stage_input *si, table *batch)
{
	mpraw raw;

	for (;;) {
		stream_event ev;

		batch->nrows = 0;
		ev = stream_in_next(si->in, batch, &raw);
		if (ev == STREAM_END)
			return 0;
		if (ev == STREAM_BATCH)
			return 1;
		if (ev == STREAM_RESULT)
			rawlist_add(&si->results, &raw);
	}
}

/* rows' columns k get the batch's columns cols[k], appended. */
static void
append_kept(table *rows, const table *batch, const int *cols)
{
	size_t at = rows->nrows;

	table_set_rows_written(rows, at + batch->nrows, rows->ncols);
	for (int k = 0; k < rows->ncols; k++) {
		size_t w = coltype_width(batch->cols[cols[k]].type);

		memcpy((char *)rows->cols[k].data + at * w, batch->cols[cols[k]].data,
		    batch->nrows * w);
	}
}

stream_out *
stage_read_all_passing(stage_input *si, const cli_common *cli, const mpseq *recipe,
    int (*keep)(const char *column, void *ctx), void *ctx)
{
	stream_out *out = si->out = stream_out_open(cli->out, &cli->io, cli->batch_rows);
	table batch;
	int *kept = xcalloc((size_t)si->rows.ncols + 1, sizeof *kept), nkept = 0;

	/* the head goes out with the stage's recipe entry; si->head stays as
	 * it came (remote boot workers replay it) */
	stream_out_head_adding(out, si->head, recipe);
	/* si->rows keeps only the columns asked for: memory first touched
	 * costs more than the work on it, and the others go on unread */
	table_init(&batch);
	table_copy_schema(&batch, &si->rows);
	table_free(&si->rows);
	table_init(&si->rows);
	for (int c = 0; c < batch.ncols; c++)
		if (keep == NULL || keep(batch.cols[c].name, ctx)) {
			kept[nkept++] = c;
			table_add_column(&si->rows, batch.cols[c].name, batch.cols[c].type,
			    batch.cols[c].levels, batch.cols[c].nlevels);
		}
	while (next_batch(si, &batch)) {
		stream_out_rows(out, &batch, 0, batch.nrows);
		if (support.col >= 0)
			split_support(&batch, 0);
		append_kept(&si->rows, &batch, kept);
	}
	table_free(&batch);
	free(kept);
	return out;
}

void
stage_read_all_holding(stage_input *si, int (*hold)(const char *column, void *ctx),
    void *ctx, const stage_spill_opts *o)
{
	table batch, apart;
	int *held = xcalloc((size_t)si->rows.ncols + 1, sizeof *held), nheld = 0;
	int *sent = xcalloc((size_t)si->rows.ncols + 1, sizeof *sent), nsent = 0;
	const char *support_name = support.col >= 0 ? si->head->schema.cols[support.col].name : NULL;

	table_init(&batch);
	table_init(&apart);
	table_copy_schema(&batch, &si->rows);
	table_free(&si->rows);
	table_init(&si->rows);
	for (int c = 0; c < batch.ncols; c++) {
		const column *col = &batch.cols[c];
		int keep = support_name && strcmp(col->name, support_name) == 0 ? STAGE_HOLD :
		    hold(col->name, ctx);

		if (keep != STAGE_PASS) {
			held[nheld++] = c;
			table_add_column(&si->rows, col->name, col->type, col->levels, col->nlevels);
		}
		if (keep != STAGE_HOLD) {
			sent[nsent++] = c;
			table_add_column(&apart, col->name, col->type, col->levels, col->nlevels);
		}
	}
	if (nsent > 0)
		si->apart = passing_open(&apart, o->memory_bytes, o->dir);
	table_free(&apart);
	/* the support's column, and its rows outside, among the columns held */
	if (support.col >= 0) {
		support.col = table_find(&si->rows, support_name);
		table_free(&support.rows);
		table_init(&support.rows);
		table_copy_schema(&support.rows, &si->rows);
	}
	support.ninput = si->rows.ncols;
	while (next_batch(si, &batch)) {
		if (si->apart)
			passing_append(si->apart, &batch, sent);
		append_kept(&si->rows, &batch, held);
	}
	table_free(&batch);
	free(held);
	free(sent);
	if (support.col >= 0)
		split_support(&si->rows, 1);
}

void
stage_release_column(stage_input *si, const char *name)
{
	int c = table_find(&si->rows, name);

	if (c < 0 || si->apart == NULL || table_find(passing_schema(si->apart), name) < 0)
		die("internal error: '%s' is not a column held once", name);
	table_release_column(&si->rows, c);
}

/* A batch through a stage that sees the rows inside the support: fn on
 * those, then the batch written with the rows outside in their places. */
static void
stream_batch_inside(stage_input *si, stream_out *out, stage_batch_fn fn, void *ctx)
{
	size_t first = support.seen, before = support.noutside;
	const uint8_t *in = si->rows.cols[support.col].data;
	int all_inside = 1;
	table whole, all;

	for (size_t r = 0; r < si->rows.nrows && all_inside; r++)
		all_inside = in[r] == 1;
	if (all_inside) { /* most batches: nothing to take out or put back */
		support.seen += si->rows.nrows;
		fn(&si->rows, ctx);
		stream_out_rows(out, &si->rows, 0, si->rows.nrows);
		return;
	}
	table_init(&whole);
	table_copy_schema(&whole, &si->rows);
	table_append_rows(&whole, &si->rows, 0, si->rows.nrows);
	split_support(&si->rows, 0);
	fn(&si->rows, ctx);
	merge_support(&all, &si->rows, &whole, first, support.outside + before,
	    support.noutside - before, 1);
	stream_out_rows(out, &all, 0, all.nrows);
	table_free(&all);
	table_free(&whole);
}

stream_out *
stage_stream(stage_input *si, const cli_common *cli, const stream_head *head,
    stage_batch_fn fn, void *ctx)
{
	stream_out *out = si->out = stream_out_open(cli->out, &cli->io, cli->batch_rows);
	mpraw raw;

	stream_out_head(out, head);
	for (;;) {
		stream_event ev;

		si->rows.nrows = 0;
		ev = stream_in_next(si->in, &si->rows, &raw);
		if (ev == STREAM_END)
			return out;
		if (ev == STREAM_RESULT) {
			stream_out_raw(out, raw.bytes, raw.len);
			rawlist_add(&si->results, &raw); /* for what the stage reads at the end */
		} else if (support.col < 0) {
			fn(&si->rows, ctx);
			stream_out_rows(out, &si->rows, 0, si->rows.nrows);
		} else
			stream_batch_inside(si, out, fn, ctx);
	}
}

void
stage_input_free(stage_input *si)
{
	if (support.col >= 0)
		table_free(&support.rows);
	free(support.outside);
	free(support.keep);
	free(support.at);
	support.outside = support.at = NULL;
	support.keep = NULL;
	support.noutside = support.cap = support.keep_cap = support.seen = 0;
	support.col = -1;
	table_free(&si->rows);
	passing_free(si->apart);
	si->apart = NULL;
	rawlist_free(&si->results);
	stream_in_free(si->in);
	si->in = NULL;
}

static void
list_columns(const table *schema, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < schema->ncols && off + 4 < size; i++) {
		int n = snprintf(buf + off, size - off, "%s%s", i ? ", " : "",
		    schema->cols[i].name);

		if (n < 0 || (size_t)n >= size - off) {
			snprintf(buf + (size > 5 ? size - 5 : 0), 5, "...");
			break;
		}
		off += (size_t)n;
	}
	if (schema->ncols == 0)
		snprintf(buf, size, "none");
}

int
stage_column(const table *schema, const char *name, const char *role,
    const char *option)
{
	int i = table_find(schema, name);
	char cols[512];

	if (i >= 0)
		return i;
	list_columns(schema, cols, sizeof cols);
	die("%s column '%s' is not in the stream (it has: %s): check %s", role, name,
	    cols, option);
}

int
stage_numeric_column(const table *schema, const char *name, const char *role,
    const char *option)
{
	int i = stage_column(schema, name, role, option);
	const column *c = &schema->cols[i];

	if (!column_is_numeric(c) && strcmp(role, "treatment") == 0 && c->nlevels == 2)
		die_usage("treatment column '%s' is text (levels %s, %s): name the treated "
		    "level, -t %s=%s", name, c->levels[0], c->levels[1], name, c->levels[1]);
	if (!column_is_numeric(c))
		die("%s column '%s' is categorical (cat), but must be numeric: "
		    "check %s", role, name, option);
	return i;
}

void
stage_check_roles(const stream_head *h)
{
	if (h->treatment && h->outcome && strcmp(h->treatment, h->outcome) == 0)
		die_usage("-t and -y both name '%s': the treatment and the outcome must be "
		    "two columns", h->treatment);
	if (h->ps && ((h->treatment && strcmp(h->ps, h->treatment) == 0) ||
	    (h->outcome && strcmp(h->ps, h->outcome) == 0)))
		die_usage("--ps names '%s', which is the %s", h->ps,
		    h->treatment && strcmp(h->ps, h->treatment) == 0 ? "treatment" : "outcome");
	for (int i = 0; i < h->ncovariates; i++) {
		const char *role = h->treatment && strcmp(h->covariates[i], h->treatment) == 0 ?
		    "treatment (-t)" : h->outcome && strcmp(h->covariates[i], h->outcome) == 0 ?
		    "outcome (-y)" : NULL;

		if (role)
			die_usage("-x names '%s', which is the %s: a covariate must be measured "
			    "before the treatment, not be it or its result", h->covariates[i], role);
	}
}

const char *
stage_role(const char *value, const char *role, const char *option)
{
	if (value == NULL)
		die("no %s column: name it with %s (or at an earlier stage)", role,
		    option);
	return value;
}

void
stage_die_treatment_value(const char *name, size_t row, double v)
{
	if (isnan(v))
		die("treatment column '%s' is missing at %s: remove such "
		    "rows upstream (fitps --drop-missing drops and counts them)",
		    name, stage_row(row));
	die("treatment column '%s' has the value %g at %s: it must be 0 or 1",
	    name, v, stage_row(row));
}

void
stage_die_groups(const char *name, size_t n, size_t treated)
{
	if (n == 0)
		die("the stream has no rows: nothing to estimate");
	if (treated == 0)
		die("no unit is treated (%s is 0 in all %zu rows): no effect can be "
		    "estimated", name, n);
	die("every unit is treated (%s is 1 in all %zu rows): there is no "
	    "control group", name, n);
}

void
stage_treatment(const column *c, size_t n, uint8_t *t)
{
	size_t treated = 0;

	if (!column_is_numeric(c) && c->nlevels == 2)
		die_usage("treatment column '%s' is text (levels %s, %s): name the treated "
		    "level, -t %s=%s", c->name, c->levels[0], c->levels[1], c->name, c->levels[1]);
	if (!column_is_numeric(c))
		die("treatment column '%s' is categorical: it must hold 0/1 "
		    "(or true/false), or be text of two levels (-t COL=LEVEL)", c->name);
	for (size_t r = 0; r < n; r++) {
		double v = column_f64(c, r);

		if (v != 0 && v != 1) /* NaN too */
			stage_die_treatment_value(c->name, r, v);
		t[r] = (uint8_t)v;
		treated += t[r];
	}
	if (n == 0 || treated == 0 || treated == n)
		stage_die_groups(c->name, n, treated);
}

void
stage_die_nonfinite(const char *role, const char *name, size_t count, size_t first)
{
	die("%s column '%s' has %zu missing, NaN or infinite values (the first "
	    "at %s): remove or impute them upstream (fitps --drop-missing "
	    "drops and counts them)", role, name, count, stage_row(first));
}

void
treatment_check_init(treatment_check *c)
{
	memset(c, 0, sizeof *c);
	c->bad_row = SIZE_MAX;
}

int
treatment_check_batch(treatment_check *c, const column *col, size_t n,
    double *scratch, uint8_t *t)
{
	column_to_f64(col, n, scratch);
	for (size_t r = 0; r < n; r++) {
		double v = scratch[r];

		if (v != 0 && v != 1) { /* NaN too */
			if (c->bad_row == SIZE_MAX)
				c->bad_row = c->rows + r, c->bad_value = v;
			v = 0;
		}
		t[r] = (uint8_t)v;
		c->treated += t[r];
	}
	c->rows += n;
	return c->bad_row != SIZE_MAX;
}

void
treatment_check_end(const treatment_check *c, const char *name)
{
	if (c->bad_row != SIZE_MAX)
		stage_die_treatment_value(name, c->bad_row, c->bad_value);
	if (c->rows == 0 || c->treated == 0 || c->treated == c->rows)
		stage_die_groups(name, c->rows, c->treated);
}

int
finite_check_batch(finite_check *c, const double *x, size_t n, size_t row0)
{
	for (size_t r = 0; r < n; r++)
		if (!(fabs(x[r]) <= STAGE_MAX_MAGNITUDE)) {
			if (!isfinite(x[r])) {
				if (c->bad++ == 0)
					c->first = row0 + r;
			} else if (c->huge++ == 0) {
				c->huge_first = row0 + r;
				c->huge_value = x[r];
			}
		}
	return c->bad != 0 || c->huge != 0;
}

void
finite_check_end(const finite_check *c, const char *role, const char *name)
{
	if (c->bad)
		stage_die_nonfinite(role, name, c->bad, c->first);
	if (c->huge)
		die("%s column '%s' has %zu value%s past 1e100 in magnitude (the first, %g, at "
		    "%s): sums of their squares overflow, so no SE would be right; "
		    "rescale the column (e.g. in thousands)", role, name, c->huge,
		    c->huge == 1 ? "" : "s", c->huge_value, stage_row(c->huge_first));
}

/* Dies naming the first of n values that is missing or not finite. */
static void
finite_or_die(const double *x, size_t n, const char *role, const char *name)
{
	finite_check fc = { 0 };

	finite_check_batch(&fc, x, n, 0);
	finite_check_end(&fc, role, name);
}

void
stage_finite(const column *c, size_t n, double *out, const char *role)
{
	if (!column_is_numeric(c))
		die("%s column '%s' is categorical, but must be numeric", role, c->name);
	column_to_f64(c, n, out);
	finite_or_die(out, n, role, c->name);
}

struct stage_writer {
	stream_out *out;
	const stream_head *head;
	const table *rows;
	passing *apart;    /* stage_write_held: the columns kept apart */
	size_t batch_rows;
	pthread_t thread;
	int threaded;
};

/* The rows of stage_write_held, a batch at a time in head's order of
 * columns: each column from the rows held (with the rows outside the
 * support back in place) or from those kept apart. A batch with no row
 * outside is written from where its columns lie, as stream_out_rows
 * writes a table; one with rows outside is put together first. */
static void
write_assembled(stage_writer *w)
{
	const table *schema = &w->head->schema, *rows = w->rows;
	int nc = schema->ncols;
	size_t total = rows->nrows + support.noutside, batch = w->batch_rows, j = 0;
	column *view = xcalloc((size_t)nc + 1, sizeof *view);
	int *from = xcalloc((size_t)nc + 1, sizeof *from); /* >= 0: held; else apart -1 - k */
	char **buf = xcalloc((size_t)nc + 1, sizeof *buf);
	table t = { .cols = view, .ncols = nc };

	if (total != passing_nrows(w->apart))
		die("internal error: %zu rows held and outside, %zu kept apart", total,
		    passing_nrows(w->apart));
	for (int c = 0; c < nc; c++) {
		int k = table_find(passing_schema(w->apart), schema->cols[c].name);

		if (k >= 0)
			k = -1 - k;
		else if ((k = table_find(rows, schema->cols[c].name)) < 0)
			die("internal error: the column '%s' is neither held nor kept apart",
			    schema->cols[c].name);
		from[c] = k;
		view[c] = (column){ .name = schema->cols[c].name, .type = schema->cols[c].type };
		buf[c] = xreallocarray(NULL, batch + 1, coltype_width(view[c].type));
	}
	for (size_t first = 0; first < total;) {
		size_t take = total - first < batch ? total - first : batch, end = j;

		while (end < support.noutside && support.outside[end] < first + take)
			end++;
		for (int c = 0; c < nc; c++) {
			size_t wd = coltype_width(view[c].type);

			if (from[c] < 0)
				view[c].data = (void *)passing_rows(w->apart, -1 - from[c], first, take,
				    buf[c]);
			else if (end == j)
				view[c].data = (char *)rows->cols[from[c]].data + (first - j) * wd;
			else {
				/* rows inside and outside, in their places */
				const column *in = &rows->cols[from[c]];
				size_t i = first - j, o = j;

				view[c].data = buf[c];
				for (size_t r = 0; r < take; r++) {
					char *to = buf[c] + r * wd;

					if (o < end && support.outside[o] == first + r) {
						if (from[c] < support.ninput)
							memcpy(to, (const char *)support.rows.cols[from[c]].data +
							    o * wd, wd);
						else
							outside_value(&view[c], r);
						o++;
					} else
						memcpy(to, (const char *)in->data + i++ * wd, wd);
				}
			}
		}
		stream_out_rows(w->out, &t, 0, take);
		first += take;
		j = end;
	}
	for (int c = 0; c < nc; c++)
		free(buf[c]);
	free(buf);
	free(from);
	free(view);
}

/* The rows, with those outside the common support back in place. */
static void *
write_rows(void *arg)
{
	stage_writer *w = arg;

	if (w->apart)
		write_assembled(w);
	else if (support.noutside && support.rows.ncols) {
		table all;

		merge_support(&all, w->rows, &support.rows, 0, support.outside, support.noutside, 0);
		stream_out_rows(w->out, &all, 0, all.nrows);
		table_free(&all);
	} else
		stream_out_rows(w->out, w->rows, 0, w->rows->nrows);
	return NULL;
}

static stage_writer *
writer_open(const cli_common *cli, const stream_head *head, const table *rows)
{
	stage_writer *w = xcalloc(1, sizeof *w);

	w->out = stream_out_open(cli->out, &cli->io, cli->batch_rows);
	w->head = head;
	w->rows = rows;
	w->batch_rows = cli->batch_rows;
	stream_out_head(w->out, head);
	return w;
}

static stage_writer *
writer_start(stage_writer *w)
{
	/* a thread that cannot be made leaves the rows to the second half:
	 * the same bytes, only later */
	w->threaded = pthread_create(&w->thread, NULL, write_rows, w) == 0;
	return w;
}

stage_writer *
stage_write_rows(const cli_common *cli, const stream_head *head, const table *rows)
{
	return writer_start(writer_open(cli, head, rows));
}

stage_writer *
stage_write_held(const cli_common *cli, const stream_head *head, const stage_input *si)
{
	stage_writer *w = writer_open(cli, head, &si->rows);

	w->apart = si->apart;
	return writer_start(w);
}

void
stage_write_results(stage_writer *w, const rawlist *upstream, mpseq *const *results,
    int nresults)
{
	if (w->threaded)
		pthread_join(w->thread, NULL);
	else
		write_rows(w);
	for (int i = 0; upstream && i < upstream->n; i++)
		stream_out_raw(w->out, upstream->items[i].bytes, upstream->items[i].len);
	for (int i = 0; i < nresults; i++)
		stream_out_map(w->out, results[i]);
	stream_out_end(w->out);
	free(w);
}

void
stage_write(const cli_common *cli, const stream_head *head, const table *rows,
    const rawlist *upstream, mpseq *const *results, int nresults)
{
	stage_write_results(writer_open(cli, head, rows), upstream, results, nresults);
}

void
stage_die_ps_range(const char *name, size_t row, double v)
{
	die("propensity column '%s' has %g at %s: a propensity must lie in "
	    "[0, 1]", name, v, stage_row(row));
}

/* Dies at the first propensity outside [0, 1]. */
static void
ps_in_range(const column *c, const double *ps, size_t n)
{
	for (size_t r = 0; r < n; r++)
		if (ps[r] < 0 || ps[r] > 1)
			stage_die_ps_range(c->name, r, ps[r]);
}

void
stage_ps(const column *c, size_t n, double *out)
{
	stage_finite(c, n, out, "propensity");
	ps_in_range(c, out, n);
}

void
stage_arrays_get(stage_input *si, const char *treatment, const char *outcome,
    const char *ps, int need_ps, stage_arrays *a)
{
	stream_head *h = si->head;
	int ti, yi, pi = -1;

	stream_head_set_role(&h->treatment, treatment);
	stream_head_set_role(&h->outcome, outcome);
	stream_head_set_role(&h->ps, ps);
	stage_check_roles(h);
	ti = stage_numeric_column(&si->rows,
	    stage_role(h->treatment, "treatment", "-t"), "treatment", "-t");
	yi = stage_numeric_column(&si->rows,
	    stage_role(h->outcome, "outcome", "-y"), "outcome", "-y");
	if (need_ps)
		pi = stage_numeric_column(&si->rows, stage_role(h->ps, "propensity "
		    "(run fitps first)", "--ps"), "propensity", "--ps");
	memset(a, 0, sizeof *a);
	a->n = si->rows.nrows;
	a->t = xmalloc(a->n + 1);
	a->y = xreallocarray(NULL, a->n + 1, sizeof *a->y);
	stage_treatment(&si->rows.cols[ti], a->n, a->t);
	stage_finite(&si->rows.cols[yi], a->n, a->y, "outcome");
	if (pi >= 0) {
		const column *c = &si->rows.cols[pi];

		if (c->type == COL_F64) {
			a->ps = c->data;
			finite_or_die(a->ps, a->n, "propensity", c->name);
			ps_in_range(c, a->ps, a->n);
		} else {
			a->ps = a->ps_copy = xreallocarray(NULL, a->n + 1, sizeof *a->ps_copy);
			stage_ps(c, a->n, a->ps_copy);
		}
	}
}

void
stage_arrays_free(stage_arrays *a)
{
	free(a->t);
	free(a->y);
	free(a->ps_copy);
	memset(a, 0, sizeof *a);
}

/* Is a group's share outside the band past the warning's mark? */
static int
positivity_poor(const ipw_positivity *p)
{
	return ipw_positivity_share(p, 1) > POSITIVITY_WARN ||
	    ipw_positivity_share(p, 0) > POSITIVITY_WARN;
}

void
stage_positivity(mpseq *result, const ipw_positivity *p)
{
	mpseq pos, outside;

	mpseq_map(&pos);
	mpseq_f64_pair(&pos, "band", p->lo, p->hi);
	mpseq_map(&outside);
	mpseq_f64(&outside, "treated", ipw_positivity_share(p, 1));
	mpseq_f64(&outside, "control", ipw_positivity_share(p, 0));
	mpseq_take(&pos, "outside", &outside);
	mpseq_bool(&pos, "warning", positivity_poor(p));
	mpseq_take(result, "positivity", &pos);
}

void
stage_positivity_warn(const ipw_positivity *p, int quiet)
{
	if (!quiet && positivity_poor(p))
		err_warn("warning: positivity: %.1f%% of the treated and %.1f%% of the controls "
		    "have a propensity outside [%g, %g]: there the groups hardly overlap, "
		    "weights get large and matches far; weight --trim auto leaves such "
		    "units out (Crump et al.'s rule)", 100 * ipw_positivity_share(p, 1),
		    100 * ipw_positivity_share(p, 0), p->lo, p->hi);
}

void
stage_ps_hist(mpseq *result, const pshist *h)
{
	mpseq hist, group;
	int first, last;
	static const char *const names[2] = { "control", "treated" };

	if (pshist_span(h, &first, &last) != 0)
		return;
	mpseq_map(&hist);
	mpseq_i64(&hist, "bins", PSHIST_BINS);
	mpseq_i64(&hist, "first", first);
	for (int g = 1; g >= 0; g--) {
		mpseq_array(&group);
		for (int b = first; b <= last; b++)
			mp_pack_f64(mpseq_item(&group), h->sum[g][b]);
		mpseq_take(&hist, names[g], &group);
	}
	mpseq_take(result, "ps_hist", &hist);
}

char *
stage_covariate_spec(const stream_head *h)
{
	size_t len = 1;
	char *spec;

	if (h->ncovariates == 0)
		return NULL;
	for (int i = 0; i < h->ncovariates; i++)
		len += strlen(h->covariates[i]) + 1;
	spec = xcalloc(len, 1);
	for (int i = 0; i < h->ncovariates; i++) {
		if (i)
			strcat(spec, ",");
		strcat(spec, h->covariates[i]);
	}
	return spec;
}

int
spec_names_column(const char *spec, const char *column)
{
	size_t len = strlen(column);

	for (const char *p = spec; *p;) {
		size_t item = strcspn(p, ",:*");

		if (item == len && strncmp(p, column, len) == 0)
			return 1;
		p += item;
		if (*p)
			p++;
	}
	return 0;
}

int
stage_spec_design(const char *spec, const table *rows, const char *origin, design *d,
    double **X, char *why, size_t whylen)
{
	design own;
	int p;

	if (d == NULL)
		d = &own;
	if (design_from_spec(d, spec, rows, origin, why, whylen) != DESIGN_OK)
		return -1;
	p = d->nterms + 1;
	*X = xreallocarray(NULL, rows->nrows + 1, (size_t)p * sizeof **X);
	if (design_matrix(d, rows, rows->nrows, *X, why, whylen) != 0) {
		free(*X);
		*X = NULL;
		design_free(d);
		return -1;
	}
	if (d == &own)
		design_free(&own);
	return p;
}

int
stage_design_block(void *ctx, size_t first, size_t count, double *X)
{
	stage_design_blocks *b = ctx;
	char why[sizeof b->why];
	int rc = design_matrix_rows(b->d, b->rows, first, count, X, why, sizeof why);

	if (rc != 0 && atomic_exchange(&b->taken, 1) == 0)
		strcpy(b->why, why);
	return rc;
}

int
stage_binary(const double *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (y[i] != 0 && y[i] != 1)
			return 0;
	return 1;
}

/* The recipe's last fitps entry, unpacked into u (destroyed by the
 * caller, whatever the answer), or NULL. */
static const msgpack_object *
last_fitps_entry(const stream_head *h, msgpack_unpacked *u)
{
	msgpack_unpacked_init(u);
	for (int i = h->nrecipe - 1; i >= 0; i--) {
		msgpack_unpacked_destroy(u); /* the entry before, not fitps's */
		mpraw_unpack(&h->recipe[i], u);
		if (mpo_is_str(mpo_get(&u->data, "stage"), "fitps"))
			return &u->data;
	}
	return NULL;
}

char *
stage_ps_model_spec(const stream_head *h)
{
	msgpack_unpacked u;
	const msgpack_object *entry = last_fitps_entry(h, &u);
	char *spec = entry ? mpo_strdup(mpo_get(entry, "covariates")) : NULL;

	msgpack_unpacked_destroy(&u);
	return spec;
}

int
stage_ps_model(const stream_head *h, const char *ps, const table *schema, design *d,
    double *C, const char **why_not)
{
	msgpack_unpacked u;
	const msgpack_object *entry = NULL, *l2;
	char why[512], *spec = NULL;
	int rc = -1, present;
	design_fills fills = { 0 };

	*why_not = "the propensities' model is not in the recipe";
	*C = 0;
	entry = last_fitps_entry(h, &u);
	if (entry && (mpo_get(entry, "learner") || mpo_get(entry, "model")))
		*why_not = "the propensities came from a boosted or saved model";
	else if (entry && (!mpo_is_str(mpo_get(entry, "ps"), ps ? ps : "") ||
	    (spec = mpo_strdup(mpo_get(entry, "covariates"))) == NULL))
		*why_not = "the propensity column is not the recipe's fitps model's";
	else if (entry && stage_recipe_fills(entry, "fitps", &fills, &present, why,
	    sizeof why) != 0)
		*why_not = "the recipe's fitps entry has corrupt missing_fills";
	else if (entry && design_from_spec(d, spec, schema, "the recipe's fitps entry", why,
	    sizeof why) != DESIGN_OK)
		*why_not = "the recipe's fitps model does not fit the stream's columns";
	else if (entry) {
		design_apply_fills(d, &fills);
		l2 = mpo_get(entry, "l2");
		if (l2 == NULL || mpo_number(l2, C) != 0)
			*C = 0;
		rc = 0;
	}
	free(spec);
	design_fills_free(&fills);
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
stage_recipe_fills(const msgpack_object *e, const char *stage, design_fills *f, int *present,
    char *why, size_t whylen)
{
	const msgpack_object *o = mpo_get(e, "missing_fills");

	memset(f, 0, sizeof *f);
	*present = o != NULL;
	if (o == NULL)
		return 0;
	if (o->type != MSGPACK_OBJECT_MAP)
		goto bad;
	/* checked whole before anything is copied: a refusal loses nothing */
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		double v;

		if (kv->key.type != MSGPACK_OBJECT_STR || (kv->key.via.str.size &&
		    memchr(kv->key.via.str.ptr, '\0', kv->key.via.str.size)) ||
		    (kv->val.type != MSGPACK_OBJECT_NIL && mpo_number(&kv->val, &v) != 0))
			goto bad;
	}
	f->cols = xcalloc(o->via.map.size + 1, sizeof *f->cols);
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		design_fill *c = &f->cols[f->n++];

		c->column = mpo_strdup(&kv->key);
		c->numeric = kv->val.type != MSGPACK_OBJECT_NIL;
		if (c->numeric)
			mpo_number(&kv->val, &c->fill);
	}
	return 0;
bad:
	snprintf(why, whylen, "the recipe's %s entry has a 'missing_fills' that is not a map "
	    "of column to a number or nil", stage);
	return -1;
}

void
stage_dropped_open(stage_dropped *d, const char *path, const char *id_col,
    const table *schema)
{
	memset(d, 0, sizeof *d);
	d->idc = -1;
	if (path == NULL)
		return;
	if (id_col && (d->idc = table_find(schema, id_col)) < 0)
		die("--dropped-id: no column '%s' in the stream", id_col);
	if ((d->f = fopen(path, "w")) == NULL)
		die("--dropped: cannot write %s:", path);
	d->path = path;
	d->lines = source.lines;
	d->first_line = source.first_line;
	fprintf(d->f, "row,line,%s%sreason\n", d->idc >= 0 ? id_col : "",
	    d->idc >= 0 ? "," : "");
}

void
stage_dropped_row(stage_dropped *d, const table *rows, size_t r, size_t stream_row,
    const char *reason)
{
	if (d->f == NULL)
		return;
	fprintf(d->f, "%zu,", stream_row);
	if (d->lines)
		fprintf(d->f, "%lld", (long long)(d->first_line + (int64_t)stream_row));
	fputc(',', d->f);
	if (d->idc >= 0) {
		csv_write_cell(d->f, &rows->cols[d->idc], r);
		fputc(',', d->f);
	}
	fprintf(d->f, "\"%s\"\n", reason);
	d->count++;
}

void
stage_dropped_close(stage_dropped *d)
{
	if (d->f == NULL)
		return;
	if (fflush(d->f) != 0 || ferror(d->f) || fclose(d->f) != 0)
		die("--dropped: writing %s:", d->path);
	d->f = NULL;
}

static const stage_outcomes *current_outcomes;

const stage_outcomes *
stage_outcomes_current(void)
{
	return current_outcomes;
}

void
stage_outcomes_get(stage_input *si, const char *option, stage_outcomes *o)
{
	stream_head *h = si->head;
	const char *list = option ? option : h->outcome;
	const char *p = list;

	memset(o, 0, sizeof *o);
	p = list = stage_role(list, "outcome", "-y");
	while (p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char *name = xstrndup(p, len);

		if (len == 0)
			die_usage("-y %s has an empty name", list);
		for (int i = 0; i < o->n; i++)
			if (strcmp(o->names[i], name) == 0)
				die_usage("-y names '%s' twice", name);
		o->names = xreallocarray(o->names, (size_t)o->n + 1, sizeof *o->names);
		o->cols = xreallocarray(o->cols, (size_t)o->n + 1, sizeof *o->cols);
		o->names[o->n] = name;
		o->cols[o->n] = stage_numeric_column(&si->rows, name, "outcome", "-y");
		o->n++;
		p = comma ? comma + 1 : NULL;
	}
	for (int i = 1; i < o->n; i++) {
		if ((h->treatment && strcmp(o->names[i], h->treatment) == 0) ||
		    (h->ps && strcmp(o->names[i], h->ps) == 0))
			die_usage("-y names '%s', which is the %s", o->names[i],
			    h->treatment && strcmp(o->names[i], h->treatment) == 0 ?
			    "treatment" : "propensity");
		for (int c = 0; c < h->ncovariates; c++)
			if (strcmp(h->covariates[c], o->names[i]) == 0)
				die_usage("-x names '%s', which is an outcome (-y): a covariate must "
				    "be measured before the treatment, not be it or its result",
				    o->names[i]);
	}
	stream_head_set_role(&h->outcome, o->names[0]);
	current_outcomes = o;
}

void
stage_outcomes_free(stage_outcomes *o)
{
	for (int i = 0; i < o->n; i++)
		free(o->names[i]);
	free(o->names);
	free(o->cols);
	if (current_outcomes == o)
		current_outcomes = NULL;
	memset(o, 0, sizeof *o);
}

void
stage_result_begin(mpseq *m, const char *stage, const char *name, const stage_outcomes *o,
    int k)
{
	char full[512];

	if (o == NULL || o->n < 2) {
		result_begin(m, stage, name);
		return;
	}
	if (k == 0)
		snprintf(full, sizeof full, "%s", name);
	else
		snprintf(full, sizeof full, "%s.%s", name, o->names[k]);
	result_begin(m, stage, full);
	mpseq_str(m, "outcome", o->names[k]);
}

int
stage_outcome_list_has(const stage_outcome_list *l, const char *column)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->names[i], column) == 0)
			return 1;
	return 0;
}

static void
outcome_add(stage_outcome_list *l, const char *name)
{
	if (stage_outcome_list_has(l, name))
		return;
	l->names = xreallocarray(l->names, (size_t)l->n + 1, sizeof *l->names);
	l->names[l->n++] = xstrdup(name);
}

void
stage_recipe_outcomes(const stream_head *h, const char *role, stage_outcome_list *l)
{
	memset(l, 0, sizeof *l);
	if (role)
		outcome_add(l, role);
	for (int i = 0; i < h->nrecipe; i++) {
		msgpack_unpacked u;
		const msgpack_object *list;

		mpraw_unpack(&h->recipe[i], &u);
		list = mpo_get(&u.data, "outcomes");
		for (uint32_t k = 0; list && list->type == MSGPACK_OBJECT_ARRAY &&
		    k < list->via.array.size; k++) {
			char *name = mpo_strdup(&list->via.array.ptr[k]);

			if (name)
				outcome_add(l, name);
			free(name);
		}
		msgpack_unpacked_destroy(&u);
	}
}

void
stage_outcome_list_free(stage_outcome_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	memset(l, 0, sizeof *l);
}
