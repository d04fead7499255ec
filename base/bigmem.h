/* bigmem — allocations of megabytes (batches, columns) on transparent huge
 * pages where the kernel offers them, and malloc's memory advised likewise.
 *
 * A stage touches every page of its batches about once, and each 4 kB page
 * costs the kernel a fault: under virtualisation about 12 us, more than the
 * stage's own work on it. A 2 MB page costs one fault (about 120 us). The
 * kernel gives huge pages only to memory advised with MADV_HUGEPAGE, which
 * glibc's malloc does not do unless an environment tunable
 * (glibc.malloc.hugetlb), read at start-up only, says so. So buffers of
 * BIGMEM_MIN bytes or more are mapped here and advised; malloc's heap is
 * advised once at start (bigmem_prepare_heap), and the x-allocators (xalloc.h)
 * advise every block of BIGMEM_MIN bytes or more they hand out. Callers
 * pass the size they hold, which is what decides where a block lives. Dies
 * when memory runs out.
 *
 * Ownership: a block from bigmem_resize() is the caller's, released with
 * bigmem_free() and its size. (rule: base/README.md) */
#ifndef PSFLOW_BIGMEM_H
#define PSFLOW_BIGMEM_H

#include <stddef.h>

#define BIGMEM_MIN ((size_t)1 << 21)

/* Resizes a block of old_size bytes (p NULL, old_size 0: a new block) to
 * new_size bytes, keeping the first min(old, new) bytes. */
void *bigmem_resize(void *p, size_t old_size, size_t new_size);
void bigmem_free(void *p, size_t size);

/* Advises the whole 2 MB stretches of [p, p + size) for huge pages. */
void bigmem_advise(void *p, size_t size);

/* Before a program allocates much: malloc keeps what is freed, grows its
 * heap in large steps, serves every thread from that heap, and the heap is
 * advised for huge pages. */
void bigmem_prepare_heap(void);

#endif
