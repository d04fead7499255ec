/* boot — the bootstrap stage's module (stages/boot.c): intervals for every
 * upstream estimate, replaying the recipe on resampled rows (replay.h) in
 * local threads (boot_engine.h) and on remote workers (boot_workers.h).
 *
 * Ownership: boot_params borrows its endpoint strings from argv. (rule: base/README.md) */
#ifndef PSFLOW_BOOT_H
#define PSFLOW_BOOT_H

#include <stdint.h>

#include "boot_resample.h"
#include "bootci.h"
#include "module.h"

typedef struct {
	int B;
	uint64_t seed;
	int jobs;             /* local threads */
	bootci_method ci;
	double level;
	int fixed_ps;
	double max_failed;    /* fraction of replicates allowed to fail */
	int chunk;            /* replicates per chunk */
	double chunk_timeout; /* seconds before a chunk is handed out again */
	double idle_timeout;  /* seconds without progress before giving up */
	const char *workers;  /* coordinator: endpoint for remote workers */
	const char *worker;   /* run as a remote worker of the coordinator there */
	int verify;           /* replicates of each remote chunk recomputed here */
	int draws;            /* replicate estimates kept in the result, each */
	resample_kind resample;     /* rows (default), clusters, poisson */
	const char *resample_column; /* --cluster COL, --poisson-key COL */
	char *resample_read;  /* a recipe's (owned; boot_params_free) */
	int matching_refit;   /* --matching refit: re-match each resample */
	int range_first, range_last; /* --range A-B (1-based, inclusive); 0: all */
	int merge;            /* --merge: the parts are the operands */
	const char **parts;
	int nparts;
} boot_params;

extern const stage_module boot_module;

#endif
