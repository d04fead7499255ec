#include "keyed.h"

#include <stdlib.h>

static int
cmp_keyed(const void *a, const void *b)
{
	double x = ((const keyed *)a)->key, y = ((const keyed *)b)->key;

	if (x != y)
		return (x > y) - (x < y);
	return (((const keyed *)a)->index > ((const keyed *)b)->index) -
	    (((const keyed *)a)->index < ((const keyed *)b)->index);
}

void
keyed_sort(keyed *k, size_t n)
{
	qsort(k, n, sizeof *k, cmp_keyed);
}
