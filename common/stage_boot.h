/* stage_boot — the `boot` stage: bootstrap intervals for every upstream
 * estimate, replaying the recipe on resampled rows, in local threads and on
 * remote workers.
 *
 * Replicate i draws its n rows from rng_stream(seed, i) alone and its
 * estimates are stored at row i, so the output is the same bytes whatever
 * the number of threads or workers and wherever they run. Replicates are
 * handed out in chunks; a chunk not returned within the chunk timeout is
 * handed out again, and the first result for a chunk is the one kept, so a
 * worker that dies loses nothing and no replicate counts twice. */
#ifndef PSFLOW_STAGE_BOOT_H
#define PSFLOW_STAGE_BOOT_H

#include <stdint.h>

#include "cli.h"

typedef enum { CI_PERCENTILE, CI_NORMAL, CI_BCA } ci_method;

typedef struct {
	int B;
	uint64_t seed;
	int jobs;             /* local threads */
	ci_method ci;
	double level;
	int fixed_ps;
	double max_failed;    /* fraction of replicates allowed to fail */
	int chunk;            /* replicates per chunk */
	double chunk_timeout; /* seconds before a chunk is handed out again */
	double idle_timeout;  /* seconds without progress before giving up */
	const char *workers;  /* coordinator: endpoint for remote workers */
} boot_opts;

void boot_run(const boot_opts *o, const cli_common *cli);
/* Runs as a remote worker of the coordinator at `endpoint` until it says
 * done; fails after idle_timeout seconds without an answer. */
void boot_worker(const char *endpoint, double idle_timeout, int quiet);

/* Interval helpers (exposed for the unit tests). */
double normal_cdf(double x);
double normal_quantile(double p);

#endif
