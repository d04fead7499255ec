/* levelset — the distinct texts of a column, made into a cat column's
 * levels: sorted byte-wise (as csv2mp sorts them, and PostgreSQL's
 * COLLATE "C"), each text's code looked up by hashing.
 *
 * Ownership: a levelset owns copies of its texts; levelset_free releases
 * them. (rule: base/README.md) */
#ifndef PSFLOW_LEVELSET_H
#define PSFLOW_LEVELSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	char **texts;   /* in the order added, then sorted by levelset_sort */
	size_t n, cap;
	size_t *slots;  /* open addressing: index + 1, 0 empty */
	size_t nslots;
} levelset;

void levelset_init(levelset *s);
/* Adds a text (copied) unless it is there; returns its index. */
size_t levelset_add(levelset *s, const char *text, size_t len);
/* Index of a text, or -1. */
int64_t levelset_find(const levelset *s, const char *text, size_t len);
/* Sorts the texts byte-wise; indexes change (find gives the new ones). */
void levelset_sort(levelset *s);
void levelset_free(levelset *s);

#endif
