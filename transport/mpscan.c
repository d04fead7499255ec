#include "mpscan.h"

static uint64_t
be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* How one type byte is laid out: `hdr` length bytes follow it (or fixed
 * payload bytes if hdr == 0), and the object is a payload of `fixed` bytes,
 * a payload whose length is in the header, or a container. */
enum shape { SCALAR, PAYLOAD, EXT, ARRAY, MAP, BAD };

static enum shape
classify(uint8_t b, int *hdr, uint64_t *fixed, uint64_t *count)
{
	*hdr = 0;
	*fixed = 0;
	*count = 0;
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		return SCALAR;
	if (b >= 0xa0 && b <= 0xbf) {
		*fixed = b & 0x1f;
		return SCALAR;
	}
	if (b >= 0x90 && b <= 0x9f) {
		*count = b & 0x0f;
		return ARRAY;
	}
	if (b >= 0x80 && b <= 0x8f) {
		*count = b & 0x0f;
		return MAP;
	}
	switch (b) {
	case 0xcc: case 0xd0: *fixed = 1; return SCALAR;
	case 0xcd: case 0xd1: *fixed = 2; return SCALAR;
	case 0xca: case 0xce: case 0xd2: *fixed = 4; return SCALAR;
	case 0xcb: case 0xcf: case 0xd3: *fixed = 8; return SCALAR;
	case 0xd4: *fixed = 2; return SCALAR;  /* fixext 1: type + 1 */
	case 0xd5: *fixed = 3; return SCALAR;
	case 0xd6: *fixed = 5; return SCALAR;
	case 0xd7: *fixed = 9; return SCALAR;
	case 0xd8: *fixed = 17; return SCALAR;
	case 0xc4: case 0xd9: *hdr = 1; return PAYLOAD;
	case 0xc5: case 0xda: *hdr = 2; return PAYLOAD;
	case 0xc6: case 0xdb: *hdr = 4; return PAYLOAD;
	case 0xc7: *hdr = 1; return EXT;
	case 0xc8: *hdr = 2; return EXT;
	case 0xc9: *hdr = 4; return EXT;
	case 0xdc: *hdr = 2; return ARRAY;
	case 0xdd: *hdr = 4; return ARRAY;
	case 0xde: *hdr = 2; return MAP;
	case 0xdf: *hdr = 4; return MAP;
	default: return BAD; /* 0xc1 */
	}
}

mpscan_status
mpscan(const uint8_t *p, size_t avail, size_t cap, size_t *len)
{
	uint64_t remain[MPSCAN_MAX_DEPTH + 1];
	int depth = 1;
	uint64_t pos = 0, objects = 0;

	if (avail > cap)
		avail = cap;
	remain[0] = 1;
	while (depth > 0) {
		int hdr;
		uint64_t fixed, count, body;
		enum shape shape;

		if (remain[depth - 1] == 0) {
			depth--;
			continue;
		}
		remain[depth - 1]--;
		if (pos >= avail)
			return pos >= cap ? MPSCAN_TOO_BIG : MPSCAN_NEED_MORE;
		if (++objects > MPSCAN_MAX_OBJECTS)
			return MPSCAN_TOO_BIG;
		shape = classify(p[pos++], &hdr, &fixed, &count);
		if (shape == BAD)
			return MPSCAN_INVALID;
		if (pos + (uint64_t)hdr > avail)
			return pos + hdr > cap ? MPSCAN_TOO_BIG : MPSCAN_NEED_MORE;
		body = hdr ? be(p + pos, hdr) : 0;
		pos += hdr;
		switch (shape) {
		case SCALAR:
			body = fixed;
			break;
		case PAYLOAD:
			break;
		case EXT:
			body += 1; /* the ext type byte */
			break;
		case ARRAY:
		case MAP:
			if (hdr)
				count = body;
			if (shape == MAP)
				count *= 2;
			/* every element takes at least one byte */
			if (count > cap - pos)
				return MPSCAN_TOO_BIG;
			if (count > 0) {
				if (depth > MPSCAN_MAX_DEPTH)
					return MPSCAN_TOO_DEEP;
				remain[depth++] = count;
			}
			continue;
		case BAD:
			return MPSCAN_INVALID;
		}
		if (body > cap - pos)
			return MPSCAN_TOO_BIG;
		if (pos + body > avail)
			return MPSCAN_NEED_MORE;
		pos += body;
	}
	*len = (size_t)pos;
	return MPSCAN_OK;
}

const char *
mpscan_strerror(mpscan_status s)
{
	switch (s) {
	case MPSCAN_OK: return "ok";
	case MPSCAN_NEED_MORE: return "truncated MessagePack object";
	case MPSCAN_INVALID: return "invalid MessagePack byte (corrupt stream?)";
	case MPSCAN_TOO_DEEP: return "MessagePack nesting deeper than 32 containers";
	case MPSCAN_TOO_BIG: return "message larger than the size cap (see --max-message)";
	}
	return "unknown scan status";
}
