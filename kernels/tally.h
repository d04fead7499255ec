/* tally — a numeric column as the weight each group puts on each distinct
 * value: the distinct values and, per value, group (0 controls, 1 treated)
 * and weighting, the sum of the weights. Rows are added a batch at a time
 * and then forgotten; a tally grows with the number of distinct values
 * (three levels of a category, ten thousand values of a score rounded to
 * four places), not with the rows. Weighted means, variances, empirical
 * CDFs and rank statistics are all functions of it.
 *
 * Ownership: a tally owns its values and sums (tally_free); rows added are
 * read, not kept. (rule: base/README.md) */
#ifndef PSFLOW_TALLY_H
#define PSFLOW_TALLY_H

#include <stddef.h>
#include <stdint.h>

enum { TALLY_SMALL = 256 };

typedef struct {
	int nw;            /* weightings; weighting 0 is raw (every weight 1) */
	size_t nvalues, cap;
	double *values;    /* distinct values, in order of first appearance */
	double *sums;      /* [value][group][weighting] */
	uint32_t small[TALLY_SMALL]; /* integers 0, 1, ...: value index + 1 */
	/* other values, by open addressing: a slot holds the value's bits (0:
	 * free) and its index */
	uint64_t *keys;
	uint32_t *slot_value;
	size_t nslots, nhashed; /* a power of two, at least twice nhashed */
	size_t *order;     /* value indexes in order of value, by tally_sort */
	int overflow;      /* more distinct values than TALLY_MAX_VALUES */
} tally;

/* nw weightings: weighting 0 counts rows, 1..nw-1 sum weight columns. */
void tally_init(tally *tl, int nw);
void tally_free(tally *tl);

/* Adds n rows: values x (finite), groups t (0/1) and the weightings' weights
 * w[k][row] for k >= 1 (finite, not negative; w[0] is not read). Returns 0,
 * or -1 once the tally holds TALLY_MAX_VALUES distinct values and met
 * another (its sums are then void). */
#define TALLY_MAX_VALUES 2147483647
int tally_add(tally *tl, const double *x, const uint8_t *t,
    const double *const *w, size_t n);

/* The tally of the indicator x == value: two values, 0 and 1. */
void tally_indicator(const tally *tl, double value, tally *out);

/* A tally whose values include NaN (missing values, added as NaN) as two:
 * present, the tally of the other values, and missing, the tally of the
 * indicator "is missing" (values 0 and 1). Returns the rows missing (the
 * raw weighting's count: 0 when there are none). Free both. */
double tally_split_missing(const tally *tl, tally *present, tally *missing);

/* Orders the values (tl->order); call after the last tally_add. NaN must
 * not be among them (tally_split_missing). */
void tally_sort(tally *tl);

/* The weight group g puts on value v (an index into values) under
 * weighting k. */
double tally_sum(const tally *tl, size_t v, int g, int k);

#endif
