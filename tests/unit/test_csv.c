/* csv: quoting, embedded line breaks, CRLF, BOM, blank lines. */
#include <string.h>

#include "check.h"
#include "csv.h"

static int
field_is(const csv_reader *r, int i, const char *want)
{
	return i < r->nfields && r->fields[i].len == strlen(want) &&
	    memcmp(r->fields[i].p, want, r->fields[i].len) == 0;
}

int
main(void)
{
	const char *text = "\xEF\xBB\xBF" "a,b,c\r\n"
	    "1,\"x, y\",\"say \"\"hi\"\"\"\r\n"
	    "2,\"two\nlines\",\r\n"
	    "\n"
	    "3,,z\n\n\n";
	csv_reader r;

	csv_init(&r, text, strlen(text));
	CHECK(csv_next(&r) && r.nfields == 3 && field_is(&r, 0, "a") && field_is(&r, 2, "c"),
	    "BOM skipped, CRLF header");
	CHECK(csv_next(&r) && field_is(&r, 1, "x, y") && field_is(&r, 2, "say \"hi\""),
	    "quoted comma and doubled quotes");
	CHECK(r.record_line == 2, "record line of row 1 is 2");
	CHECK(csv_next(&r) && field_is(&r, 1, "two\nlines") && field_is(&r, 2, "") &&
	    r.nfields == 3, "embedded newline, empty last field before CRLF");
	CHECK(csv_next(&r) && r.nfields == 1 && field_is(&r, 0, "") && r.record_line == 5,
	    "a blank line inside the file is a record of one empty field (line 5)");
	CHECK(csv_next(&r) && field_is(&r, 0, "3") && field_is(&r, 1, "") &&
	    field_is(&r, 2, "z") && r.record_line == 6, "empty middle field; line count");
	CHECK(!csv_next(&r), "trailing blank lines end the file");
	csv_free(&r);
	CHECK_DONE();
}
