/* boot_engine — boot's replicates in chunks, each computed once: handed to
 * local threads and remote workers alike; a chunk not back within the chunk
 * timeout is handed out again and only its first result is kept, so a
 * worker that dies loses nothing and no replicate counts twice. Replicate i
 * draws from rng_stream(seed, i) alone and its estimates go to row i, so the
 * results are the same bytes wherever a chunk ran.
 *
 * Ownership: the engine borrows plan and data; the caller owns values,
 * status, state and handed_at (B x K, B, nchunks, nchunks). */
#ifndef PSFLOW_BOOT_ENGINE_H
#define PSFLOW_BOOT_ENGINE_H

#include <pthread.h>
#include <stdint.h>

#include "boot_resample.h"
#include "replay.h"

typedef struct {
	const replay_plan *plan;
	const replay_data *data;
	const boot_resample *resample; /* NULL: n rows with replacement */
	uint64_t seed;
	int first;        /* the replicates are first .. first + B - 1 (boot --range) */
	int B, K, chunk, nchunks;
	double *values;   /* B x K */
	uint8_t *status;  /* B */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t *state;   /* per chunk: 0 waiting, 1 handed out, 2 done */
	double *handed_at;
	int done_chunks, done_reps;
	double chunk_timeout, last_progress;
	char why[512];    /* one failure's detail, for stderr */
} boot_engine;

enum { CHUNK_WAITING, CHUNK_OUT, CHUNK_DONE };

double boot_now(void); /* seconds, monotonic */
/* Replicates in chunk c (the last may be short). */
int boot_chunk_count(const boot_engine *e, int c);
/* A waiting chunk, or one out longer than the timeout; -1: none. */
int boot_engine_take(boot_engine *e);
/* Keeps the first result of chunk c (n x K values, n statuses); 1 if this
 * one was kept. */
int boot_engine_complete(boot_engine *e, int c, const double *vals, const uint8_t *st,
    const char *why);
int boot_engine_finished(boot_engine *e);
/* Replicate `replicate` (0-based within the run) into out[0..K); its
 * status; a failure's detail. list/cap: the caller's reusable row list. */
int boot_compute_replicate(const boot_engine *e, int replicate, replay_scratch *s,
    double *out, uint32_t **list, size_t *cap, char *detail, size_t detaillen);
/* Chunk c is to be computed again (its results came from a worker found
 * lying): waiting, and no longer counted as done. */
void boot_engine_reopen(boot_engine *e, int c);
/* Chunk c's replicates into vals and st; one failure's detail into why. */
void boot_compute_chunk(const boot_engine *e, int c, replay_scratch *s, double *vals,
    uint8_t *st, char *why, size_t whylen);
/* A local thread: takes chunks until every one is done (pthread start). */
void *boot_local_thread(void *arg);
/* A line of progress on stderr when it is a terminal (and not quiet). */
void boot_progress(boot_engine *e, int quiet, int final);

#endif
