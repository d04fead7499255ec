/* keyed — a value and the row it came from, sorted by value then row, so
 * that equal values keep a deterministic order. No global state: safe in
 * threads, as qsort with a global key array is not.
 *
 * Ownership: the caller's array is sorted in place; scratch is the sort's
 * own. (rule: base/README.md) */
#ifndef PSFLOW_KEYED_H
#define PSFLOW_KEYED_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	double key;
	size_t index;
} keyed;

/* Sorts by key, then index, in O(n): by insertion when the input is nearly
 * sorted already, else by a radix sort of the keys' bits. Keys must not be
 * NaN. */
void keyed_sort(keyed *k, size_t n);
/* The same with the radix sort's copy in scratch (n elements, the
 * caller's, its contents left undefined; NULL: the sort's own): a caller
 * that has touched memory to spare saves the kernel a fresh n * 16 bytes. */
void keyed_sort_into(keyed *k, size_t n, keyed *scratch);

/* Sorts n 64-bit numbers (order_bits of doubles, hashbits.h) ascending, by
 * the same radix sort: 8 bytes moved a number a pass, not 16, where no row
 * needs to be known. */
void bits_sort(uint64_t *k, size_t n);

#endif
