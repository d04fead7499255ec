/* xalloc — allocation that never returns NULL: running out of memory is a
 * runtime error (die). Blocks of BIGMEM_MIN bytes or more are advised for
 * huge pages before the caller touches them (bigmem.h). Free with free().
 *
 * Ownership: the caller owns what these return (free() it). (rule: base/README.md) */
#ifndef PSFLOW_XALLOC_H
#define PSFLOW_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Array allocation with the multiplication checked for overflow. */
void *xreallocarray(void *p, size_t count, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
