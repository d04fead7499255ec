/* sqlite2mp — an SQLite query's rows as a psflow stream.
 *
 * Contract: SQLite's columns have no fixed type, so the query runs twice in
 * one read transaction (one snapshot): the first pass finds each column's
 * type from its values, as csv2mp does (whole numbers i64, other numbers
 * f64, text cat with its levels sorted byte-wise, text that is all ISO
 * dates i64 days since 1970-01-01, or dates with times f64 days; a column
 * declared BOOLEAN of 0 and 1 bool), the second streams the rows,
 * --batch-rows at a time. NULL is missing; a BLOB is refused by column. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "civil.h"
#include "cli.h"
#include "err.h"
#include "levelset.h"
#include "stream.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: sqlite2mp [-t COL] [-y COL] [-x COLS] [stream options] FILE QUERY\n"
    "\n"
    "Runs QUERY on the SQLite database FILE (opened read-only) and writes its\n"
    "rows as a psflow stream. Each column's type comes from its values: whole\n"
    "numbers i64, other numbers f64, text cat, ISO dates i64 (days since\n"
    "1970-01-01), dates with times f64 (days, UTC), a BOOLEAN column of 0/1\n"
    "bool; NULL is a missing value.\n"
    "\n"
    CLI_ROLE_HELP
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  sqlite2mp app.db 'SELECT * FROM users' | fitps -t opted_in -x plan | report\n";

enum { SEEN_INT = 1, SEEN_REAL = 2, SEEN_TEXT = 4, SEEN_DATE = 8, SEEN_DATETIME = 16,
	SEEN_NOT_BOOL = 32, SEEN_PLAIN_TEXT = 64 };

typedef struct {
	unsigned seen;
	int boolean;     /* declared BOOLEAN */
	coltype type;
	enum { AS_NUMBER, AS_TEXT, AS_DAYS, AS_TIME } as;
	levelset levels;
} colguess;

_Noreturn static void
sql_die(sqlite3 *db, const char *path, const char *doing)
{
	die("SQLite (%s): %s: %s", path, doing, sqlite3_errmsg(db));
}

static void
exec_sql(sqlite3 *db, const char *path, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		char why[256];

		snprintf(why, sizeof why, "%s", msg ? msg : "?");
		sqlite3_free(msg);
		die("SQLite (%s): %s: %s", path, sql, why);
	}
}

/* Pass 1: what each column's values are. */
static void
guess_types(sqlite3_stmt *st, const char *path, sqlite3 *db, colguess *g, int ncols)
{
	int rc;
	uint64_t row = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < ncols; i++) {
			int t = sqlite3_column_type(st, i);

			if (t == SQLITE_INTEGER) {
				sqlite3_int64 v = sqlite3_column_int64(st, i);

				g[i].seen |= SEEN_INT | (v == 0 || v == 1 ? 0 : SEEN_NOT_BOOL);
				if (v == INT64_MIN)
					die("row %" PRIu64 ", column '%s': -9223372036854775808 is the one "
					    "64-bit whole number a stream keeps for a missing value", row,
					    sqlite3_column_name(st, i));
			} else if (t == SQLITE_FLOAT)
				g[i].seen |= SEEN_REAL | SEEN_NOT_BOOL;
			else if (t == SQLITE_TEXT) {
				const char *s = (const char *)sqlite3_column_text(st, i);
				size_t n = (size_t)sqlite3_column_bytes(st, i);
				int64_t day;
				double days;

				if (memchr(s, '\0', n))
					die("row %" PRIu64 ", column '%s': text with a NUL byte", row,
					    sqlite3_column_name(st, i));
				g[i].seen |= SEEN_TEXT | SEEN_NOT_BOOL;
				if (civil_parse_date(s, n, &day) == 0)
					g[i].seen |= SEEN_DATE;
				else if (civil_parse_datetime(s, n, &days) == 0)
					g[i].seen |= SEEN_DATETIME;
				else
					g[i].seen |= SEEN_PLAIN_TEXT;
				/* (dates too: among other text they are levels) */
				levelset_add(&g[i].levels, s, n);
			} else if (t == SQLITE_BLOB)
				die("column '%s' holds a BLOB: psflow reads numbers and text (cast it "
				    "in the query)", sqlite3_column_name(st, i));
		}
		row++;
	}
	if (rc != SQLITE_DONE)
		sql_die(db, path, "running the query");
	for (int i = 0; i < ncols; i++) {
		colguess *c = &g[i];
		int dates_only = (c->seen & (SEEN_DATE | SEEN_DATETIME)) &&
		    !(c->seen & (SEEN_INT | SEEN_REAL | SEEN_PLAIN_TEXT));

		if (dates_only && !(c->seen & SEEN_DATETIME))
			c->type = COL_I64, c->as = AS_DAYS;
		else if (dates_only)
			c->type = COL_F64, c->as = AS_TIME;
		else if (c->seen & SEEN_TEXT) {
			c->type = COL_CAT, c->as = AS_TEXT;
			/* dates among other text, and numbers among text, are text */
		} else if (c->boolean && !(c->seen & SEEN_NOT_BOOL) && c->seen)
			c->type = COL_BOOL, c->as = AS_NUMBER;
		else if (c->seen & SEEN_REAL || !c->seen)
			c->type = COL_F64, c->as = AS_NUMBER;
		else
			c->type = COL_I64, c->as = AS_NUMBER;
	}
}

/* A cat column's values as text, numbers included (as SQLite writes them). */
static void
text_of(sqlite3_stmt *st, int i, const char **s, size_t *n)
{
	*s = (const char *)sqlite3_column_text(st, i);
	*n = (size_t)sqlite3_column_bytes(st, i);
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
	const char *path;
	sqlite3 *db;
	sqlite3_stmt *st;
	colguess *g;
	stream_head head;
	stream_out *out;
	table rows;
	uint64_t total = 0;
	int opt, ncols, rc = SQLITE_DONE;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "h" CLI_ROLE_SHORTOPTS, longopts, NULL)) != -1) {
		if (!cli_role_option(&roles, opt, optarg))
			cli_other_option(&cli, opt, optarg, usage_text);
	}
	if (argc - optind != 2)
		die_usage("give FILE and QUERY (two arguments)");
	path = argv[optind];
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		sql_die(db, path, "opening the database");
	exec_sql(db, path, "BEGIN"); /* both passes see one snapshot */
	if (sqlite3_prepare_v2(db, argv[optind + 1], -1, &st, NULL) != SQLITE_OK || st == NULL)
		sql_die(db, path, "the query");
	ncols = sqlite3_column_count(st);
	if (ncols == 0)
		die("the query returns no columns (a SELECT is needed)");
	g = xcalloc((size_t)ncols, sizeof *g);
	for (int i = 0; i < ncols; i++) {
		const char *decl = sqlite3_column_decltype(st, i);

		levelset_init(&g[i].levels);
		g[i].boolean = decl && (strcasecmp(decl, "BOOLEAN") == 0 || strcasecmp(decl, "BOOL") == 0);
	}
	guess_types(st, path, db, g, ncols);
	{
		/* numbers in a column of text are text: their forms are levels */
		int mixed = 0;

		for (int i = 0; i < ncols; i++)
			mixed |= g[i].type == COL_CAT && (g[i].seen & (SEEN_INT | SEEN_REAL));
		if (mixed) {
			sqlite3_reset(st);
			while ((rc = sqlite3_step(st)) == SQLITE_ROW)
				for (int i = 0; i < ncols; i++)
					if (g[i].type == COL_CAT && sqlite3_column_type(st, i) != SQLITE_NULL) {
						const char *t;
						size_t n;

						text_of(st, i, &t, &n);
						levelset_add(&g[i].levels, t, n);
					}
			if (rc != SQLITE_DONE)
				sql_die(db, path, "running the query");
		}
	}
	stream_head_init(&head);
	for (int i = 0; i < ncols; i++) {
		const char *name = sqlite3_column_name(st, i);

		if (table_find(&head.schema, name) >= 0)
			die("the query returns two columns named '%s': name them apart with AS", name);
		if (g[i].type == COL_CAT) {
			levelset_sort(&g[i].levels);
			table_add_column(&head.schema, name, COL_CAT, g[i].levels.texts,
			    (int)g[i].levels.n);
		} else
			table_add_column(&head.schema, name, g[i].type, NULL, 0);
		if ((g[i].as == AS_DAYS || g[i].as == AS_TIME) && !cli.quiet)
			err_warn("note: column '%s' holds dates: read as days since 1970-01-01", name);
	}
	cli_roles_to_head(&roles, &head);
	out = stream_out_open(cli.out, &cli.io, cli.batch_rows);
	stream_out_head(out, &head);
	table_init(&rows);
	table_copy_schema(&rows, &head.schema);
	sqlite3_reset(st);
	for (;;) {
		size_t k;

		table_set_rows(&rows, cli.batch_rows);
		for (k = 0; k < cli.batch_rows && (rc = sqlite3_step(st)) == SQLITE_ROW; k++) {
			for (int i = 0; i < ncols; i++) {
				column *c = &rows.cols[i];
				int t = sqlite3_column_type(st, i);

				if (t == SQLITE_NULL) {
					/* missing: written, since the batch's table keeps the
					 * previous batch's values */
					switch (c->type) {
					case COL_F64: ((double *)c->data)[k] = NAN; break;
					case COL_I64: ((int64_t *)c->data)[k] = I64_MISSING; break;
					case COL_BOOL: ((uint8_t *)c->data)[k] = BOOL_MISSING; break;
					case COL_CAT: ((int32_t *)c->data)[k] = CAT_MISSING; break;
					}
					continue;
				}
				switch (g[i].as) {
				case AS_NUMBER:
					if (c->type == COL_F64)
						((double *)c->data)[k] = sqlite3_column_double(st, i);
					else if (c->type == COL_I64)
						((int64_t *)c->data)[k] = sqlite3_column_int64(st, i);
					else
						((uint8_t *)c->data)[k] = (uint8_t)sqlite3_column_int(st, i);
					break;
				case AS_TEXT: {
					const char *s;
					size_t n;

					text_of(st, i, &s, &n);
					((int32_t *)c->data)[k] = (int32_t)levelset_find(&g[i].levels, s, n);
					if (((int32_t *)c->data)[k] < 0)
						die("column '%s' changed between the query's two passes", c->name);
					break;
				}
				case AS_DAYS: {
					int64_t d;
					const char *s;
					size_t n;

					text_of(st, i, &s, &n);
					if (civil_parse_date(s, n, &d) != 0)
						die("column '%s' changed between the query's two passes", c->name);
					((int64_t *)c->data)[k] = d;
					break;
				}
				case AS_TIME: {
					double d;
					const char *s;
					size_t n;

					text_of(st, i, &s, &n);
					if (civil_parse_datetime(s, n, &d) != 0)
						die("column '%s' changed between the query's two passes", c->name);
					((double *)c->data)[k] = d;
					break;
				}
				}
			}
		}
		if (k < cli.batch_rows && rc != SQLITE_DONE)
			sql_die(db, path, "running the query");
		rows.nrows = k;
		if (k > 0)
			stream_out_rows(out, &rows, 0, k);
		total += k;
		if (k < cli.batch_rows)
			break;
	}
	sqlite3_finalize(st);
	exec_sql(db, path, "COMMIT");
	sqlite3_close(db);
	stream_out_end(out);
	if (!cli.quiet)
		err_warn("%" PRIu64 " rows", total);
	table_free(&rows);
	stream_head_free(&head);
	for (int i = 0; i < ncols; i++)
		levelset_free(&g[i].levels);
	free(g);
	return EXIT_OK;
}
