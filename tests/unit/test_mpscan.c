/* mpscan: object lengths and every refusal, on hand-made bytes. */
#include <string.h>

#include "check.h"
#include "mpscan.h"

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ })

int
main(void)
{
	size_t len = 0;
	uint8_t deep[100];
	const size_t cap = 1000;

	CHECK(mpscan(BYTES(0x01), 1, cap, &len) == MPSCAN_OK && len == 1, "positive fixint");
	CHECK(mpscan(BYTES(0x81, 0xa1, 'k', 0xc0, 0xff), 5, cap, &len) == MPSCAN_OK &&
	    len == 4, "map {k: nil} is 4 bytes, trailing byte not counted");
	CHECK(mpscan(BYTES(0x92, 0xcb, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0xc3), 11, cap, &len) ==
	    MPSCAN_OK && len == 11, "array of float64 and true");
	CHECK(mpscan(BYTES(0xc4, 3, 1, 2, 3), 5, cap, &len) == MPSCAN_OK && len == 5,
	    "bin8 of 3 bytes");
	CHECK(mpscan(BYTES(0xc4, 3, 1, 2), 4, cap, &len) == MPSCAN_NEED_MORE,
	    "bin8 cut short asks for more");
	CHECK(mpscan(BYTES(0x92, 0x01), 2, cap, &len) == MPSCAN_NEED_MORE,
	    "array missing an element asks for more");
	CHECK(mpscan(BYTES(0xc6, 0xff, 0xff, 0xff, 0xff), 5, cap, &len) == MPSCAN_TOO_BIG,
	    "bin32 claiming 4 GiB is refused at once");
	CHECK(mpscan(BYTES(0xdb, 0xff, 0xff, 0xff, 0xf0), 5, cap, &len) == MPSCAN_TOO_BIG,
	    "str32 claiming 4 GiB is refused at once");
	CHECK(mpscan(BYTES(0xdd, 0x7f, 0xff, 0xff, 0xff), 5, cap, &len) == MPSCAN_TOO_BIG,
	    "array32 of 2^31 elements is refused at once");
	CHECK(mpscan(BYTES(0xdf, 0x00, 0x00, 0x01, 0xf5), 5, cap, &len) == MPSCAN_TOO_BIG,
	    "map32 of 501 pairs > 1000-byte cap");
	CHECK(mpscan(BYTES(0xc1), 1, cap, &len) == MPSCAN_INVALID, "0xc1 is invalid");
	CHECK(mpscan(BYTES(0xd4, 1, 2), 3, cap, &len) == MPSCAN_OK && len == 3, "fixext1");
	CHECK(mpscan(BYTES(0xc7, 2, 5, 1, 2), 5, cap, &len) == MPSCAN_OK && len == 5, "ext8");
	memset(deep, 0x91, sizeof deep); /* array of one array of one ... */
	CHECK(mpscan(deep, sizeof deep, cap, &len) == MPSCAN_TOO_DEEP,
	    "100 nested arrays are too deep");
	deep[32] = 0xc0; /* 32 arrays around a nil: allowed */
	CHECK(mpscan(deep, 33, cap, &len) == MPSCAN_OK && len == 33,
	    "32 nested arrays are allowed");
	deep[32] = 0x91;
	deep[33] = 0xc0;
	CHECK(mpscan(deep, 34, cap, &len) == MPSCAN_TOO_DEEP, "33 nested arrays are not");
	CHECK(mpscan(BYTES(0x01), 0, cap, &len) == MPSCAN_NEED_MORE, "no bytes: need more");
	CHECK_DONE();
}
