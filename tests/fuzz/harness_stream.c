/* The stream decoder: head, batches (bin and array columns), results, end,
 * from bytes as a pipe delivers them; results printed as report --json
 * prints them. */
#include <stdio.h>

#include "harness.h"
#include "stream.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static stream_in *s;
	static table rows;
	static FILE *sink;

	if (sink == NULL)
		sink = fopen("/dev/null", "w");
	s = NULL;
	table_init(&rows);
	FUZZ_GUARDED({
		mpraw raw;

		s = stream_in_new(io_in_memory(data, size, "fuzz", FUZZ_MAX_MESSAGE));
		stream_in_read_head(s);
		table_copy_schema(&rows, &stream_in_head(s)->schema);
		for (;;) {
			stream_event ev;

			rows.nrows = 0;
			ev = stream_in_next(s, &rows, &raw);
			if (ev == STREAM_END)
				break;
			if (ev == STREAM_RESULT) {
				msgpack_unpacked u;

				mpraw_unpack(&raw, &u);
				mpo_json(sink, &u.data);
				msgpack_unpacked_destroy(&u);
			}
		}
	});
	table_free(&rows);
	stream_in_free(s);
	return 0;
}
