#define _GNU_SOURCE /* mremap */
#include "bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "err.h"

#define HUGE_PAGE ((size_t)1 << 21)

static size_t
mapped_size(size_t size)
{
	return (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

/* A mapping aligned to a huge page (map one page more, unmap the edges),
 * so the kernel can back all of it with huge pages. */
static void *
map_big(size_t size)
{
	size_t len = mapped_size(size), extra = len + HUGE_PAGE;
	uint8_t *raw = mmap(NULL, extra, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *start;
	size_t head;

	if (raw == MAP_FAILED)
		die("out of memory (mapping %zu MB)", size >> 20);
	start = (uint8_t *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	head = (size_t)(start - raw);
	if (head)
		munmap(raw, head);
	if (extra - head > len)
		munmap(start + len, extra - head - len);
#ifdef MADV_HUGEPAGE
	madvise(start, len, MADV_HUGEPAGE); /* advice: ignored where unsupported */
#endif
	return start;
}

void *
bigmem_resize(void *p, size_t old_size, size_t new_size)
{
	int was_big = p != NULL && old_size >= BIGMEM_MIN, big = new_size >= BIGMEM_MIN;
	void *q;

	if (!was_big && !big)
		return xrealloc(p, new_size ? new_size : 1);
	if (was_big && big && mapped_size(old_size) == mapped_size(new_size))
		return p;
	q = big ? map_big(new_size) : xmalloc(new_size ? new_size : 1);
	/* Growing a mapping: move its pages to the head of the new one instead
	 * of copying them. No byte is copied or touched again, and the old and
	 * new copies are never both resident (a copy would double a column's
	 * footprint at each doubling). Both ends are huge-page aligned, so huge
	 * pages stay huge. */
	if (was_big && big && new_size > old_size &&
	    mremap(p, mapped_size(old_size), mapped_size(old_size),
	    MREMAP_MAYMOVE | MREMAP_FIXED, q) != MAP_FAILED)
		return q;
	if (p)
		memcpy(q, p, old_size < new_size ? old_size : new_size);
	bigmem_free(p, old_size);
	return q;
}

void
bigmem_free(void *p, size_t size)
{
	if (p == NULL)
		return;
	if (size >= BIGMEM_MIN)
		munmap(p, mapped_size(size));
	else
		free(p);
}
