/* mp2csv — any psflow stream to CSV with a header row.
 *
 * Contract: reads any stream; writes every column of every row. Missing
 * values are empty fields; f64 values are written with the fewest digits
 * that read back as the same double. Results are not rows: their count is
 * said on stderr (see them with mpcat). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "csv.h"
#include "err.h"
#include "mpo.h"
#include "stream.h"

static const char usage_text[] =
    "usage: mp2csv [stream options]\n"
    "\n"
    "Writes the rows of a psflow stream as CSV with a header row to stdout\n"
    "(or --out FILE). Missing values become empty fields.\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  gen -n 1000 | fitps -t opt_in_agent_mode -x engagement_tier | mp2csv > scored.csv\n";

static void
write_rows(FILE *f, const table *t)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (int i = 0; i < t->ncols; i++) {
			const column *c = &t->cols[i];

			if (i)
				fputc(',', f);
			csv_write_cell(f, c, r);
		}
		fputc('\n', f);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	cli_common cli;
	stream_in *in;
	const table *schema;
	table rows;
	mpraw raw;
	FILE *f = stdout;
	int opt, results = 0;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		cli_other_option(&cli, opt, optarg, usage_text);
	}
	cli_no_operands(argc, argv);
	if (io_is_zmq_spec(cli.out))
		die_usage("mp2csv writes CSV text, not a stream: --out is a file or '-' "
		    "(send the stream itself with the stage's --out)");
	if (strcmp(cli.out, "-") != 0 && (f = fopen(cli.out, "w")) == NULL)
		die("cannot open '%s':", cli.out);
	in = stream_in_open(cli.in, &cli.io);
	schema = &stream_in_head(in)->schema;
	for (int i = 0; i < schema->ncols; i++) {
		if (i)
			fputc(',', f);
		csv_write_field(f, schema->cols[i].name, strlen(schema->cols[i].name));
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
			write_rows(f, &rows);
			cli_check_output(f, strcmp(cli.out, "-") ? cli.out : "stdout", 0);
		} else
			results++;
	}
	if (results && !cli.quiet)
		err_warn("note: the stream's %d result message(s) are not rows and are "
		    "not in the CSV (mpcat shows them)", results);
	table_free(&rows);
	stream_in_free(in);
	cli_check_output(f, strcmp(cli.out, "-") ? cli.out : "stdout", 1);
	if (f != stdout && fclose(f) != 0)
		die("writing %s:", cli.out);
	return EXIT_OK;
}
