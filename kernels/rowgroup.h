/* rowgroup — number the distinct rows of a matrix, so that equal rows can
 * be handled once (boot fits its resamples on the distinct covariate rows,
 * each with its count of units).
 *
 * Rows are equal when every value has the same bits; the matrices here hold
 * no NaN. Groups are numbered from 0 in the order of their first row.
 *
 * Ownership: X is borrowed, group is the caller's array; the hash table is
 * freed before returning. (rule: base/README.md) */
#ifndef PSFLOW_ROWGROUP_H
#define PSFLOW_ROWGROUP_H

#include <stddef.h>
#include <stdint.h>

/* X: n rows of p columns, column-major (x_k of row i at X[k * n + i]).
 * group[i] receives row i's group; returns the number of groups, or 0
 * (nothing grouped) when n >= UINT32_MAX: a group is named in 32 bits. */
size_t rowgroup(const double *X, size_t n, int p, uint32_t *group);

#endif
