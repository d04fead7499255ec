#include "levelset.h"

#include <stdlib.h>
#include <string.h>

#include "hashbits.h"
#include "xalloc.h"

void
levelset_init(levelset *s)
{
	memset(s, 0, sizeof *s);
}

static uint64_t
text_hash(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

static int
same(const char *a, const char *p, size_t len)
{
	return strncmp(a, p, len) == 0 && a[len] == '\0';
}

static void
place(levelset *s, size_t i)
{
	size_t at = hash_slot(text_hash(s->texts[i], strlen(s->texts[i])), s->nslots);

	while (s->slots[at])
		at = (at + 1) & (s->nslots - 1);
	s->slots[at] = i + 1;
}

static void
reindex(levelset *s, size_t nslots)
{
	free(s->slots);
	s->nslots = nslots;
	s->slots = xcalloc(nslots, sizeof *s->slots);
	for (size_t i = 0; i < s->n; i++)
		place(s, i);
}

int64_t
levelset_find(const levelset *s, const char *text, size_t len)
{
	if (s->nslots == 0)
		return -1;
	for (size_t at = hash_slot(text_hash(text, len), s->nslots); s->slots[at];
	    at = (at + 1) & (s->nslots - 1))
		if (same(s->texts[s->slots[at] - 1], text, len))
			return (int64_t)s->slots[at] - 1;
	return -1;
}

size_t
levelset_add(levelset *s, const char *text, size_t len)
{
	int64_t found = levelset_find(s, text, len);

	if (found >= 0)
		return (size_t)found;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->texts = xreallocarray(s->texts, s->cap, sizeof *s->texts);
	}
	s->texts[s->n] = xstrndup(text, len);
	s->n++;
	if (2 * s->n > s->nslots)
		reindex(s, s->nslots ? 2 * s->nslots : 32);
	else
		place(s, s->n - 1);
	return s->n - 1;
}

static int
by_bytes(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
levelset_sort(levelset *s)
{
	qsort(s->texts, s->n, sizeof *s->texts, by_bytes);
	if (s->nslots)
		reindex(s, s->nslots);
}

void
levelset_free(levelset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->texts[i]);
	free(s->texts);
	free(s->slots);
	levelset_init(s);
}
