#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "err.h"

/* Blocks of megabytes on huge pages (see bigmem.h): advised before the
 * caller touches them. */
static void *
advised(void *p, size_t n)
{
	if (n >= BIGMEM_MIN)
		bigmem_advise(p, n);
	return p;
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die("out of memory allocating %zu bytes", n);
	return advised(p, n);
}

void *
xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (p == NULL)
		die("out of memory allocating %zu x %zu bytes", count, size);
	return advised(p, count * size);
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		die("out of memory allocating %zu bytes", n);
	return advised(q, n);
}

void *
xreallocarray(void *p, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		die("allocation of %zu x %zu bytes overflows", count, size);
	return xrealloc(p, count * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
