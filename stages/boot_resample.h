/* boot_resample — how a replicate draws its rows: n rows with replacement
 * (the plain bootstrap), whole clusters with replacement (boot --cluster:
 * as many clusters as there are, each bringing all its rows), or a
 * Poisson(1) count for every row (boot --poisson; Chamandy et al., Google
 * 2012), drawn from (seed, replicate, the row's key) alone, so that a row
 * gets the same counts wherever it is: in another order, on another shard,
 * on another machine.
 *
 * Ownership: a boot_resample owns its arrays (boot_resample_free); the
 * rows it is prepared from are the caller's. (rule: base/README.md) */
#ifndef PSFLOW_BOOT_RESAMPLE_H
#define PSFLOW_BOOT_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "replay.h"

typedef enum { RESAMPLE_ROWS, RESAMPLE_CLUSTERS, RESAMPLE_POISSON } resample_kind;

const char *resample_name(resample_kind k);

typedef struct {
	resample_kind kind;
	const char *column;  /* the cluster or key column (NULL: the row's place) */
	/* clusters: cluster c's ordered rows at rows[start[c] .. start[c + 1]) */
	uint32_t *rows;
	size_t *start;
	size_t nclusters;
	uint64_t *key;       /* poisson: each ordered row's key */
} boot_resample;

/* From the stream's rows (stream order) and the replay's data (its
 * order); dies naming the column when it is missing or unusable. */
void boot_resample_prepare(boot_resample *rs, resample_kind kind, const char *colname,
    const table *rows, const replay_data *d);
void boot_resample_free(boot_resample *rs);

/* Replicate r's rows as a list of ordered rows into *list (grown as
 * needed, *cap its room); returns how many. Not for RESAMPLE_ROWS (its
 * draws are never stored). */
size_t boot_resample_list(const boot_resample *rs, uint64_t seed, uint64_t r, size_t n,
    uint32_t **list, size_t *cap);

#endif
