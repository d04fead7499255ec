/* bigmem — allocations of megabytes (batches, columns), mapped on their
 * own so that a growing column moves its pages instead of copying them,
 * optionally advised for transparent huge pages.
 *
 * A stage touches every page of its batches about once, and a first touch
 * costs the kernel (and under virtualisation the host) more than the
 * stage's work on the page. Which page size costs less depends on the
 * host: on the EPYC VM these stages were first tuned on, a 4 kB fault took
 * about 12 us and a 2 MB one about 120 us, so huge pages won; on the Xeon
 * VM of 2026-12 a fresh gigabyte took 0.8-1.0 s in 4 kB pages and 3-4 s in
 * huge pages when the host had taken the memory back (0.5 s either way
 * when it had not), and the 10M-row study's system time fell from 11 to
 * 7 s without the advice. So the advice is off unless PSFLOW_HUGE_PAGES=1
 * asks for it; then buffers of BIGMEM_MIN bytes or more are advised with
 * MADV_HUGEPAGE, malloc's heap once at start (bigmem_prepare_heap), and the
 * x-allocators (xalloc.h) advise every block of BIGMEM_MIN bytes or more
 * they hand out. Callers pass the size they hold, which is what decides
 * where a block lives. Dies when memory runs out, and on a
 * PSFLOW_HUGE_PAGES other than 0 or 1.
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

/* Advises the whole 2 MB stretches of [p, p + size) for huge pages (with
 * PSFLOW_HUGE_PAGES=1; else nothing). */
void bigmem_advise(void *p, size_t size);

/* Before a program allocates much: malloc keeps what is freed, grows its
 * heap in large steps, serves every thread from that heap, and (with
 * PSFLOW_HUGE_PAGES=1) the heap is advised for huge pages. */
void bigmem_prepare_heap(void);

#endif
