/* jsonl2mp — JSON Lines (one object per line, as event exports write them)
 * to a psflow stream.
 *
 * Contract: two passes over the text (held in memory): the first finds the
 * columns (every key of every object, in order of first appearance) and
 * their types from their values (whole numbers i64, other numbers f64,
 * true/false bool, strings cat with their levels sorted byte-wise, strings
 * that are all ISO dates i64 days since 1970-01-01, or dates with times f64
 * days), the second writes the rows a batch at a time. null and a key an
 * object lacks are missing values. Blank lines are skipped; a line that is
 * not an object, a nested object or array, or a string among numbers stops
 * it, naming the line and key. Parsing is jansson's. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bigmem.h"
#include "civil.h"
#include "cli.h"
#include "csv.h"
#include "err.h"
#include "levelset.h"
#include "stream.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: jsonl2mp [-t COL] [-y COL] [-x COLS] [stream options] [FILE]\n"
    "\n"
    "Converts JSON Lines (one JSON object per line; default: stdin) to a psflow\n"
    "stream. The columns are the objects' keys; their types come from the\n"
    "values: whole numbers i64, other numbers f64, true/false bool, strings cat,\n"
    "ISO dates i64 (days since 1970-01-01), dates with times f64 (days). null\n"
    "and a missing key are missing values.\n"
    "\n"
    CLI_ROLE_HELP
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  jsonl2mp events.jsonl -t opted_in -y completed -x plan | fitps | report\n";

enum { SEEN_INT = 1, SEEN_REAL = 2, SEEN_BOOL = 4, SEEN_TEXT = 8, SEEN_DATE = 16,
	SEEN_TIME = 32, SEEN_PLAIN = 64 };

typedef struct {
	char *name;
	unsigned seen;
	coltype type;
	int dates; /* 0, or days (1) or times (2) from text */
	levelset levels;
} jcol;

typedef struct {
	jcol *cols;
	int n;
} jcols;

static int
col_index(jcols *c, const char *key, int add)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->cols[i].name, key) == 0)
			return i;
	if (!add)
		return -1;
	c->cols = xreallocarray(c->cols, (size_t)c->n + 1, sizeof *c->cols);
	memset(&c->cols[c->n], 0, sizeof c->cols[c->n]);
	c->cols[c->n].name = xstrdup(key);
	levelset_init(&c->cols[c->n].levels);
	return c->n++;
}

/* The next line's [start, end); 0 at the end of the text. */
static int
next_line(const char *text, size_t len, size_t *pos, size_t *start, size_t *end)
{
	const char *nl;

	if (*pos >= len)
		return 0;
	*start = *pos;
	nl = memchr(text + *pos, '\n', len - *pos);
	*end = nl ? (size_t)(nl - text) : len;
	*pos = *end + 1;
	if (*end > *start && text[*end - 1] == '\r')
		(*end)--;
	return 1;
}

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

static json_t *
parse_line(const char *text, size_t start, size_t end, size_t line, const char *path)
{
	json_error_t err;
	json_t *o = json_loadb(text + start, end - start, JSON_REJECT_DUPLICATES, &err);

	if (o == NULL)
		die("%s, line %zu: %s (column %d)", path, line, err.text, err.column);
	if (!json_is_object(o)) {
		json_decref(o);
		die("%s, line %zu: a JSON object {...} per line, not another value", path, line);
	}
	return o;
}

/* Pass 1: each key's kinds of value, and its strings. */
static void
note_value(jcol *c, json_t *v, size_t line, const char *path)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		c->seen |= SEEN_BOOL;
		break;
	case JSON_INTEGER:
		if (json_integer_value(v) == INT64_MIN)
			die("%s, line %zu, key '%s': -9223372036854775808 is the one 64-bit whole "
			    "number a stream keeps for a missing value", path, line, c->name);
		c->seen |= SEEN_INT;
		break;
	case JSON_REAL:
		c->seen |= SEEN_REAL;
		break;
	case JSON_STRING: {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		int64_t d;
		double t;

		if (memchr(s, '\0', n))
			die("%s, line %zu, key '%s': a string with a NUL byte", path, line, c->name);
		c->seen |= SEEN_TEXT;
		if (civil_parse_date(s, n, &d) == 0)
			c->seen |= SEEN_DATE;
		else if (civil_parse_datetime(s, n, &t) == 0)
			c->seen |= SEEN_TIME;
		else
			c->seen |= SEEN_PLAIN;
		levelset_add(&c->levels, s, n);
		break;
	}
	default:
		die("%s, line %zu, key '%s': a nested object or array: psflow reads flat rows "
		    "(flatten it first, e.g. jq '{id, plan: .user.plan}')", path, line, c->name);
	}
}

static void
settle(jcol *c, const char *path)
{
	unsigned numbers = c->seen & (SEEN_INT | SEEN_REAL);

	if ((c->seen & SEEN_TEXT) && (numbers || (c->seen & SEEN_BOOL)))
		die("%s, key '%s': strings among %s: one column holds one kind of value", path,
		    c->name, numbers ? "numbers" : "true/false values");
	if ((c->seen & SEEN_BOOL) && numbers)
		die("%s, key '%s': true/false among numbers: one column holds one kind of value",
		    path, c->name);
	if (c->seen & SEEN_TEXT) {
		if (!(c->seen & SEEN_PLAIN)) {
			c->dates = c->seen & SEEN_TIME ? 2 : 1;
			c->type = c->dates == 1 ? COL_I64 : COL_F64;
		} else {
			c->type = COL_CAT;
			levelset_sort(&c->levels);
		}
	} else if (c->seen & SEEN_BOOL)
		c->type = COL_BOOL;
	else if (c->seen & SEEN_REAL || !c->seen)
		c->type = COL_F64;
	else
		c->type = COL_I64;
}

/* Pass 2: one object into row k of the batch. */
static void
fill_row(const jcols *jc, table *rows, size_t k, json_t *o, size_t line, const char *path)
{
	for (int i = 0; i < jc->n; i++) {
		const jcol *c = &jc->cols[i];
		column *col = &rows->cols[i];
		json_t *v = json_object_get(o, c->name);

		if (v == NULL || json_is_null(v))
			continue; /* the batch was filled with missing values */
		switch (col->type) {
		case COL_F64:
			if (c->dates) {
				civil_parse_datetime(json_string_value(v), json_string_length(v),
				    &((double *)col->data)[k]);
			} else
				((double *)col->data)[k] = json_number_value(v);
			break;
		case COL_I64:
			if (c->dates)
				civil_parse_date(json_string_value(v), json_string_length(v),
				    &((int64_t *)col->data)[k]);
			else
				((int64_t *)col->data)[k] = json_integer_value(v);
			break;
		case COL_BOOL:
			((uint8_t *)col->data)[k] = json_is_true(v);
			break;
		case COL_CAT:
			((int32_t *)col->data)[k] = (int32_t)levelset_find(&c->levels,
			    json_string_value(v), json_string_length(v));
			break;
		}
		if (col->type == COL_F64 && !isfinite(((double *)col->data)[k]))
			die("%s, line %zu, key '%s': a number past a double's range", path, line, c->name);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_ROLE_LONGOPTS,
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	cli_common cli;
	cli_roles roles = { 0 };
	const char *path = "-";
	char *text;
	size_t len, cap, pos = 0, start, end, line = 0, k = 0;
	jcols jc = { 0 };
	stream_head head;
	stream_out *out;
	table rows;
	int opt;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "h" CLI_ROLE_SHORTOPTS, longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_IN: path = optarg; break;
		default:
			if (!cli_role_option(&roles, opt, optarg))
				cli_other_option(&cli, opt, optarg, usage_text);
		}
	}
	if (optind < argc)
		path = argv[optind++];
	cli_no_operands(argc, argv);
	text = slurp(path, &len, &cap);
	csv_check_text(text, len, path);
	while (next_line(text, len, &pos, &start, &end)) {
		json_t *o;
		const char *key;
		json_t *v;

		line++;
		if (blank(text + start, end - start))
			continue;
		o = parse_line(text, start, end, line, strcmp(path, "-") ? path : "stdin");
		json_object_foreach(o, key, v) {
			int ci = col_index(&jc, key, 1); /* (before jc.cols is read: it may move) */

			note_value(&jc.cols[ci], v, line, strcmp(path, "-") ? path : "stdin");
		}
		json_decref(o);
	}
	if (jc.n == 0)
		die("%s holds no objects with keys: nothing to convert", strcmp(path, "-") ? path : "stdin");
	stream_head_init(&head);
	for (int i = 0; i < jc.n; i++) {
		settle(&jc.cols[i], strcmp(path, "-") ? path : "stdin");
		table_add_column(&head.schema, jc.cols[i].name, jc.cols[i].type,
		    jc.cols[i].type == COL_CAT ? jc.cols[i].levels.texts : NULL,
		    jc.cols[i].type == COL_CAT ? (int)jc.cols[i].levels.n : 0);
		if (jc.cols[i].dates && !cli.quiet)
			err_warn("note: key '%s' holds dates: read as days since 1970-01-01",
			    jc.cols[i].name);
	}
	cli_roles_to_head(&roles, &head);
	out = stream_out_open(cli.out, &cli.io, cli.batch_rows);
	stream_out_head(out, &head);
	table_init(&rows);
	table_copy_schema(&rows, &head.schema);
	table_set_rows(&rows, cli.batch_rows);
	pos = 0;
	line = 0;
	while (next_line(text, len, &pos, &start, &end)) {
		json_t *o;

		line++;
		if (blank(text + start, end - start))
			continue;
		o = parse_line(text, start, end, line, path);
		fill_row(&jc, &rows, k++, o, line, strcmp(path, "-") ? path : "stdin");
		json_decref(o);
		if (k == cli.batch_rows) {
			stream_out_rows(out, &rows, 0, k);
			table_set_rows(&rows, 0);
			table_set_rows(&rows, cli.batch_rows);
			k = 0;
		}
	}
	if (k > 0)
		stream_out_rows(out, &rows, 0, k);
	stream_out_end(out);
	table_free(&rows);
	stream_head_free(&head);
	for (int i = 0; i < jc.n; i++) {
		free(jc.cols[i].name);
		levelset_free(&jc.cols[i].levels);
	}
	free(jc.cols);
	bigmem_free(text, cap);
	return EXIT_OK;
}
