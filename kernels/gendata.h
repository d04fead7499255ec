/* gendata — the synthetic opt-in study behind `gen`.
 *
 * Rows are made one after another from a single random stream, so the
 * values depend on the seed and the row count only, not on batching.
 *
 * Ownership: the table is the caller's; rows are appended to it. (rule: base/README.md) */
#ifndef PSFLOW_GENDATA_H
#define PSFLOW_GENDATA_H

#include <stdint.h>

#include "rng.h"
#include "table.h"

typedef struct {
	uint64_t rows;
	uint64_t seed;
	double effect;
} gendata_opts;

/* Column indices of the table gendata_schema() makes. */
enum { GEN_USER_ID, GEN_TIER, GEN_OPT_IN, GEN_CONFIDENCE, GEN_COMPLETED };

void gendata_schema(table *t);
/* Appends n users numbered from first_id, drawing from r. */
void gendata_fill(table *t, rng *r, const gendata_opts *g, uint64_t first_id, size_t n);

#endif
