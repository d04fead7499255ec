/* mp2jsonl — a psflow stream's rows as JSON Lines, one object per row.
 *
 * Contract: every row becomes {"column": value, ...} in the stream's column
 * order (or --columns'), numbers with the fewest digits that read back as
 * the same double, cat values as their level, missing values null; strings
 * are written by jansson (valid UTF-8: a byte that is not becomes U+FFFD
 * first). Results are not rows: their count is said on stderr. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "err.h"
#include "mpo.h"
#include "stream.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: mp2jsonl [--columns COLS] [stream options]\n"
    "\n"
    "Writes the rows of a psflow stream as JSON Lines (one object per row) to\n"
    "stdout (or --out FILE); missing values are null.\n"
    "\n"
    "  --columns COLS     only these columns (comma-separated), in this order\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  gen -n 100 | fitps -t opt_in_agent_mode -x engagement_tier | mp2jsonl | head -2\n";

/* A level as a JSON string: jansson wants UTF-8, a Latin-1 byte becomes U+FFFD. */
static json_t *
json_text(const char *s)
{
	size_t n = strlen(s), at = 0;
	char *fixed;
	json_t *j;

	if ((j = json_string(s)) != NULL)
		return j;
	fixed = xmalloc(3 * n + 1);
	for (size_t i = 0; i < n;) {
		size_t l = utf8_len((const unsigned char *)s + i, n - i);

		if (l == 0) {
			memcpy(fixed + at, "\xef\xbf\xbd", 3);
			at += 3;
			i++;
		} else {
			memcpy(fixed + at, s + i, l);
			at += l;
			i += l;
		}
	}
	fixed[at] = '\0';
	j = json_string(fixed);
	free(fixed);
	return j;
}

static void
json_string_to_file(FILE *f, const char *s)
{
	json_t *j = json_text(s);

	json_dumpf(j, f, JSON_ENCODE_ANY);
	json_decref(j);
}

static void
write_row(FILE *f, const table *t, size_t r, const int *pick, int n)
{
	fputc('{', f);
	for (int i = 0; i < n; i++) {
		const column *c = &t->cols[pick[i]];
		char num[48];

		if (i)
			fputc(',', f);
		json_string_to_file(f, c->name);
		fputc(':', f);
		if (column_is_missing(c, r)) {
			fputs("null", f);
			continue;
		}
		switch (c->type) {
		case COL_F64:
			format_double(num, sizeof num, ((const double *)c->data)[r]);
			fputs(num, f);
			break;
		case COL_I64:
			fprintf(f, "%" PRId64, ((const int64_t *)c->data)[r]);
			break;
		case COL_BOOL:
			fputs(((const uint8_t *)c->data)[r] ? "true" : "false", f);
			break;
		case COL_CAT:
			json_string_to_file(f, c->levels[((const int32_t *)c->data)[r]]);
			break;
		}
	}
	fputs("}\n", f);
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
	const char *name, *columns = NULL;
	int opt, results = 0, *pick, npick;
	stream_in *in;
	const table *schema;
	table rows;
	mpraw raw;

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
	table_init(&rows);
	table_copy_schema(&rows, schema);
	for (;;) {
		stream_event ev;

		rows.nrows = 0;
		ev = stream_in_next(in, &rows, &raw);
		if (ev == STREAM_END)
			break;
		if (ev == STREAM_BATCH) {
			for (size_t r = 0; r < rows.nrows; r++)
				write_row(stdout, &rows, r, pick, npick);
			cli_check_output(stdout, name, 0);
		} else
			results++;
	}
	if (results && !cli.quiet)
		err_warn("note: the stream's %d result message(s) are not rows and are not in "
		    "the output (mpcat shows them)", results);
	table_free(&rows);
	free(pick);
	stream_in_free(in);
	cli_check_output(stdout, name, 1);
	return EXIT_OK;
}
