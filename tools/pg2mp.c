/* pg2mp — a PostgreSQL query's rows as a psflow stream.
 *
 * Contract: runs the query in one read-only REPEATABLE READ transaction
 * (so every pass sees one snapshot) and streams its rows through a cursor,
 * --batch-rows at a time: memory holds one batch and the text columns'
 * levels, whatever the result's size. Column types come from the result:
 * integers i64, floats and numerics f64, booleans bool, text cat (levels
 * from SELECT DISTINCT in the same snapshot, sorted byte-wise), dates i64
 * days since 1970-01-01, timestamps f64 days; NULL is missing. Any other
 * type is refused, naming the column and the cast to write. A failure of
 * the server mid-read ends the stream without its end: the next stage
 * fails too, and nothing downstream takes a part for the whole. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "civil.h"
#include "cli.h"
#include "err.h"
#include "levelset.h"
#include "mpo.h"
#include "stream.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: pg2mp [-t COL] [-y COL] [-x COLS] [stream options] CONNINFO QUERY\n"
    "\n"
    "Runs QUERY on the PostgreSQL server CONNINFO names (a libpq connection\n"
    "string or URI: 'host=/run/postgresql dbname=app', 'postgresql://u@db/app';\n"
    "a password comes best from ~/.pgpass or PGPASSWORD) and writes its rows as\n"
    "a psflow stream, a batch at a time through a cursor. Types follow the\n"
    "result: integers i64, real, double and numeric f64, boolean bool, text and\n"
    "varchar cat, date i64 (days since 1970-01-01), timestamp f64 (days, UTC);\n"
    "NULL is a missing value. Cast other types in the query (x::text, x::float8).\n"
    "\n"
    CLI_ROLE_HELP
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  pg2mp 'dbname=app' 'SELECT user_id, plan, opted_in, completed FROM users' \\\n"
    "      | fitps -t opted_in -y completed -x plan | weight | report\n";

enum pgtype { PG_INT, PG_FLOAT, PG_BOOL, PG_TEXT, PG_DATE, PG_TIMESTAMP };

typedef struct {
	PGconn *conn;
	char *query;        /* trailing semicolons and blanks removed */
	int ncols;
	enum pgtype *kind;
	levelset *levels;   /* per text column */
} pgsource;

_Noreturn static void
pg_die(PGconn *conn, const char *doing)
{
	const char *msg = PQerrorMessage(conn);
	size_t n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	die("PostgreSQL (%s, database %s): %s: %.*s", PQhost(conn) ? PQhost(conn) : "?",
	    PQdb(conn) ? PQdb(conn) : "?", doing, (int)n, msg);
}

static PGresult *
exec_ok(PGconn *conn, const char *sql, ExecStatusType want, const char *doing)
{
	PGresult *r = PQexec(conn, sql);

	if (PQresultStatus(r) != want) {
		PQclear(r);
		pg_die(conn, doing);
	}
	return r;
}

static void
exec_command(PGconn *conn, const char *sql, const char *doing)
{
	PQclear(exec_ok(conn, sql, PGRES_COMMAND_OK, doing));
}

/* The result's columns: their names and types (from a prepared statement's
 * description: the query is not run for it). */
static void
describe(pgsource *src, table *schema)
{
	PGresult *r = PQprepare(src->conn, "", src->query, 0, NULL);

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		PQclear(r);
		pg_die(src->conn, "the query");
	}
	PQclear(r);
	r = PQdescribePrepared(src->conn, "");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		PQclear(r);
		pg_die(src->conn, "describing the query");
	}
	src->ncols = PQnfields(r);
	if (src->ncols == 0)
		die("the query returns no columns (a SELECT is needed)");
	src->kind = xcalloc((size_t)src->ncols, sizeof *src->kind);
	src->levels = xcalloc((size_t)src->ncols, sizeof *src->levels);
	for (int i = 0; i < src->ncols; i++) {
		const char *name = PQfname(r, i);
		Oid t = PQftype(r, i);
		coltype ct;

		switch (t) {
		case 20: case 21: case 23: /* int8, int2, int4 */
			src->kind[i] = PG_INT, ct = COL_I64;
			break;
		case 700: case 701: case 1700: /* float4, float8, numeric */
			src->kind[i] = PG_FLOAT, ct = COL_F64;
			break;
		case 16:
			src->kind[i] = PG_BOOL, ct = COL_BOOL;
			break;
		case 25: case 1043: case 1042: case 19: /* text, varchar, char(n), name */
			src->kind[i] = PG_TEXT, ct = COL_CAT;
			break;
		case 1082:
			src->kind[i] = PG_DATE, ct = COL_I64;
			break;
		case 1114: case 1184: /* timestamp, timestamptz */
			src->kind[i] = PG_TIMESTAMP, ct = COL_F64;
			break;
		default:
			die("column '%s' has a type psflow does not read (PostgreSQL type oid %u): "
			    "cast it in the query, e.g. %s::text or %s::float8", name, (unsigned)t,
			    name, name);
		}
		if (table_find(schema, name) >= 0)
			die("the query returns two columns named '%s': name them apart with AS", name);
		/* a cat column's levels come later (text_levels) */
		table_add_column(schema, name, ct, NULL, 0);
	}
	PQclear(r);
}

/* A text column's levels: its distinct values in this snapshot, sorted as
 * bytes (COLLATE "C"), as csv2mp sorts them. */
static void
text_levels(pgsource *src, table *schema, int col)
{
	char *ident = PQescapeIdentifier(src->conn, schema->cols[col].name,
	    strlen(schema->cols[col].name));
	size_t n = strlen(src->query) + 2 * strlen(ident) + 200;
	char *sql = xmalloc(n);
	PGresult *r;
	column *c = &schema->cols[col];

	snprintf(sql, n, "SELECT DISTINCT q.%s::text COLLATE \"C\" AS v FROM (%s) AS q "
	    "WHERE q.%s IS NOT NULL ORDER BY v", ident, src->query, ident);
	PQfreemem(ident);
	r = exec_ok(src->conn, sql, PGRES_TUPLES_OK, "reading a text column's values");
	free(sql);
	levelset_init(&src->levels[col]);
	for (int i = 0; i < PQntuples(r); i++)
		levelset_add(&src->levels[col], PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));
	PQclear(r);
	if (src->levels[col].n > (size_t)INT32_MAX)
		die("column '%s' has too many distinct values for a cat column", c->name);
	levelset_sort(&src->levels[col]);
	free(c->levels); /* (the empty list the column was made with) */
	c->nlevels = (int)src->levels[col].n;
	c->levels = xcalloc((size_t)c->nlevels + 1, sizeof *c->levels);
	for (int l = 0; l < c->nlevels; l++)
		c->levels[l] = xstrdup(src->levels[col].texts[l]);
}

static double
number(const char *s, const char *col, uint64_t row)
{
	char *end;
	double v = strtod(s, &end);

	/* PostgreSQL writes NaN and Infinity in words */
	if (*end != '\0' || !isfinite(v))
		die("row %" PRIu64 ", column '%s': '%s' is not a finite number", row, col, s);
	return v;
}

/* One fetched block of rows into the table's columns. */
static void
convert(const pgsource *src, PGresult *r, table *rows, uint64_t first)
{
	int n = PQntuples(r);

	/* every cell missing first: a NULL is left as it is, and must not keep
	 * the previous batch's value */
	table_set_rows(rows, 0);
	table_set_rows(rows, (size_t)n);
	for (int i = 0; i < src->ncols; i++) {
		column *c = &rows->cols[i];

		for (int k = 0; k < n; k++) {
			const char *v = PQgetvalue(r, k, i);
			uint64_t row = first + (uint64_t)k;

			if (PQgetisnull(r, k, i))
				continue; /* table_set_rows left it missing */
			switch (src->kind[i]) {
			case PG_INT: {
				char *end;
				long long x = strtoll(v, &end, 10);

				if (*end != '\0' || x == INT64_MIN)
					die("row %" PRIu64 ", column '%s': '%s' is not a 64-bit whole "
					    "number psflow can hold", row, c->name, v);
				((int64_t *)c->data)[k] = x;
				break;
			}
			case PG_FLOAT:
				((double *)c->data)[k] = number(v, c->name, row);
				break;
			case PG_BOOL:
				((uint8_t *)c->data)[k] = v[0] == 't';
				break;
			case PG_TEXT:
				((int32_t *)c->data)[k] = (int32_t)levelset_find(&src->levels[i], v,
				    (size_t)PQgetlength(r, k, i));
				if (((int32_t *)c->data)[k] < 0)
					die("row %" PRIu64 ", column '%s': a value that was not in the "
					    "snapshot's distinct values (internal error)", row, c->name);
				break;
			case PG_DATE: {
				int64_t d;

				if (civil_parse_date(v, strlen(v), &d) != 0)
					die("row %" PRIu64 ", column '%s': the date '%s' is outside "
					    "0001-9999 or not ISO (DateStyle is set to ISO)", row, c->name, v);
				((int64_t *)c->data)[k] = d;
				break;
			}
			case PG_TIMESTAMP: {
				double d;

				if (civil_parse_datetime(v, strlen(v), &d) != 0)
					die("row %" PRIu64 ", column '%s': the timestamp '%s' is not one "
					    "psflow reads (infinity, or outside 0001-9999?)", row, c->name, v);
				((double *)c->data)[k] = d;
				break;
			}
			}
		}
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
	pgsource src = { 0 };
	stream_head head;
	stream_out *out;
	table rows;
	uint64_t total = 0;
	int opt;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "h" CLI_ROLE_SHORTOPTS, longopts, NULL)) != -1) {
		if (!cli_role_option(&roles, opt, optarg))
			cli_other_option(&cli, opt, optarg, usage_text);
	}
	if (argc - optind != 2)
		die_usage("give CONNINFO and QUERY (two arguments)");
	src.query = xstrdup(argv[optind + 1]);
	for (size_t n = strlen(src.query); n > 0 && (src.query[n - 1] == ';' ||
	    src.query[n - 1] == ' ' || src.query[n - 1] == '\n' || src.query[n - 1] == '\t'); n--)
		src.query[n - 1] = '\0';
	src.conn = PQconnectdb(argv[optind]);
	if (PQstatus(src.conn) != CONNECTION_OK)
		pg_die(src.conn, "connecting");
	/* one snapshot for the levels and the rows; dates and times in ISO and
	 * UTC; floats with every digit */
	exec_command(src.conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "starting");
	exec_command(src.conn, "SET LOCAL DateStyle = ISO", "setting DateStyle");
	exec_command(src.conn, "SET LOCAL TimeZone = 'UTC'", "setting TimeZone");
	exec_command(src.conn, "SET LOCAL extra_float_digits = 3", "setting extra_float_digits");
	stream_head_init(&head);
	describe(&src, &head.schema);
	for (int i = 0; i < src.ncols; i++)
		if (src.kind[i] == PG_TEXT)
			text_levels(&src, &head.schema, i);
	cli_roles_to_head(&roles, &head);
	{
		size_t n = strlen(src.query) + 64;
		char *sql = xmalloc(n);

		snprintf(sql, n, "DECLARE psflow_rows NO SCROLL CURSOR FOR %s", src.query);
		exec_command(src.conn, sql, "opening a cursor on the query");
		free(sql);
	}
	out = stream_out_open(cli.out, &cli.io, cli.batch_rows);
	stream_out_head(out, &head);
	table_init(&rows);
	table_copy_schema(&rows, &head.schema);
	for (;;) {
		char fetch[64];
		PGresult *r;
		int n;

		snprintf(fetch, sizeof fetch, "FETCH FORWARD %zu FROM psflow_rows", cli.batch_rows);
		r = PQexec(src.conn, fetch);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			char doing[96];

			PQclear(r);
			snprintf(doing, sizeof doing, "the query stopped after %" PRIu64 " rows "
			    "(the stream is left without its end)", total);
			pg_die(src.conn, doing);
		}
		n = PQntuples(r);
		if (n > 0) {
			convert(&src, r, &rows, total);
			stream_out_rows(out, &rows, 0, rows.nrows);
			total += (uint64_t)n;
		}
		PQclear(r);
		if (n < (int)cli.batch_rows)
			break;
	}
	exec_command(src.conn, "COMMIT", "finishing");
	PQfinish(src.conn);
	stream_out_end(out);
	if (!cli.quiet)
		err_warn("%" PRIu64 " rows", total);
	table_free(&rows);
	stream_head_free(&head);
	for (int i = 0; i < src.ncols; i++)
		levelset_free(&src.levels[i]);
	free(src.levels);
	free(src.kind);
	free(src.query);
	return EXIT_OK;
}
