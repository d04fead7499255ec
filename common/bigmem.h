/* bigmem — allocations of megabytes (batches, columns) on transparent huge
 * pages where the kernel offers them.
 *
 * A stage touches every page of its batches about once, and each 4 kB page
 * costs the kernel a fault: under virtualisation about 8 us, more than the
 * stage's own work on it. A 2 MB page costs one fault. glibc's malloc asks
 * for huge pages only when an environment tunable says so, so buffers of
 * BIGMEM_MIN bytes or more are mapped here and advised (MADV_HUGEPAGE);
 * smaller ones come from malloc. Callers pass the size they hold, which is
 * what decides where a block lives. Dies when memory runs out. */
#ifndef PSFLOW_BIGMEM_H
#define PSFLOW_BIGMEM_H

#include <stddef.h>

#define BIGMEM_MIN ((size_t)1 << 21)

/* Resizes a block of old_size bytes (p NULL, old_size 0: a new block) to
 * new_size bytes, keeping the first min(old, new) bytes. */
void *bigmem_resize(void *p, size_t old_size, size_t new_size);
void bigmem_free(void *p, size_t size);

#endif
