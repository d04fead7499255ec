/* mpscan — find where one MessagePack object ends, without trusting it.
 *
 * msgpack-c's unpacker believes every length it reads: a 5-byte array32 or
 * bin32 header makes it allocate gigabytes (msgpack-c issue 1013). mpscan
 * walks the bytes first and checks every length against the bytes present,
 * a size cap, a nesting bound and a bound on the number of objects, so that
 * what reaches msgpack_unpack_next() is known to be whole and modest.
 * It allocates nothing and reads no byte past `avail`.
 *
 * Ownership: the bytes are borrowed; nothing is allocated. (rule: base/README.md) */
#ifndef PSFLOW_MPSCAN_H
#define PSFLOW_MPSCAN_H

#include <stddef.h>
#include <stdint.h>

#define MPSCAN_MAX_DEPTH 32
/* msgpack-c spends about 24 bytes per object it unpacks: this bounds that. */
#define MPSCAN_MAX_OBJECTS (8u * 1024 * 1024)

typedef enum {
	MPSCAN_OK,        /* one whole object of *len bytes starts at p */
	MPSCAN_NEED_MORE, /* the bytes so far are a valid prefix: read more */
	MPSCAN_INVALID,   /* a byte that is no MessagePack type (0xc1) */
	MPSCAN_TOO_DEEP,  /* nested deeper than MPSCAN_MAX_DEPTH */
	MPSCAN_TOO_BIG,   /* claims more than `cap` bytes or too many objects */
} mpscan_status;

mpscan_status mpscan(const uint8_t *p, size_t avail, size_t cap, size_t *len);
const char *mpscan_strerror(mpscan_status s);

#endif
