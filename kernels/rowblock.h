/* rowblock — covariates built a block of rows at a time, for kernels that
 * pass over many rows and need no n x p matrix (logit's fits, nnmatch's
 * AI 2016 adjustment): at a hundred million rows such a matrix is 8 bytes a
 * term a row, and every fresh page of it costs the kernel a first touch.
 *
 * Ownership: the context is the caller's; the kernel lends X for one call. (rule: base/README.md) */
#ifndef PSFLOW_ROWBLOCK_H
#define PSFLOW_ROWBLOCK_H

#include <stddef.h>

/* Fills X (count rows of the kernel's p columns, column-major: x_k of row
 * first + r at X[k * count + r]; column 0, the intercept, may be left as it
 * is by a kernel that says it never reads it) with rows [first, first +
 * count). Returns 0, or non-zero with the reason in its context. A kernel
 * may call it from several threads at once, for different blocks. */
typedef int (*row_block_fn)(void *ctx, size_t first, size_t count, double *X);

#endif
