/* mp2csv — any psflow stream to CSV with a header row.
 *
 * Contract: reads any stream; writes every column of every row (or the
 * columns --columns names, in its order). Missing
 * values are empty fields; f64 values are written with the fewest digits
 * that read back as the same double. Results are not rows: their count is
 * said on stderr (see them with mpcat). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csv.h"
#include "err.h"
#include "mpo.h"
#include "stream.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: mp2csv [--columns COLS] [stream options]\n"
    "\n"
    "Writes the rows of a psflow stream as CSV with a header row to stdout\n"
    "(or --out FILE). Missing values become empty fields.\n"
    "\n"
    "  --columns COLS     only these columns (comma-separated), in this order\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  gen -n 1000 | fitps -t opt_in_agent_mode -x engagement_tier | weight \\\n"
    "      | mp2csv --columns user_id,ps,w_ate --out scored.csv\n";

/* The columns written: pick[0..n) indexes into the stream's. */
static void
write_rows(FILE *f, const table *t, const int *pick, int n)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (int i = 0; i < n; i++) {
			if (i)
				fputc(',', f);
			csv_write_cell(f, &t->cols[pick[i]], r);
		}
		fputc('\n', f);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "columns", required_argument, NULL, OPT_PROGRAM_BASE },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	cli_common cli;
	stream_in *in;
	const table *schema;
	table rows;
	mpraw raw;
	FILE *f = stdout;
	const char *name, *columns = NULL;
	int opt, results = 0, *pick, npick;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == OPT_PROGRAM_BASE)
			columns = optarg;
		else
			cli_other_option(&cli, opt, optarg, usage_text);
	}
	cli_no_operands(argc, argv);
	name = cli_text_output(&cli);
	in = stream_in_open(cli.in, &cli.io);
	schema = &stream_in_head(in)->schema;
	pick = cli_pick_columns(schema, columns, &npick);
	for (int i = 0; i < npick; i++) {
		const char *col = schema->cols[pick[i]].name;

		if (i)
			fputc(',', f);
		csv_write_field(f, col, strlen(col));
	}
	fputc('\n', f);
	table_init(&rows);
	table_copy_schema(&rows, schema);
	for (;;) {
		stream_event ev;

		rows.nrows = 0;
		ev = stream_in_next(in, &rows, &raw);
		if (ev == STREAM_END)
			break;
		if (ev == STREAM_BATCH) {
			write_rows(f, &rows, pick, npick);
			cli_check_output(f, name, 0);
		} else
			results++;
	}
	if (results && !cli.quiet)
		err_warn("note: the stream's %d result message(s) are not rows and are "
		    "not in the CSV (mpcat shows them)", results);
	table_free(&rows);
	free(pick);
	stream_in_free(in);
	cli_check_output(f, name, 1);
	return EXIT_OK;
}
