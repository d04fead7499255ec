/* csv2mp — a CSV file with a header row to a psflow stream.
 *
 * Contract: reads CSV (RFC 4180: quotes, embedded line breaks, CRLF, BOM);
 * writes one column per CSV column. Types are inferred from every value:
 * whole numbers -> i64, other numbers -> f64, true/false -> bool, anything
 * else -> cat with its levels in sorted (byte) order; --cat/--f64/--i64/
 * --bool override. Empty fields are missing values. A ragged row, or a value
 * that does not fit a column's forced type, stops it with the line number. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bigmem.h"
#include "cli.h"
#include "civil.h"
#include "csv.h"
#include "err.h"
#include "xalloc.h"
#include "stream.h"

static const char usage_text[] =
    "usage: csv2mp [options] [FILE]\n"
    "\n"
    "Converts a CSV file with a header row (default: stdin) to a psflow\n"
    "stream. Column types are inferred: whole numbers are i64, other numbers\n"
    "f64, true/false bool, ISO dates (2025-03-14) i64 days since 1970-01-01,\n"
    "dates with times f64 days, anything else cat (levels in sorted order).\n"
    "Empty fields, NA, NaN, N/A and null are missing values (as pandas and R\n"
    "write them). A first column without a name (R's row names) is left out.\n"
    "\n"
    "  --na LIST          the texts that mean missing, comma-separated (default\n"
    "                     'NA,NaN,N/A,null'; an empty field always is; '' for\n"
    "                     empty fields only)\n"
    "  --cat COLS         force these (comma-separated) columns to cat\n"
    "  --f64 COLS         ... to f64\n"
    "  --i64 COLS         ... to i64\n"
    "  --bool COLS        ... to bool\n"
    CLI_ROLE_HELP
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  csv2mp users.csv -t opt_in_agent_mode -y task_completed \\\n"
    "      -x engagement_tier,query_confidence | fitps | weight | report\n";

enum { OPT_CAT = OPT_PROGRAM_BASE, OPT_F64, OPT_I64, OPT_BOOL, OPT_NA };
enum { DATES_DAYS = 1, DATES_TIMES };

/* The texts read as missing (--na), besides the empty field. */
static const char *na_list = "NA,NaN,N/A,null";

static int
is_na(const csv_field *f)
{
	const char *p = na_list;

	if (f->len == 0)
		return 1;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == f->len && memcmp(p, f->p, n) == 0)
			return 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* How a column's values have read so far: all whole numbers, all numbers,
 * or not (text: bool or cat, settled by a second pass). */
typedef enum { AS_INT, AS_FLOAT, AS_TEXT } reading;

typedef struct {
	int forced; /* -1, or the coltype forced by an option */
	int skip;   /* R's row names: read past, not written */
	size_t na_texts; /* values that were an --na text, not empty */
	int dates;  /* from ISO text: DATES_DAYS (i64) or DATES_TIMES (f64) */
	int any;    /* a value that is not missing */
	reading as;
	coltype type;
	uint64_t *slot;  /* AS_INT: int64_t, AS_FLOAT: double, per row */
	int32_t *code;   /* AS_TEXT: the index of the row's text in levels */
	int can_bool;
	/* AS_TEXT: the distinct texts, in order of appearance, and an
	 * open-addressing set of 1 + their index */
	char **levels;
	size_t nlevels, *set, set_cap;
	int32_t *rank;   /* COL_CAT: the sorted place of each text, NULL if one */
	uint8_t *bools;  /* COL_BOOL: the values */
	size_t slot_rows, code_rows; /* the arrays' capacities */
} colinfo;

/* The first value (by line, then column) that does not fit its column's
 * forced type. The two passes find such values in different columns, so
 * each keeps the earlier of its own and what is noted already. */
typedef struct {
	size_t line;
	int col;
	char text[64];
	int len;
} bad_value;

static int
parse_i64(const char *p, size_t len, int64_t *out)
{
	char buf[32], *end;
	long long v;
	size_t i = len > 0 && (p[0] == '-' || p[0] == '+');
	uint64_t m = 0;

	if (len == 0 || len >= sizeof buf || i == len)
		return -1;
	for (size_t k = i; k < len; k++) {
		if (p[k] < '0' || p[k] > '9')
			return -1;
		m = m * 10 + (uint64_t)(p[k] - '0');
	}
	if (len - i <= 18) { /* below 10^18: no overflow */
		*out = p[0] == '-' ? -(int64_t)m : (int64_t)m;
		return 0;
	}
	memcpy(buf, p, len);
	buf[len] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (*end != '\0')
		return -1;
	if (errno == 0 && v == INT64_MIN)
		return -2; /* the one whole number that means "missing" in a stream */
	if (errno != 0)
		return -1; /* past 64 bits: a double, as a larger number is */
	*out = v;
	return 0;
}

/* Plain decimals ([sign] digits [. digits], at most 15 digits) exactly:
 * the digits as an integer and 10^decimals are both exact doubles, and
 * one IEEE division of exact operands is correctly rounded, as strtod is
 * (Clinger's fast path). Anything else goes to strtod. */
static int
parse_plain_decimal(const char *p, size_t len, double *out)
{
	static const double pow10[16] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
		1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
	size_t i = p[0] == '-' || p[0] == '+', digits = 0, decimals = 0;
	int point = 0;
	uint64_t m = 0;

	for (; i < len; i++) {
		if (p[i] == '.' && !point) {
			point = 1;
			continue;
		}
		if (p[i] < '0' || p[i] > '9')
			return -1;
		m = m * 10 + (uint64_t)(p[i] - '0');
		digits++;
		decimals += point;
	}
	if (digits == 0 || digits > 15)
		return -1;
	*out = (double)m / pow10[decimals];
	if (p[0] == '-')
		*out = -*out;
	return 0;
}

static int
parse_f64(const char *p, size_t len, double *out)
{
	char buf[64], *end;

	if (len == 0 || len >= sizeof buf ||
	    !((p[0] >= '0' && p[0] <= '9') || p[0] == '-' || p[0] == '+' || p[0] == '.'))
		return -1;
	if (parse_plain_decimal(p, len, out) == 0)
		return 0;
	/* decimal notation only: strtod also reads 0x10 as 16 and "nan" */
	if (strspn(p, "0123456789+-.eE") < len)
		return -1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	if (*end != '\0')
		return -1;
	if (!isfinite(*out))
		return -2; /* a number, but past a double's range */
	return 0;
}

static int
parse_bool(const char *p, size_t len, uint8_t *out)
{
	if (len == 4 && strncasecmp(p, "true", 4) == 0)
		*out = 1;
	else if (len == 5 && strncasecmp(p, "false", 5) == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static uint64_t
hash(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

/* The index of the text p in c's levels, added if new. */
static int32_t
level_code(colinfo *c, const char *p, size_t len)
{
	size_t i;

	if (c->nlevels * 2 >= c->set_cap) {
		free(c->set);
		c->set_cap = c->set_cap ? c->set_cap * 2 : 64;
		c->set = xcalloc(c->set_cap, sizeof *c->set);
		for (size_t k = 0; k < c->nlevels; k++) {
			for (i = hash(c->levels[k], strlen(c->levels[k])) & (c->set_cap - 1);
			    c->set[i]; i = (i + 1) & (c->set_cap - 1))
				;
			c->set[i] = k + 1;
		}
		c->levels = xreallocarray(c->levels, c->set_cap / 2 + 1, sizeof *c->levels);
	}
	for (i = hash(p, len) & (c->set_cap - 1); c->set[i]; i = (i + 1) & (c->set_cap - 1)) {
		const char *l = c->levels[c->set[i] - 1];

		if (strlen(l) == len && memcmp(l, p, len) == 0)
			return (int32_t)(c->set[i] - 1);
	}
	if (c->nlevels >= INT32_MAX)
		die("more than %d distinct values in one column", INT32_MAX);
	c->levels[c->nlevels] = xstrndup(p, len);
	c->set[i] = ++c->nlevels;
	return (int32_t)(c->nlevels - 1);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
force_types(colinfo *info, const csv_reader *hdr, const char *list, coltype type,
    const char *opt)
{
	const char *p = list;

	while (p && *p) {
		size_t len = strcspn(p, ",");
		int found = 0;

		for (int i = 0; i < hdr->nfields; i++)
			if (hdr->fields[i].len == len && memcmp(hdr->fields[i].p, p, len) == 0) {
				info[i].forced = (int)type;
				found = 1;
			}
		if (!found)
			die_usage("%s names '%.*s', which is not a column of the CSV", opt,
			    (int)len, p);
		p += len;
		if (*p == ',')
			p++;
	}
}

static void
check_width(const csv_reader *r, int ncols)
{
	if (r->nfields != ncols)
		die("line %zu: %d fields, but the header has %d: fix the row (a "
		    "missing comma, or an unquoted comma in a value?)", r->record_line,
		    r->nfields, ncols);
}

static void
note_bad(bad_value *bad, const csv_reader *r, int col, const csv_field *f)
{
	if (bad->line && (bad->line < r->record_line ||
	    (bad->line == r->record_line && bad->col < col)))
		return;
	bad->line = r->record_line;
	bad->col = col;
	bad->len = f->len > 60 ? 60 : (int)f->len;
	memcpy(bad->text, f->p, (size_t)bad->len);
}

static void
die_bad(const bad_value *bad, const colinfo *info, char *const *names)
{
	coltype type = (coltype)info[bad->col].forced;

	die("line %zu, column '%s': '%.*s' is not %s (the column was forced to %s)",
	    bad->line, names[bad->col], bad->len, bad->text,
	    type == COL_BOOL ? "true or false" :
	    type == COL_I64 ? "a whole number" : "a number", coltype_name(type));
}

/* Field f of row `row` into a column still read as numbers. A column of
 * whole numbers that meets another number becomes a column of doubles (its
 * whole numbers converted: rounded as strtod would round their text); one
 * that meets something else is text from then on. */
static void
read_number(colinfo *c, const csv_field *f, size_t row, bad_value *bad,
    const csv_reader *r, int col)
{
	int64_t v;
	double x;

	if (is_na(f)) {
		c->na_texts += f->len > 0;
		if (c->as == AS_INT)
			c->slot[row] = (uint64_t)I64_MISSING;
		else {
			x = NAN;
			memcpy(&c->slot[row], &x, sizeof x);
		}
		return;
	}
	c->any = 1;
	if (c->as == AS_INT) {
		int got = parse_i64(f->p, f->len, &v);

		if (got == 0) {
			c->slot[row] = (uint64_t)v;
			return;
		}
		if (got == -2)
			die("line %zu, column %d: %.*s is the one 64-bit whole number a stream "
			    "keeps for a missing value: leave the cell empty if it is missing, "
			    "or read the column as doubles (--f64 COL)", r->record_line, col + 1,
			    (int)f->len, f->p);
		if (c->forced == COL_I64) {
			note_bad(bad, r, col, f);
			return;
		}
		for (size_t k = 0; k < row; k++) {
			int64_t earlier = (int64_t)c->slot[k];

			x = earlier == I64_MISSING ? NAN : (double)earlier;
			memcpy(&c->slot[k], &x, sizeof x);
		}
		c->as = AS_FLOAT;
	}
	{
		int got = parse_f64(f->p, f->len, &x);

		if (got == 0) {
			memcpy(&c->slot[row], &x, sizeof x);
			return;
		}
		if (got == -2)
			die("line %zu, column %d: %.*s is beyond the range of a double (about "
			    "1.8e308): rescale the column", r->record_line, col + 1,
			    f->len > 60 ? 60 : (int)f->len, f->p);
	}
	if (c->forced == COL_F64) {
		note_bad(bad, r, col, f);
		return;
	}
	c->as = AS_TEXT;
}

/* Pass 1: every record, its width checked and its numbers parsed once, into
 * the columns still read as numbers. Returns the number of records; a value
 * that does not fit a forced type goes to bad (reported once every record's
 * width is known good, as before the values). */
/* Whether each record was one line, one after the other (so a row's line
 * is the first row's line + its index): stages then name the line. */
static int one_line_per_row = 1;

static size_t
read_numbers(csv_reader *r, colinfo *info, int ncols, bad_value *bad)
{
	size_t rows = 0, cap = 0, expect = r->line;

	while (csv_next(r)) {
		check_width(r, ncols);
		one_line_per_row &= r->record_line == expect && r->line == expect + 1;
		expect = r->line;
		if (rows == cap) {
			size_t more = cap ? 2 * cap : 4096;

			for (int i = 0; i < ncols; i++)
				if (info[i].as != AS_TEXT) {
					info[i].slot = bigmem_resize(info[i].slot,
					    info[i].slot_rows * sizeof *info[i].slot,
					    more * sizeof *info[i].slot);
					info[i].slot_rows = more;
				}
			cap = more;
		}
		for (int i = 0; i < ncols; i++)
			if (info[i].as != AS_TEXT)
				read_number(&info[i], &r->fields[i], rows, bad, r, i);
			else if (!info[i].skip && !is_na(&r->fields[i]))
				info[i].any = 1;
		rows++;
	}
	return rows;
}

/* Pass 2, for the columns of text: each value's index among the column's
 * distinct texts, and whether they are all true or false. Stops at the first
 * value a column forced to bool cannot take, noted in bad. */
static void
read_texts(const char *text, size_t len, size_t body_start, size_t body_line,
    colinfo *info, int ncols, bad_value *bad)
{
	csv_reader scan;
	size_t row = 0, cap = 0;
	int any_text = 0;

	for (int i = 0; i < ncols; i++)
		any_text |= info[i].as == AS_TEXT;
	if (!any_text)
		return;
	csv_init(&scan, text, len);
	scan.pos = body_start;
	scan.line = body_line;
	while (csv_next(&scan)) {
		if (row == cap) {
			size_t more = cap ? 2 * cap : 4096;

			for (int i = 0; i < ncols; i++)
				if (info[i].as == AS_TEXT) {
					info[i].code = bigmem_resize(info[i].code,
					    info[i].code_rows * sizeof *info[i].code,
					    more * sizeof *info[i].code);
					info[i].code_rows = more;
				}
			cap = more;
		}
		for (int i = 0; i < ncols; i++) {
			const csv_field *f = &scan.fields[i];
			colinfo *c = &info[i];
			uint8_t b;

			if (c->as != AS_TEXT || c->skip)
				continue;
			if (is_na(f)) {
				c->na_texts += f->len > 0;
				c->code[row] = CAT_MISSING;
				continue;
			}
			if (c->can_bool && parse_bool(f->p, f->len, &b) != 0) {
				c->can_bool = 0;
				if (c->forced == COL_BOOL) {
					note_bad(bad, &scan, i, f);
					goto done;
				}
			}
			c->code[row] = level_code(c, f->p, f->len);
		}
		row++;
	}
done:
	csv_free(&scan);
}

/* Each column's type: forced, or the narrowest its values allow (no value
 * at all: f64). A cat column's levels are put in sorted (byte) order. */
static void
settle_types(colinfo *info, int ncols)
{
	for (int i = 0; i < ncols; i++) {
		colinfo *c = &info[i];

		if (c->forced >= 0)
			c->type = (coltype)c->forced;
		else if (!c->any)
			c->type = COL_F64;
		else
			c->type = c->as == AS_INT ? COL_I64 : c->as == AS_FLOAT ? COL_F64 :
			    c->can_bool ? COL_BOOL : COL_CAT;
		if (c->type == COL_CAT && c->forced < 0 && !c->skip && c->nlevels > 0) {
			/* text that is all ISO dates: days since 1970, a number a
			 * model can use (as levels it would be a dummy per day) */
			int days = 1, times = 1;

			for (size_t k = 0; k < c->nlevels && (days || times); k++) {
				int64_t d;
				double t;

				days &= civil_parse_date(c->levels[k], strlen(c->levels[k]), &d) == 0;
				times &= civil_parse_datetime(c->levels[k], strlen(c->levels[k]), &t) == 0;
			}
			if (days || times) {
				c->dates = days ? DATES_DAYS : DATES_TIMES;
				c->type = days ? COL_I64 : COL_F64;
			}
		}
		if (c->type == COL_CAT && c->nlevels > 1) {
			int32_t *rank = xreallocarray(NULL, c->nlevels, sizeof *rank);
			char **sorted = xreallocarray(NULL, c->nlevels, sizeof *sorted);

			memcpy(sorted, c->levels, c->nlevels * sizeof *sorted);
			qsort(sorted, c->nlevels, sizeof *sorted, cmp_str);
			for (size_t k = 0; k < c->nlevels; k++) {
				char **at = bsearch(&c->levels[k], sorted, c->nlevels,
				    sizeof *sorted, cmp_str);

				rank[k] = (int32_t)(at - sorted);
			}
			memcpy(c->levels, sorted, c->nlevels * sizeof *sorted);
			free(sorted);
			c->rank = rank;
		}
	}
}

/* Column c's values as its settled type, in place where the width allows:
 * returns them, for the batches to be written from. */
static void *
settle_values(colinfo *c, size_t rows)
{
	switch (c->type) {
	case COL_I64:
	case COL_F64:
		if (c->dates) {
			/* each distinct date read once, then each row's from its code */
			double *of_level = xreallocarray(NULL, c->nlevels + 1, sizeof *of_level);

			for (size_t l = 0; l < c->nlevels; l++) {
				int64_t d;

				if (c->type == COL_I64 && civil_parse_date(c->levels[l],
				    strlen(c->levels[l]), &d) == 0)
					memcpy(&of_level[l], &d, sizeof d);
				else
					civil_parse_datetime(c->levels[l], strlen(c->levels[l]),
					    &of_level[l]);
			}
			bigmem_free(c->slot, c->slot_rows * sizeof *c->slot);
			c->slot = bigmem_resize(NULL, 0, (rows + 1) * sizeof *c->slot);
			c->slot_rows = rows + 1;
			for (size_t k = 0; k < rows; k++) {
				if (c->code[k] == CAT_MISSING) {
					double nan = NAN;
					int64_t missing = I64_MISSING;

					if (c->type == COL_I64)
						memcpy(&c->slot[k], &missing, sizeof missing);
					else
						memcpy(&c->slot[k], &nan, sizeof nan);
				} else
					memcpy(&c->slot[k], &of_level[c->code[k]], sizeof *c->slot);
			}
			free(of_level);
			return c->slot;
		}
		if (c->type == COL_I64)
			return c->slot;
		if (!c->any) /* every value missing: the slots hold I64_MISSING */
			for (size_t k = 0; k < rows; k++) {
				double x = NAN;

				memcpy(&c->slot[k], &x, sizeof x);
			}
		return c->slot;
	case COL_BOOL: {
		/* each distinct text read once (true, TRUE, false, ...) */
		uint8_t *of_level = xmalloc(c->nlevels + 1);

		for (size_t l = 0; l < c->nlevels; l++)
			parse_bool(c->levels[l], strlen(c->levels[l]), &of_level[l]);
		c->bools = xmalloc(rows + 1);
		for (size_t k = 0; k < rows; k++)
			c->bools[k] = c->code[k] == CAT_MISSING ? BOOL_MISSING : of_level[c->code[k]];
		free(of_level);
		return c->bools;
	}
	case COL_CAT:
		for (size_t k = 0; c->rank && k < rows; k++)
			if (c->code[k] != CAT_MISSING)
				c->code[k] = c->rank[c->code[k]];
		return c->code;
	}
	return NULL;
}

static void
colinfo_free(colinfo *c)
{
	bigmem_free(c->slot, c->slot_rows * sizeof *c->slot);
	bigmem_free(c->code, c->code_rows * sizeof *c->code);
	free(c->bools);
	for (size_t k = 0; k < c->nlevels; k++)
		free(c->levels[k]);
	free(c->levels);
	free(c->set);
	free(c->rank);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cat", required_argument, NULL, OPT_CAT },
		{ "f64", required_argument, NULL, OPT_F64 },
		{ "i64", required_argument, NULL, OPT_I64 },
		{ "bool", required_argument, NULL, OPT_BOOL },
		{ "na", required_argument, NULL, OPT_NA },
		CLI_ROLE_LONGOPTS,
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *forced[4] = { NULL }, *path = "-";
	cli_roles roles = { 0 };
	cli_common cli;
	stream_head head;
	stream_out *out;
	csv_reader r;
	colinfo *info;
	table all;
	char *text, **names;
	size_t len, text_cap, body_start, body_line, rows;
	bad_value bad = { 0 };
	int opt, ncols;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "h" CLI_ROLE_SHORTOPTS, longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_CAT: forced[COL_CAT] = optarg; break;
		case OPT_F64: forced[COL_F64] = optarg; break;
		case OPT_I64: forced[COL_I64] = optarg; break;
		case OPT_BOOL: forced[COL_BOOL] = optarg; break;
		case OPT_NA: na_list = optarg; break;
		case OPT_IN:
			path = optarg;
			break;
		default:
			if (!cli_role_option(&roles, opt, optarg))
				cli_other_option(&cli, opt, optarg, usage_text);
		}
	}
	if (optind < argc)
		path = argv[optind++];
	cli_no_operands(argc, argv);

	text = slurp(path, &len, &text_cap);
	csv_check_text(text, len, path);
	csv_init(&r, text, len);
	if (!csv_next(&r))
		die("%s is empty: a CSV needs at least a header row", path);
	ncols = r.nfields;
	info = xcalloc((size_t)ncols, sizeof *info);
	names = xcalloc((size_t)ncols, sizeof *names);
	stream_head_init(&head);
	for (int i = 0; i < ncols; i++) {
		info[i].forced = -1;
		info[i].can_bool = 1;
		if (r.fields[i].len == 0 && i == 0) {
			/* R's write.csv: the row names, a first column without a name */
			info[i].skip = 1;
			info[i].forced = COL_CAT;
			if (!cli.quiet)
				err_warn("note: the first column has no name (R's write.csv row names): "
				    "left out");
		} else if (r.fields[i].len == 0)
			die("header, column %d: a column needs a name (only the first may have none: "
			    "R's row names, which are left out)", i + 1);
		for (int j = 0; j < i; j++)
			if (r.fields[j].len == r.fields[i].len &&
			    memcmp(r.fields[j].p, r.fields[i].p, r.fields[i].len) == 0)
				die("header: column '%.*s' appears twice", (int)r.fields[i].len,
				    r.fields[i].p);
		/* header names outlive the reader's scratch: copy them now */
		names[i] = xstrndup(r.fields[i].p, r.fields[i].len);
	}
	for (int t = COL_F64; t <= COL_CAT; t++)
		force_types(info, &r, forced[t], (coltype)t,
		    t == COL_F64 ? "--f64" : t == COL_I64 ? "--i64" :
		    t == COL_BOOL ? "--bool" : "--cat");
	for (int i = 0; i < ncols; i++)
		info[i].as = info[i].forced == COL_BOOL || info[i].forced == COL_CAT ? AS_TEXT :
		    info[i].forced == COL_F64 ? AS_FLOAT : AS_INT;
	body_start = r.pos;
	body_line = r.line;
	rows = read_numbers(&r, info, ncols, &bad);
	read_texts(text, len, body_start, body_line, info, ncols, &bad);
	if (bad.line)
		die_bad(&bad, info, names);
	settle_types(info, ncols);
	for (int i = 0; i < ncols; i++) {
		if (info[i].skip)
			continue;
		table_add_column(&head.schema, names[i], info[i].type, info[i].levels,
		    info[i].type == COL_CAT ? (int)info[i].nlevels : 0);
		if (cli.quiet)
			continue;
		if (info[i].dates)
			err_warn("note: column '%s' holds dates%s: read as days since 1970-01-01", names[i],
			    info[i].dates == DATES_TIMES ? " and times" : "");
		if (info[i].na_texts)
			err_warn("note: column '%s': %zu values read as missing from the --na texts "
			    "(%s)", names[i], info[i].na_texts, na_list);
	}
	cli_roles_to_head(&roles, &head);

	/* the columns, written a batch at a time */
	/* a view of the columns as parsed, not a copy: memory first touched
	 * costs more than the work on it */
	all = (table){ .cols = xcalloc((size_t)ncols + 1, sizeof *all.cols),
		.ncols = head.schema.ncols, .nrows = rows, .cap = rows };
	for (int i = 0, k = 0; i < ncols; i++) {
		if (info[i].skip)
			continue;
		all.cols[k] = head.schema.cols[k];
		all.cols[k].data = settle_values(&info[i], rows);
		k++;
	}
	{
		/* where the rows came from, so that a stage's message can name a
		 * row's line (stage_row) */
		mpseq source, csvm;

		mpseq_map(&source);
		mpseq_map(&csvm);
		/* the file's name as a message names it (not where the checkout is) */
		const char *slash = strrchr(path, '/');

		mpseq_str(&csvm, "file", strcmp(path, "-") == 0 ? "stdin" : slash ? slash + 1 : path);
		mpseq_i64(&csvm, "first_line", (int64_t)body_line);
		mpseq_bool(&csvm, "one_line_per_row", one_line_per_row);
		mpseq_take(&source, "csv", &csvm);
		stream_head_set_meta(&head, &source);
		mpseq_free(&source);
	}
	out = stream_out_open(cli.out, &cli.io, cli.batch_rows);
	stream_out_head(out, &head);
	stream_out_rows(out, &all, 0, rows);
	stream_out_end(out);
	free(all.cols); /* a view: the names, levels and values are owned elsewhere */
	stream_head_free(&head);
	csv_free(&r);
	for (int i = 0; i < ncols; i++) {
		colinfo_free(&info[i]);
		free(names[i]);
	}
	free(info);
	free(names);
	bigmem_free(text, text_cap);
	return EXIT_OK;
}
