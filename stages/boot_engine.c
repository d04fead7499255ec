#include "boot_engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rng.h"
#include "xalloc.h"

double
boot_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
boot_chunk_count(const boot_engine *e, int c)
{
	int start = c * e->chunk;

	return e->B - start < e->chunk ? e->B - start : e->chunk;
}

/* Hands out a waiting chunk, or one out for longer than the timeout. */
int
boot_engine_take(boot_engine *e)
{
	double t = boot_now();
	int got = -1;

	pthread_mutex_lock(&e->mu);
	for (int c = 0; c < e->nchunks && got < 0; c++)
		if (e->state[c] == CHUNK_WAITING)
			got = c;
	for (int c = 0; c < e->nchunks && got < 0; c++)
		if (e->state[c] == CHUNK_OUT && t - e->handed_at[c] > e->chunk_timeout)
			got = c;
	if (got >= 0) {
		e->state[got] = CHUNK_OUT;
		e->handed_at[got] = t;
	}
	pthread_mutex_unlock(&e->mu);
	return got;
}

/* Keeps the first result of a chunk; later copies are dropped. */
int
boot_engine_complete(boot_engine *e, int c, const double *vals, const uint8_t *st, const char *why)
{
	int n = boot_chunk_count(e, c), kept = 0;

	pthread_mutex_lock(&e->mu);
	if (e->state[c] != CHUNK_DONE) {
		kept = 1;
		memcpy(e->values + (size_t)c * e->chunk * e->K, vals,
		    (size_t)n * (size_t)e->K * sizeof *vals);
		memcpy(e->status + (size_t)c * e->chunk, st, (size_t)n);
		e->state[c] = CHUNK_DONE;
		e->done_chunks++;
		e->done_reps += n;
		e->last_progress = boot_now();
		if (why && why[0] && !e->why[0])
			snprintf(e->why, sizeof e->why, "%s", why);
		pthread_cond_broadcast(&e->cv);
	}
	pthread_mutex_unlock(&e->mu);
	return kept;
}

int
boot_engine_finished(boot_engine *e)
{
	int done;

	pthread_mutex_lock(&e->mu);
	done = e->done_chunks == e->nchunks;
	pthread_mutex_unlock(&e->mu);
	return done;
}

int
boot_compute_replicate(const boot_engine *e, int replicate, replay_scratch *s, double *out,
    uint32_t **list, size_t *cap, char *detail, size_t detaillen)
{
	size_t n = e->data->n;
	int st;

	detail[0] = '\0';
	if (e->resample && e->resample->kind != RESAMPLE_ROWS) {
		/* whole clusters, or a Poisson count per row: a list of rows */
		size_t m = boot_resample_list(e->resample, e->seed,
		    (uint64_t)(e->first + replicate), n, list, cap);

		st = replay_run(e->plan, e->data, &(replay_rows){ .list = *list, .n = m }, s,
		    out, detail, detaillen);
	} else {
		rng g;

		/* n draws with replacement */
		rng_stream(&g, e->seed, (uint64_t)(e->first + replicate));
		st = replay_run(e->plan, e->data, &(replay_rows){ .draws = &g, .n = n }, s, out,
		    detail, detaillen);
	}
	if (st != REPLICATE_OK)
		for (int k = 0; k < e->K; k++)
			out[k] = NAN;
	return st;
}

/* Replicates of chunk c into vals/st; returns one failure's detail in why. */
void
boot_compute_chunk(const boot_engine *e, int c, replay_scratch *s, double *vals,
    uint8_t *st, char *why, size_t whylen)
{
	int start = c * e->chunk, replicates = boot_chunk_count(e, c);
	uint32_t *list = NULL;
	size_t cap = 0;

	why[0] = '\0';
	for (int r = 0; r < replicates; r++) {
		char detail[512];

		st[r] = (uint8_t)boot_compute_replicate(e, start + r, s, vals + (size_t)r * e->K,
		    &list, &cap, detail, sizeof detail);
		if (st[r] != REPLICATE_OK && !why[0])
			snprintf(why, whylen, "replicate %d: %.400s", e->first + start + r, detail);
	}
	free(list);
}

void
boot_engine_reopen(boot_engine *e, int c)
{
	pthread_mutex_lock(&e->mu);
	if (e->state[c] == CHUNK_DONE) {
		e->done_chunks--;
		e->done_reps -= boot_chunk_count(e, c);
	}
	e->state[c] = CHUNK_WAITING;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

void *
boot_local_thread(void *arg)
{
	boot_engine *e = arg;
	replay_scratch *s;
	double *vals = xreallocarray(NULL, (size_t)e->chunk * (size_t)e->K, sizeof *vals);
	uint8_t *st = xmalloc((size_t)e->chunk);
	char why[512];

	s = replay_scratch_new(e->plan, e->data);
	for (;;) {
		int c = boot_engine_take(e);

		if (c < 0) {
			struct timespec until;

			/* nothing to take: done, or waiting on other workers */
			pthread_mutex_lock(&e->mu);
			if (e->done_chunks == e->nchunks) {
				pthread_mutex_unlock(&e->mu);
				break;
			}
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 100 * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&e->cv, &e->mu, &until);
			pthread_mutex_unlock(&e->mu);
			continue;
		}
		boot_compute_chunk(e, c, s, vals, st, why, sizeof why);
		boot_engine_complete(e, c, vals, st, why);
	}
	replay_scratch_free(s);
	free(vals);
	free(st);
	return NULL;
}

void
boot_progress(boot_engine *e, int quiet, int final)
{
	static double started, last;
	double t = boot_now();

	if (quiet || !isatty(STDERR_FILENO))
		return;
	if (started == 0)
		started = t;
	if (!final && t - last < 0.2)
		return;
	last = t;
	pthread_mutex_lock(&e->mu);
	{
		double rate = e->done_reps / fmax(t - started, 1e-9);

		fprintf(stderr, "\rboot: %d/%d replicates, %.0f/s, %.0f s left   ",
		    e->done_reps, e->B, rate,
		    rate > 0 ? (e->B - e->done_reps) / rate : 0.0);
		if (final)
			fputc('\n', stderr);
	}
	pthread_mutex_unlock(&e->mu);
}
