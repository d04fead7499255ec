/* The CSV reader: records and fields (quotes, CRLF, lone CR), the NUL check. */
#include <string.h>

#include "csv.h"
#include "harness.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static csv_reader r;
	static int live;

	live = 0;
	FUZZ_GUARDED({
		size_t total = 0;

		csv_check_text((const char *)data, size, "fuzz");
		csv_init(&r, (const char *)data, size);
		live = 1;
		while (csv_next(&r))
			for (int i = 0; i < r.nfields; i++)
				total += r.fields[i].len ? (unsigned char)r.fields[i].p[0] : 0;
		(void)total;
	});
	if (live)
		csv_free(&r);
	return 0;
}
