/* mpcat — any psflow stream as JSON lines, one message per line.
 *
 * Contract: reads any stream; writes JSON to stdout (or --out FILE). Batches are decoded by
 * the head's schema (cat values as their level, missing values as null).
 * It checks the stream as every stage does, so a broken stream ends with an
 * error after the messages that arrived whole. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "mpo.h"
#include "stream.h"

static const char usage_text[] =
    "usage: mpcat [--sizes] [stream options]\n"
    "\n"
    "Prints every message of a psflow stream as one line of JSON: the head,\n"
    "each batch (columns decoded to arrays), each result and the end.\n"
    "\n"
    "  --sizes            print batch columns as {\"bin\": bytes} instead of values\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  gen -n 3 | mpcat | jq -c 'select(.kind == \"batch\") | .columns'\n";

static void
print_value(const column *c, size_t r)
{
	switch (c->type) {
	case COL_F64:
		mpo_json_number(stdout, ((const double *)c->data)[r]);
		break;
	case COL_I64: {
		int64_t v = ((const int64_t *)c->data)[r];

		if (v == I64_MISSING)
			fputs("null", stdout);
		else
			printf("%" PRId64, v);
		break;
	}
	case COL_BOOL: {
		uint8_t v = ((const uint8_t *)c->data)[r];

		fputs(v == BOOL_MISSING ? "null" : v ? "true" : "false", stdout);
		break;
	}
	case COL_CAT: {
		int32_t v = ((const int32_t *)c->data)[r];

		if (v < 0)
			fputs("null", stdout);
		else
			mpo_json_string(stdout, c->levels[v], strlen(c->levels[v]));
		break;
	}
	}
}

static void
print_batch(const table *t, int sizes)
{
	printf("{\"kind\":\"batch\",\"rows\":%zu,\"columns\":{", t->nrows);
	for (int i = 0; i < t->ncols; i++) {
		const column *c = &t->cols[i];

		if (i)
			putchar(',');
		mpo_json_string(stdout, c->name, strlen(c->name));
		putchar(':');
		if (sizes) {
			printf("{\"bin\":%zu}", t->nrows * coltype_width(c->type));
			continue;
		}
		putchar('[');
		for (size_t r = 0; r < t->nrows; r++) {
			if (r)
				putchar(',');
			print_value(c, r);
		}
		putchar(']');
	}
	puts("}}");
}

static void
print_raw(const mpraw *raw)
{
	msgpack_unpacked u;

	mpraw_unpack(raw, &u);
	mpo_json(stdout, &u.data);
	putchar('\n');
	msgpack_unpacked_destroy(&u);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sizes", no_argument, NULL, OPT_PROGRAM_BASE },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	cli_common cli;
	int opt, sizes = 0;
	const char *name;
	uint64_t batches = 0;
	stream_in *in;
	table rows;
	mpraw raw;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == OPT_PROGRAM_BASE)
			sizes = 1;
		else
			cli_other_option(&cli, opt, optarg, usage_text);
	}
	cli_no_operands(argc, argv);
	name = cli_text_output(&cli);
	in = stream_in_open(cli.in, &cli.io);
	print_raw(stream_in_head_raw(in));
	table_init(&rows);
	table_copy_schema(&rows, &stream_in_head(in)->schema);
	for (;;) {
		stream_event ev;

		rows.nrows = 0;
		/* what arrived whole is out before any error */
		cli_check_output(stdout, name, 1);
		ev = stream_in_next(in, &rows, &raw);
		if (ev == STREAM_END)
			break;
		if (ev == STREAM_BATCH) {
			print_batch(&rows, sizes);
			batches++;
		} else
			print_raw(&raw);
	}
	printf("{\"kind\":\"end\",\"rows\":%" PRIu64 ",\"batches\":%" PRIu64 "}\n",
	    stream_in_rows(in), batches);
	table_free(&rows);
	stream_in_free(in);
	cli_check_output(stdout, name, 1);
	return EXIT_OK;
}
