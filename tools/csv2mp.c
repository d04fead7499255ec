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

#include "cli.h"
#include "csv.h"
#include "err.h"
#include "stream.h"

static const char usage_text[] =
    "usage: csv2mp [options] [FILE]\n"
    "\n"
    "Converts a CSV file with a header row (default: stdin) to a psflow\n"
    "stream. Column types are inferred: whole numbers are i64, other numbers\n"
    "f64, true/false bool, anything else cat (levels in sorted order). Empty\n"
    "fields are missing values.\n"
    "\n"
    "  --cat COLS         force these (comma-separated) columns to cat\n"
    "  --f64 COLS         ... to f64\n"
    "  --i64 COLS         ... to i64\n"
    "  --bool COLS        ... to bool\n"
    "  -t, --treatment COL   record the roles in the head\n"
    "  -y, --outcome COL\n"
    "  -x, --covariates COLS\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  csv2mp users.csv -t opt_in_agent_mode -y task_completed \\\n"
    "      -x engagement_tier,query_confidence | fitps | weight | report\n";

enum { OPT_CAT = OPT_PROGRAM_BASE, OPT_F64, OPT_I64, OPT_BOOL };

typedef struct {
	int can_int, can_float, can_bool, any;
	int forced; /* -1, or the coltype forced by an option */
	coltype type;
	/* cat levels: an open-addressing set, then the sorted list */
	char **set;
	size_t set_cap, set_n;
} colinfo;

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
	if (errno != 0 || *end != '\0' || v == INT64_MIN)
		return -1;
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

	if (len == 0 || len >= sizeof buf || !strchr("+-.0123456789", p[0]))
		return -1;
	if (parse_plain_decimal(p, len, out) == 0)
		return 0;
	memcpy(buf, p, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	if (*end != '\0' || !isfinite(*out))
		return -1;
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

static void
set_add(colinfo *c, const char *p, size_t len)
{
	size_t i;

	if (c->set_n * 2 >= c->set_cap) {
		char **old = c->set;
		size_t oldcap = c->set_cap;

		c->set_cap = c->set_cap ? c->set_cap * 2 : 64;
		c->set = xcalloc(c->set_cap, sizeof *c->set);
		c->set_n = 0;
		for (size_t k = 0; k < oldcap; k++)
			if (old[k])
				set_add(c, old[k], strlen(old[k])), free(old[k]);
		free(old);
	}
	for (i = hash(p, len) & (c->set_cap - 1); c->set[i];
	    i = (i + 1) & (c->set_cap - 1))
		if (strlen(c->set[i]) == len && memcmp(c->set[i], p, len) == 0)
			return;
	c->set[i] = xstrndup(p, len);
	c->set_n++;
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

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cat", required_argument, NULL, OPT_CAT },
		{ "f64", required_argument, NULL, OPT_F64 },
		{ "i64", required_argument, NULL, OPT_I64 },
		{ "bool", required_argument, NULL, OPT_BOOL },
		{ "treatment", required_argument, NULL, 't' },
		{ "outcome", required_argument, NULL, 'y' },
		{ "covariates", required_argument, NULL, 'x' },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *forced[4] = { NULL }, *path = "-";
	const char *treatment = NULL, *outcome = NULL, *covariates = NULL;
	cli_common cli;
	stream_head head;
	stream_out *out;
	csv_reader r;
	colinfo *info;
	table batch;
	char *text;
	size_t len;
	int opt, ncols;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "t:y:x:h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_CAT: forced[COL_CAT] = optarg; break;
		case OPT_F64: forced[COL_F64] = optarg; break;
		case OPT_I64: forced[COL_I64] = optarg; break;
		case OPT_BOOL: forced[COL_BOOL] = optarg; break;
		case 't': treatment = optarg; break;
		case 'y': outcome = optarg; break;
		case 'x': covariates = optarg; break;
		case OPT_IN:
			path = optarg;
			break;
		default:
			cli_other_option(&cli, opt, optarg, usage_text);
		}
	}
	if (optind < argc)
		path = argv[optind++];
	cli_no_operands(argc, argv);

	text = slurp(path, &len);
	csv_init(&r, text, len);
	if (!csv_next(&r))
		die("%s is empty: a CSV needs at least a header row", path);
	ncols = r.nfields;
	info = xcalloc((size_t)ncols, sizeof *info);
	stream_head_init(&head);
	for (int i = 0; i < ncols; i++) {
		info[i] = (colinfo){ 1, 1, 1, 0, -1, COL_F64, NULL, 0, 0 };
		if (r.fields[i].len == 0)
			die("header, column %d: a column needs a name", i + 1);
		for (int j = 0; j < i; j++)
			if (r.fields[j].len == r.fields[i].len &&
			    memcmp(r.fields[j].p, r.fields[i].p, r.fields[i].len) == 0)
				die("header: column '%.*s' appears twice", (int)r.fields[i].len,
				    r.fields[i].p);
	}
	for (int t = COL_F64; t <= COL_CAT; t++)
		force_types(info, &r, forced[t], (coltype)t,
		    t == COL_F64 ? "--f64" : t == COL_I64 ? "--i64" :
		    t == COL_BOOL ? "--bool" : "--cat");
	{
		/* header names outlive the reader's scratch: copy them now */
		char **names = xcalloc((size_t)ncols, sizeof *names);
		csv_reader scan;
		size_t body_start = r.pos, body_line = r.line;

		for (int i = 0; i < ncols; i++)
			names[i] = xstrndup(r.fields[i].p, r.fields[i].len);

		/* pass 1: what every value could be */
		while (csv_next(&r)) {
			check_width(&r, ncols);
			for (int i = 0; i < ncols; i++) {
				const csv_field *f = &r.fields[i];
				int64_t iv;
				double dv;
				uint8_t bv;

				if (f->len == 0)
					continue;
				info[i].any = 1;
				if (info[i].can_int && parse_i64(f->p, f->len, &iv) != 0)
					info[i].can_int = 0;
				if (info[i].can_float && parse_f64(f->p, f->len, &dv) != 0)
					info[i].can_float = 0;
				if (info[i].can_bool && parse_bool(f->p, f->len, &bv) != 0)
					info[i].can_bool = 0;
			}
		}
		for (int i = 0; i < ncols; i++) {
			colinfo *c = &info[i];

			if (c->forced >= 0)
				c->type = (coltype)c->forced;
			else if (!c->any)
				c->type = COL_F64;
			else
				c->type = c->can_int ? COL_I64 : c->can_float ? COL_F64 :
				    c->can_bool ? COL_BOOL : COL_CAT;
		}
		/* pass 2: the levels of cat columns */
		csv_init(&scan, text, len);
		scan.pos = body_start;
		scan.line = body_line;
		while (csv_next(&scan))
			for (int i = 0; i < ncols; i++)
				if (info[i].type == COL_CAT && scan.fields[i].len > 0)
					set_add(&info[i], scan.fields[i].p, scan.fields[i].len);
		csv_free(&scan);
		for (int i = 0; i < ncols; i++) {
			colinfo *c = &info[i];
			size_t k = 0;

			for (size_t j = 0; j < c->set_cap; j++)
				if (c->set[j])
					c->set[k++] = c->set[j];
			if (k > 1)
				qsort(c->set, k, sizeof *c->set, cmp_str);
			table_add_column(&head.schema, names[i], c->type, c->set, (int)k);
			for (size_t j = 0; j < k; j++)
				free(c->set[j]);
			free(c->set);
			free(names[i]);
		}
		free(names);
		r.pos = body_start;
		r.line = body_line;
	}
	stream_head_set_role(&head.treatment, treatment);
	stream_head_set_role(&head.outcome, outcome);
	stream_head_set_covariates(&head, covariates);

	/* pass 3: convert and write, a batch at a time */
	out = stream_out_open(cli.out, &cli.io, cli.batch_rows);
	stream_out_head(out, &head);
	table_init(&batch);
	table_copy_schema(&batch, &head.schema);
	for (;;) {
		int more = csv_next(&r);

		if (more) {
			size_t row = batch.nrows;

			table_set_rows(&batch, row + 1);
			for (int i = 0; i < ncols; i++) {
				const csv_field *f = &r.fields[i];
				column *c = &batch.cols[i];
				int bad = 0;

				if (f->len == 0)
					continue; /* already missing */
				switch (c->type) {
				case COL_F64:
					bad = parse_f64(f->p, f->len, (double *)c->data + row);
					break;
				case COL_I64:
					bad = parse_i64(f->p, f->len, (int64_t *)c->data + row);
					break;
				case COL_BOOL:
					bad = parse_bool(f->p, f->len, (uint8_t *)c->data + row);
					break;
				case COL_CAT: {
					char *key = xstrndup(f->p, f->len);
					char **hit = bsearch(&key, c->levels, (size_t)c->nlevels,
					    sizeof *c->levels, cmp_str);

					((int32_t *)c->data)[row] = (int32_t)(hit - c->levels);
					free(key);
					break;
				}
				}
				if (bad)
					die("line %zu, column '%s': '%.*s' is not %s (the column "
					    "was forced to %s)", r.record_line, c->name,
					    (int)(f->len > 60 ? 60 : f->len), f->p,
					    c->type == COL_BOOL ? "true or false" :
					    c->type == COL_I64 ? "a whole number" : "a number",
					    coltype_name(c->type));
			}
		}
		if (batch.nrows == cli.batch_rows || (!more && batch.nrows > 0)) {
			stream_out_rows(out, &batch, 0, batch.nrows);
			batch.nrows = 0;
		}
		if (!more)
			break;
	}
	stream_out_end(out);
	table_free(&batch);
	stream_head_free(&head);
	csv_free(&r);
	free(info);
	free(text);
	return EXIT_OK;
}
