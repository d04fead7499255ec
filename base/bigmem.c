#define _GNU_SOURCE /* mremap */
#include "bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "err.h"

#define HUGE_PAGE ((size_t)1 << 21)

/* Huge pages only when PSFLOW_HUGE_PAGES=1 asks (see bigmem.h). */
static int
huge_pages_wanted(void)
{
	static int wanted = -1;

	if (wanted < 0) {
		const char *v = getenv("PSFLOW_HUGE_PAGES");

		if (v == NULL || strcmp(v, "0") == 0 || *v == '\0')
			wanted = 0;
		else if (strcmp(v, "1") == 0)
			wanted = 1;
		else
			die("PSFLOW_HUGE_PAGES is '%s': give 1 (advise huge pages) or 0 (the "
			    "default: leave pages to the kernel)", v);
	}
	return wanted;
}

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
	if (huge_pages_wanted())
		madvise(start, len, MADV_HUGEPAGE); /* advice: ignored where unsupported */
#endif
	return start;
}

/* A small block, from malloc (bigmem sits below xalloc, which advises
 * through it). */
static void *
small_resize(void *p, size_t new_size)
{
	void *q = realloc(p, new_size ? new_size : 1);

	if (q == NULL)
		die("out of memory allocating %zu bytes", new_size);
	return q;
}

void *
bigmem_resize(void *p, size_t old_size, size_t new_size)
{
	int was_big = p != NULL && old_size >= BIGMEM_MIN, big = new_size >= BIGMEM_MIN;
	void *q;

	if (!was_big && !big)
		return small_resize(p, new_size);
	if (was_big && big && mapped_size(old_size) == mapped_size(new_size))
		return p;
	/* Shrinking a mapping: its tail given back, its head kept where it is
	 * (nothing copied, no page touched afresh) */
	if (was_big && big && new_size < old_size) {
		munmap((char *)p + mapped_size(new_size), mapped_size(old_size) -
		    mapped_size(new_size));
		return p;
	}
	q = big ? map_big(new_size) : small_resize(NULL, new_size);
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

void
bigmem_advise(void *p, size_t size)
{
#ifdef MADV_HUGEPAGE
	uintptr_t from = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	uintptr_t to = ((uintptr_t)p + size) & ~(uintptr_t)(HUGE_PAGE - 1);

	if (to > from && huge_pages_wanted())
		madvise((void *)from, to - from, MADV_HUGEPAGE); /* advice: may be ignored */
#else
	(void)p, (void)size;
#endif
}

/* Stages allocate and free batch-sized buffers over and over (boot: per
 * replicate): glibc would map each large one afresh and hand it back when
 * freed, and the kernel fault it in again. So freed memory is kept, blocks
 * under 32 MB come from the heap, and the heap grows 32 MB at a time
 * (untouched, that costs nothing). boot's worker threads share the heap
 * (one arena) rather than each getting a fresh, unadvised one.
 *
 * The kernel puts a huge page only where a whole 2 MB stretch is advised,
 * and the heap starts at a random place inside its first stretch: what
 * malloc hands out first would be faulted in 4 kB at a time (for 50,000
 * rows, the first few columns: about 250 faults a stage). So the rest of
 * that stretch is filled with a block that is never touched (it costs no
 * memory) and never freed, and the heap from the next boundary to its end
 * is advised. Blocks beyond that end, when the heap grows, are advised by
 * the x-allocators as they hand them out. Sanitizers bring their own
 * allocator: nothing to do there. */
void
bigmem_prepare_heap(void)
{
	(void)huge_pages_wanted(); /* a bad PSFLOW_HUGE_PAGES stops every build at start */
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
	static void *filler;
	void *probe;
	uintptr_t at, boundary, end;

	if (filler)
		return;
	mallopt(M_MMAP_THRESHOLD, 32 << 20); /* glibc's largest */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 32 << 20);
	mallopt(M_ARENA_MAX, 1);
	if (!huge_pages_wanted())
		return;
	/* a block no free chunk can hold comes from the top of the heap */
	probe = malloc(1 << 16);
	at = (uintptr_t)probe;
	boundary = (at + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	free(probe); /* back into the top */
	if (at == 0)
		return;
	filler = malloc(boundary - at > (1 << 12) ? boundary - at - 64 : 1); /* 64: malloc's header */
	end = (uintptr_t)sbrk(0);
	if (filler && end > boundary)
		bigmem_advise((void *)boundary, end - boundary);
#endif
}
