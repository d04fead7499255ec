/* mp2pg — a psflow stream's rows into a PostgreSQL table, and its results
 * beside them.
 *
 * Contract: everything happens in one transaction: CREATE TABLE (with
 * --replace, after DROP TABLE IF EXISTS), COPY of every batch as it
 * arrives (memory holds one batch), and with --results a second table of
 * (seq, stage, name, result jsonb). COMMIT comes only after the stream's
 * end was read and checked: a stream that fails (an upstream stage died, a
 * count or checksum is wrong), a server that fails, or a kill leaves no
 * table at all, never half of one. Columns: f64 double precision, i64
 * bigint, bool boolean, cat text; missing values NULL. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cli.h"
#include "err.h"
#include "mpo.h"
#include "stage.h"
#include "stream.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: mp2pg [--replace] [--results TABLE] [stream options] CONNINFO TABLE\n"
    "\n"
    "Writes the rows of a psflow stream (with the columns the flow added: ps,\n"
    "weights, match weights) into a new PostgreSQL table, by COPY, in one\n"
    "transaction that commits only once the whole stream arrived and checked\n"
    "out: a failed flow leaves no table. TABLE may be schema.table.\n"
    "\n"
    "  --replace          drop TABLE (and the results table) first if they exist\n"
    "  --results TABLE    also write the stream's results there, one row each:\n"
    "                     (seq, stage, name, result jsonb)\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  pg2mp 'dbname=app' 'SELECT * FROM users' | fitps -t opted_in -x plan \\\n"
    "      | weight | mp2pg --results study_results 'dbname=app' scored_users\n";

_Noreturn static void
pg_die(PGconn *conn, const char *doing)
{
	const char *msg = PQerrorMessage(conn);
	size_t n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	die("PostgreSQL (%s, database %s): %s: %.*s (nothing was committed)",
	    PQhost(conn) ? PQhost(conn) : "?", PQdb(conn) ? PQdb(conn) : "?", doing, (int)n, msg);
}

static void
exec_command(PGconn *conn, const char *sql, const char *doing)
{
	PGresult *r = PQexec(conn, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		PQclear(r);
		pg_die(conn, doing);
	}
	PQclear(r);
}

/* "schema.table" or "table", each part quoted as an identifier. */
static char *
table_ident(PGconn *conn, const char *name)
{
	const char *dot = strchr(name, '.');
	char *a, *b = NULL, *out;
	size_t n;

	if (name[0] == '\0' || (dot && (dot == name || dot[1] == '\0' || strchr(dot + 1, '.'))))
		die_usage("'%s' is not a table name (TABLE or SCHEMA.TABLE)", name);
	a = PQescapeIdentifier(conn, name, dot ? (size_t)(dot - name) : strlen(name));
	if (dot)
		b = PQescapeIdentifier(conn, dot + 1, strlen(dot + 1));
	if (a == NULL || (dot && b == NULL))
		pg_die(conn, "quoting the table name");
	n = strlen(a) + (b ? strlen(b) + 2 : 1);
	out = xmalloc(n);
	snprintf(out, n, "%s%s%s", a, b ? "." : "", b ? b : "");
	PQfreemem(a);
	if (b)
		PQfreemem(b);
	return out;
}

typedef struct {
	char *p;
	size_t len, cap;
} textbuf;

static void
tb_put(textbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* A text value in COPY's text format: backslash escapes for the bytes
 * that would end a field or row. */
static void
tb_copy_text(textbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\': tb_put(b, "\\\\", 2); break;
		case '\t': tb_put(b, "\\t", 2); break;
		case '\n': tb_put(b, "\\n", 2); break;
		case '\r': tb_put(b, "\\r", 2); break;
		default: tb_put(b, s, 1);
		}
	}
}

static void
copy_rows(PGconn *conn, const table *t, textbuf *b)
{
	char num[48];

	b->len = 0;
	for (size_t r = 0; r < t->nrows; r++) {
		for (int i = 0; i < t->ncols; i++) {
			const column *c = &t->cols[i];

			if (i)
				tb_put(b, "\t", 1);
			if (column_is_missing(c, r)) {
				tb_put(b, "\\N", 2);
				continue;
			}
			switch (c->type) {
			case COL_F64: {
				double x = ((const double *)c->data)[r];

				if (isinf(x))
					tb_put(b, x > 0 ? "Infinity" : "-Infinity", x > 0 ? 8 : 9);
				else {
					format_double(num, sizeof num, x);
					tb_put(b, num, strlen(num));
				}
				break;
			}
			case COL_I64:
				snprintf(num, sizeof num, "%" PRId64, ((const int64_t *)c->data)[r]);
				tb_put(b, num, strlen(num));
				break;
			case COL_BOOL:
				tb_put(b, ((const uint8_t *)c->data)[r] ? "t" : "f", 1);
				break;
			case COL_CAT:
				tb_copy_text(b, c->levels[((const int32_t *)c->data)[r]]);
				break;
			}
		}
		tb_put(b, "\n", 1);
	}
	if (b->len && PQputCopyData(conn, b->p, (int)b->len) != 1)
		pg_die(conn, "sending rows");
}

static const char *
sql_type(coltype t)
{
	switch (t) {
	case COL_F64: return "double precision";
	case COL_I64: return "bigint";
	case COL_BOOL: return "boolean";
	case COL_CAT: return "text";
	}
	return "text";
}

/* The results: one row each, the whole result as JSON. */
static void
write_results(PGconn *conn, const char *ident, const rawlist *results)
{
	size_t n = strlen(ident) + 160;
	char *sql = xmalloc(n);

	snprintf(sql, n, "CREATE TABLE %s (seq integer, stage text, name text, result jsonb)",
	    ident);
	exec_command(conn, sql, "creating the results table");
	snprintf(sql, n, "INSERT INTO %s VALUES ($1::integer, $2, $3, $4::jsonb)", ident);
	for (int i = 0; i < results->n; i++) {
		msgpack_unpacked u;
		char seq[16], *json, *stage, *name;
		size_t jlen = 0;
		const char *values[4];
		PGresult *r;

		mpraw_unpack(&results->items[i], &u);
		json = mpo_result_json(&u.data, &jlen, &stage, &name);
		snprintf(seq, sizeof seq, "%d", i + 1);
		values[0] = seq, values[1] = stage, values[2] = name, values[3] = json;
		r = PQexecParams(conn, sql, 4, NULL, values, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			PQclear(r);
			pg_die(conn, "writing a result");
		}
		PQclear(r);
		free(stage);
		free(name);
		free(json);
		msgpack_unpacked_destroy(&u);
	}
	free(sql);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "replace", no_argument, NULL, OPT_PROGRAM_BASE },
		{ "results", required_argument, NULL, OPT_PROGRAM_BASE + 1 },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	cli_common cli;
	const char *results_table = NULL;
	int opt, replace = 0;
	PGconn *conn;
	char *ident, *rident = NULL, *sql;
	size_t n;
	stream_in *in;
	const table *schema;
	table rows;
	rawlist results = { 0 };
	textbuf buf = { 0 };
	mpraw raw;
	PGresult *r;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == OPT_PROGRAM_BASE)
			replace = 1;
		else if (opt == OPT_PROGRAM_BASE + 1)
			results_table = optarg;
		else
			cli_other_option(&cli, opt, optarg, usage_text);
	}
	if (argc - optind != 2)
		die_usage("give CONNINFO and TABLE (two arguments)");
	conn = PQconnectdb(argv[optind]);
	if (PQstatus(conn) != CONNECTION_OK)
		pg_die(conn, "connecting");
	ident = table_ident(conn, argv[optind + 1]);
	if (results_table)
		rident = table_ident(conn, results_table);
	in = stream_in_open(cli.in, &cli.io);
	schema = &stream_in_head(in)->schema;
	if (schema->ncols == 0)
		die("the stream has no columns: nothing to put in a table");
	exec_command(conn, "BEGIN", "starting a transaction");
	n = strlen(ident) + 64;
	for (int i = 0; i < schema->ncols; i++)
		n += 2 * strlen(schema->cols[i].name) + 40;
	if (rident)
		n += strlen(rident);
	sql = xmalloc(n);
	if (replace) {
		snprintf(sql, n, "DROP TABLE IF EXISTS %s", ident);
		exec_command(conn, sql, "dropping the old table");
		if (rident) {
			snprintf(sql, n, "DROP TABLE IF EXISTS %s", rident);
			exec_command(conn, sql, "dropping the old results table");
		}
	}
	{
		textbuf def = { 0 };

		tb_put(&def, "CREATE TABLE ", 13);
		tb_put(&def, ident, strlen(ident));
		tb_put(&def, " (", 2);
		for (int i = 0; i < schema->ncols; i++) {
			char *col = PQescapeIdentifier(conn, schema->cols[i].name,
			    strlen(schema->cols[i].name));
			const char *type = sql_type(schema->cols[i].type);

			if (i)
				tb_put(&def, ", ", 2);
			tb_put(&def, col, strlen(col));
			tb_put(&def, " ", 1);
			tb_put(&def, type, strlen(type));
			PQfreemem(col);
		}
		tb_put(&def, ")", 2); /* with the terminating NUL */
		exec_command(conn, def.p, "creating the table (--replace drops one that exists)");
		free(def.p);
	}
	snprintf(sql, n, "COPY %s FROM STDIN", ident);
	r = PQexec(conn, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		PQclear(r);
		pg_die(conn, "starting COPY");
	}
	PQclear(r);
	table_init(&rows);
	table_copy_schema(&rows, schema);
	for (;;) {
		stream_event ev;

		rows.nrows = 0;
		/* a broken stream dies here: the transaction is never committed */
		ev = stream_in_next(in, &rows, &raw);
		if (ev == STREAM_END)
			break;
		if (ev == STREAM_BATCH)
			copy_rows(conn, &rows, &buf);
		else
			rawlist_add(&results, &raw);
	}
	if (PQputCopyEnd(conn, NULL) != 1)
		pg_die(conn, "ending COPY");
	while ((r = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			PQclear(r);
			pg_die(conn, "copying the rows");
		}
		PQclear(r);
	}
	if (rident)
		write_results(conn, rident, &results);
	exec_command(conn, "COMMIT", "committing");
	if (!cli.quiet)
		err_warn("%" PRIu64 " rows into %s%s%s", stream_in_rows(in), argv[optind + 1],
		    rident ? ", the results into " : "", rident ? results_table : "");
	PQfinish(conn);
	stream_in_free(in);
	table_free(&rows);
	rawlist_free(&results);
	free(buf.p);
	free(sql);
	free(ident);
	free(rident);
	return EXIT_OK;
}
