/* mp2sqlite — a psflow stream's rows into an SQLite table, and its
 * results beside them.
 *
 * Contract: one transaction: CREATE TABLE (with --replace, after DROP TABLE
 * IF EXISTS), every row inserted as its batch arrives, with --results a
 * second table of (seq, stage, name, result JSON text), and COMMIT only
 * after the stream's end was read and checked. A failed stream or a kill
 * leaves the file as it was (SQLite rolls the journal back). Columns:
 * f64 REAL, i64 INTEGER, bool BOOLEAN (0/1), cat TEXT; missing NULL. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cli.h"
#include "err.h"
#include "mpo.h"
#include "stage.h"
#include "stream.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: mp2sqlite [--replace] [--results TABLE] [stream options] FILE TABLE\n"
    "\n"
    "Writes the rows of a psflow stream (with the columns the flow added) into a\n"
    "new table of the SQLite database FILE (made if it does not exist), in one\n"
    "transaction that commits only once the whole stream arrived and checked\n"
    "out: a failed flow leaves no table.\n"
    "\n"
    "  --replace          drop TABLE (and the results table) first if they exist\n"
    "  --results TABLE    also write the stream's results there, one row each:\n"
    "                     (seq, stage, name, result as JSON text)\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  sqlite2mp app.db 'SELECT * FROM users' | fitps -t opted_in -x plan | weight \\\n"
    "      | mp2sqlite --results study app.db scored_users\n";

_Noreturn static void
sql_die(sqlite3 *db, const char *path, const char *doing)
{
	die("SQLite (%s): %s: %s (nothing was committed)", path, doing, sqlite3_errmsg(db));
}

static void
exec_sql(sqlite3 *db, const char *path, const char *sql, const char *doing)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		sql_die(db, path, doing);
}

/* An identifier in double quotes, embedded quotes doubled. */
static char *
quoted(const char *name)
{
	size_t n = strlen(name);
	char *q = xmalloc(2 * n + 3), *p = q;

	*p++ = '"';
	for (const char *s = name; *s; s++) {
		if (*s == '"')
			*p++ = '"';
		*p++ = *s;
	}
	*p++ = '"';
	*p = '\0';
	return q;
}

static const char *
sql_type(coltype t)
{
	switch (t) {
	case COL_F64: return "REAL";
	case COL_I64: return "INTEGER";
	case COL_BOOL: return "BOOLEAN";
	case COL_CAT: return "TEXT";
	}
	return "TEXT";
}

static void
insert_rows(sqlite3 *db, const char *path, sqlite3_stmt *ins, const table *t)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (int i = 0; i < t->ncols; i++) {
			const column *c = &t->cols[i];
			int rc;

			if (column_is_missing(c, r))
				rc = sqlite3_bind_null(ins, i + 1);
			else if (c->type == COL_F64)
				rc = sqlite3_bind_double(ins, i + 1, ((const double *)c->data)[r]);
			else if (c->type == COL_I64)
				rc = sqlite3_bind_int64(ins, i + 1, ((const int64_t *)c->data)[r]);
			else if (c->type == COL_BOOL)
				rc = sqlite3_bind_int(ins, i + 1, ((const uint8_t *)c->data)[r]);
			else
				rc = sqlite3_bind_text(ins, i + 1, c->levels[((const int32_t *)c->data)[r]],
				    -1, SQLITE_STATIC);
			if (rc != SQLITE_OK)
				sql_die(db, path, "binding a value");
		}
		if (sqlite3_step(ins) != SQLITE_DONE)
			sql_die(db, path, "inserting a row");
		sqlite3_reset(ins);
	}
}

static void
write_results(sqlite3 *db, const char *path, const char *ident, const rawlist *results)
{
	size_t n = strlen(ident) + 128;
	char *sql = xmalloc(n);
	sqlite3_stmt *ins;

	snprintf(sql, n, "CREATE TABLE %s (seq INTEGER, stage TEXT, name TEXT, result TEXT)", ident);
	exec_sql(db, path, sql, "creating the results table");
	snprintf(sql, n, "INSERT INTO %s VALUES (?, ?, ?, ?)", ident);
	if (sqlite3_prepare_v2(db, sql, -1, &ins, NULL) != SQLITE_OK)
		sql_die(db, path, "preparing the results' insert");
	for (int i = 0; i < results->n; i++) {
		msgpack_unpacked u;
		char *json, *stage, *name;
		size_t jlen = 0;

		mpraw_unpack(&results->items[i], &u);
		json = mpo_result_json(&u.data, &jlen, &stage, &name);
		sqlite3_bind_int(ins, 1, i + 1);
		sqlite3_bind_text(ins, 2, stage, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, json, (int)jlen, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			sql_die(db, path, "writing a result");
		sqlite3_reset(ins);
		free(stage);
		free(name);
		free(json);
		msgpack_unpacked_destroy(&u);
	}
	sqlite3_finalize(ins);
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
	const char *results_table = NULL, *path;
	int opt, replace = 0;
	sqlite3 *db;
	sqlite3_stmt *ins;
	char *ident, *rident = NULL, *sql;
	size_t n;
	stream_in *in;
	const table *schema;
	table rows;
	rawlist results = { 0 };
	mpraw raw;

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
		die_usage("give FILE and TABLE (two arguments)");
	path = argv[optind];
	ident = quoted(argv[optind + 1]);
	if (results_table)
		rident = quoted(results_table);
	in = stream_in_open(cli.in, &cli.io);
	schema = &stream_in_head(in)->schema;
	if (schema->ncols == 0)
		die("the stream has no columns: nothing to put in a table");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		sql_die(db, path, "opening the database");
	exec_sql(db, path, "BEGIN IMMEDIATE", "starting a transaction");
	n = strlen(ident) + (rident ? strlen(rident) : 0) + 64;
	for (int i = 0; i < schema->ncols; i++)
		n += 2 * strlen(schema->cols[i].name) + 24;
	sql = xmalloc(n);
	if (replace) {
		snprintf(sql, n, "DROP TABLE IF EXISTS %s", ident);
		exec_sql(db, path, sql, "dropping the old table");
		if (rident) {
			snprintf(sql, n, "DROP TABLE IF EXISTS %s", rident);
			exec_sql(db, path, sql, "dropping the old results table");
		}
	}
	{
		size_t at = (size_t)snprintf(sql, n, "CREATE TABLE %s (", ident);

		for (int i = 0; i < schema->ncols; i++) {
			char *col = quoted(schema->cols[i].name);

			at += (size_t)snprintf(sql + at, n - at, "%s%s %s", i ? ", " : "", col,
			    sql_type(schema->cols[i].type));
			free(col);
		}
		snprintf(sql + at, n - at, ")");
		exec_sql(db, path, sql, "creating the table (--replace drops one that exists)");
	}
	{
		size_t at = (size_t)snprintf(sql, n, "INSERT INTO %s VALUES (", ident);

		for (int i = 0; i < schema->ncols; i++)
			at += (size_t)snprintf(sql + at, n - at, "%s?", i ? ", " : "");
		snprintf(sql + at, n - at, ")");
		if (sqlite3_prepare_v2(db, sql, -1, &ins, NULL) != SQLITE_OK)
			sql_die(db, path, "preparing the insert");
	}
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
			insert_rows(db, path, ins, &rows);
		else
			rawlist_add(&results, &raw);
	}
	sqlite3_finalize(ins);
	if (rident)
		write_results(db, path, rident, &results);
	exec_sql(db, path, "COMMIT", "committing");
	sqlite3_close(db);
	if (!cli.quiet)
		err_warn("%" PRIu64 " rows into %s%s%s", stream_in_rows(in), argv[optind + 1],
		    rident ? ", the results into " : "", rident ? results_table : "");
	stream_in_free(in);
	table_free(&rows);
	rawlist_free(&results);
	free(sql);
	free(ident);
	free(rident);
	return EXIT_OK;
}
