#include "stage_boot.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "err.h"
#include "mpo.h"
#include "mpscan.h"
#include "quantile.h"
#include "replay.h"
#include "rng.h"
#include "stage.h"

/* ---- interval arithmetic ------------------------------------------------- */

double
normal_cdf(double x)
{
	return 0.5 * erfc(-x / sqrt(2));
}

double
normal_quantile(double p)
{
	/* Acklam's rational approximation, then one Newton step */
	static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
		2.506628277459239e+00 };
	static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01 };
	static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
		2.938163982698783e+00 };
	static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
		2.445134137142996e+00, 3.754408661907416e+00 };
	double q, r, x;

	if (p <= 0)
		return -INFINITY;
	if (p >= 1)
		return INFINITY;
	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else if (p > 1 - 0.02425) {
		q = sqrt(-2 * log(1 - p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else {
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
		    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	}
	/* Newton on Phi(x) = p */
	x -= (normal_cdf(x) - p) / (exp(-x * x / 2) / sqrt(2 * M_PI));
	return x;
}

/* ---- the engine: chunks of replicates, computed once each ---------------- */

typedef struct {
	const replay_plan *plan;
	const replay_data *data;
	uint64_t seed;
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
} engine;

enum { CHUNK_WAITING, CHUNK_OUT, CHUNK_DONE };

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
chunk_count(const engine *e, int c)
{
	int start = c * e->chunk;

	return e->B - start < e->chunk ? e->B - start : e->chunk;
}

/* Hands out a waiting chunk, or one out for longer than the timeout. */
static int
engine_take(engine *e)
{
	double t = now_s();
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
static void
engine_complete(engine *e, int c, const double *vals, const uint8_t *st, const char *why)
{
	int n = chunk_count(e, c);

	pthread_mutex_lock(&e->mu);
	if (e->state[c] != CHUNK_DONE) {
		memcpy(e->values + (size_t)c * e->chunk * e->K, vals,
		    (size_t)n * (size_t)e->K * sizeof *vals);
		memcpy(e->status + (size_t)c * e->chunk, st, (size_t)n);
		e->state[c] = CHUNK_DONE;
		e->done_chunks++;
		e->done_reps += n;
		e->last_progress = now_s();
		if (why && why[0] && !e->why[0])
			snprintf(e->why, sizeof e->why, "%s", why);
		pthread_cond_broadcast(&e->cv);
	}
	pthread_mutex_unlock(&e->mu);
}

static int
engine_finished(engine *e)
{
	int done;

	pthread_mutex_lock(&e->mu);
	done = e->done_chunks == e->nchunks;
	pthread_mutex_unlock(&e->mu);
	return done;
}

/* Replicates of chunk c into vals/st; returns one failure's detail in why. */
static void
compute_chunk(const engine *e, int c, replay_scratch *s, double *vals,
    uint8_t *st, char *why, size_t whylen)
{
	size_t n = e->data->n;
	int start = c * e->chunk, replicates = chunk_count(e, c);

	why[0] = '\0';
	for (int r = 0; r < replicates; r++) {
		rng g;
		char detail[512];
		double *out = vals + (size_t)r * e->K;

		/* n draws with replacement */
		rng_stream(&g, e->seed, (uint64_t)(start + r));
		st[r] = (uint8_t)replay_run(e->plan, e->data,
		    &(replay_rows){ .draws = &g, .n = n }, s, out, detail, sizeof detail);
		if (st[r] != REPLICATE_OK) {
			for (int k = 0; k < e->K; k++)
				out[k] = NAN;
			if (!why[0])
				snprintf(why, whylen, "replicate %d: %.400s", start + r, detail);
		}
	}
}

static void *
local_thread(void *arg)
{
	engine *e = arg;
	replay_scratch *s;
	double *vals = xreallocarray(NULL, (size_t)e->chunk * (size_t)e->K, sizeof *vals);
	uint8_t *st = xmalloc((size_t)e->chunk);
	char why[512];

	s = replay_scratch_new(e->data);
	for (;;) {
		int c = engine_take(e);

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
		compute_chunk(e, c, s, vals, st, why, sizeof why);
		engine_complete(e, c, vals, st, why);
	}
	replay_scratch_free(&s);
	free(vals);
	free(st);
	return NULL;
}

static void
progress(engine *e, int quiet, int final)
{
	static double started, last;
	double t = now_s();

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

/* ---- remote workers: ROUTER (coordinator) and DEALER (worker) ------------ */

static void
send_map(void *sock, const void *identity, size_t idlen, const mpseq *m)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mpseq_pack(m, &pk);
	if (identity)
		zmq_send(sock, identity, idlen, ZMQ_SNDMORE);
	zmq_send(sock, sb.data, sb.size, 0);
	msgpack_sbuffer_destroy(&sb);
}

static void
send_kind(void *sock, const void *identity, size_t idlen, const char *kind)
{
	mpseq m;

	mpseq_map(&m);
	mpseq_str(&m, "kind", kind);
	send_map(sock, identity, idlen, &m);
	mpseq_free(&m);
}

static void
send_chunk(void *sock, const void *identity, size_t idlen, int c)
{
	mpseq m;

	mpseq_map(&m);
	mpseq_str(&m, "kind", "chunk");
	mpseq_i64(&m, "chunk", c);
	send_map(sock, identity, idlen, &m);
	mpseq_free(&m);
}

/* Unpacks a received frame after checking it with mpscan. */
static int
unpack_frame(zmq_msg_t *msg, msgpack_unpacked *u)
{
	size_t len, off = 0;

	if (mpscan(zmq_msg_data(msg), zmq_msg_size(msg), zmq_msg_size(msg) + 1, &len) !=
	    MPSCAN_OK || len != zmq_msg_size(msg))
		return -1;
	msgpack_unpacked_init(u);
	if (msgpack_unpack_next(u, zmq_msg_data(msg), len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    u->data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(u);
		return -1;
	}
	return 0;
}

static const char *
endpoint_of(const char *spec, int *bind)
{
	if (*spec == '@' || *spec == '>') {
		*bind = *spec == '@';
		return spec + 1;
	}
	return spec;
}

/* The coordinator's loop: answers workers until every chunk is done. */
static void
serve_workers(engine *e, const char *spec, const mpseq *data_msg, double idle_timeout,
    int quiet)
{
	void *ctx = zmq_ctx_new(), *sock = zmq_socket(ctx, ZMQ_ROUTER);
	int bind = 1, zero = 0;
	const char *endpoint = endpoint_of(spec, &bind);
	double finished_at = 0;

	zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
	if ((bind ? zmq_bind(sock, endpoint) : zmq_connect(sock, endpoint)) != 0)
		die("cannot %s %s for workers: %s", bind ? "bind" : "connect to", endpoint,
		    zmq_strerror(errno));
	for (;;) {
		zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
		int finished = engine_finished(e);

		progress(e, quiet, 0);
		if (finished && finished_at == 0)
			finished_at = now_s();
		/* after the end, answer stragglers "done" for a moment */
		if (finished && now_s() - finished_at > 0.5)
			break;
		if (!finished && now_s() - e->last_progress > idle_timeout)
			die("no replicate finished in %.0f s: are the workers alive? "
			    "(--timeout)", idle_timeout);
		if (zmq_poll(&item, 1, 100) <= 0)
			continue;
		{
			zmq_msg_t id, body;
			msgpack_unpacked u;
			const msgpack_object *m, *kind;

			zmq_msg_init(&id);
			zmq_msg_init(&body);
			if (zmq_msg_recv(&id, sock, 0) < 0 || !zmq_msg_more(&id) ||
			    zmq_msg_recv(&body, sock, 0) < 0 || unpack_frame(&body, &u) != 0) {
				zmq_msg_close(&id);
				zmq_msg_close(&body);
				continue; /* not a worker of ours: ignore it */
			}
			m = &u.data;
			kind = mpo_get(m, "kind");
			if (mpo_is_str(kind, "hello"))
				send_map(sock, zmq_msg_data(&id), zmq_msg_size(&id), data_msg);
			else if (mpo_is_str(kind, "results")) {
				const msgpack_object *v = mpo_get(m, "values"), *s = mpo_get(m, "status");
				int64_t c;

				if (mpo_int(mpo_get(m, "chunk"), &c) == 0 && c >= 0 && c < e->nchunks &&
				    v && v->type == MSGPACK_OBJECT_BIN && s &&
				    s->type == MSGPACK_OBJECT_BIN &&
				    v->via.bin.size == (size_t)chunk_count(e, (int)c) * (size_t)e->K * 8 &&
				    s->via.bin.size == (size_t)chunk_count(e, (int)c)) {
					double *vals = xmalloc(v->via.bin.size);

					memcpy(vals, v->via.bin.ptr, v->via.bin.size);
					engine_complete(e, (int)c, vals, (const uint8_t *)s->via.bin.ptr, NULL);
					free(vals);
				}
			}
			if (mpo_is_str(kind, "ready") || mpo_is_str(kind, "results")) {
				int c = engine_finished(e) ? -1 : engine_take(e);

				if (c >= 0)
					send_chunk(sock, zmq_msg_data(&id), zmq_msg_size(&id), c);
				else
					send_kind(sock, zmq_msg_data(&id), zmq_msg_size(&id),
					    engine_finished(e) ? "done" : "wait");
			}
			msgpack_unpacked_destroy(&u);
			zmq_msg_close(&id);
			zmq_msg_close(&body);
		}
	}
	zmq_close(sock);
	zmq_ctx_term(ctx);
}

/* Waits for one frame; -1 after the timeout. */
static int
recv_map(void *sock, zmq_msg_t *msg, msgpack_unpacked *u, double timeout)
{
	zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };

	if (zmq_poll(&item, 1, (long)(timeout * 1000)) <= 0)
		return -1;
	if (zmq_msg_recv(msg, sock, 0) < 0 || unpack_frame(msg, u) != 0)
		die("a malformed message from the coordinator");
	return 0;
}

void
boot_worker(const char *spec, double idle_timeout, int quiet)
{
	void *ctx = zmq_ctx_new(), *sock = zmq_socket(ctx, ZMQ_DEALER);
	int bind = 0, zero = 0, done = 0;
	const char *endpoint = endpoint_of(spec, &bind);
	zmq_msg_t msg;
	msgpack_unpacked u;
	const msgpack_object *m, *stream;
	stage_input si;
	replay_plan plan;
	replay_data data;
	engine e;
	int64_t seed, B, chunk, fixed_ps_flag = 0, K;
	replay_scratch *s;
	double *vals;
	uint8_t *st;
	char why[512];

	zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
	if ((bind ? zmq_bind(sock, endpoint) : zmq_connect(sock, endpoint)) != 0)
		die("cannot %s %s: %s", bind ? "bind" : "connect to", endpoint,
		    zmq_strerror(errno));
	send_kind(sock, NULL, 0, "hello");
	zmq_msg_init(&msg);
	if (recv_map(sock, &msg, &u, idle_timeout) != 0)
		die("the coordinator at %s did not answer in %.0f s (--timeout)", endpoint,
		    idle_timeout);
	m = &u.data;
	stream = mpo_get(m, "stream");
	if (!mpo_is_str(mpo_get(m, "kind"), "boot-data") || stream == NULL ||
	    stream->type != MSGPACK_OBJECT_BIN || mpo_int(mpo_get(m, "seed"), &seed) ||
	    mpo_int(mpo_get(m, "replicates"), &B) || mpo_int(mpo_get(m, "chunk"), &chunk) ||
	    mpo_int(mpo_get(m, "targets"), &K) || chunk < 1 || B < 1)
		die("the coordinator sent no usable data");
	if (mpo_get(m, "fixed_ps") && mpo_get(m, "fixed_ps")->type == MSGPACK_OBJECT_BOOLEAN)
		fixed_ps_flag = mpo_get(m, "fixed_ps")->via.boolean;
	/* the data arrive as a psflow stream: read it as any stage would */
	memset(&si, 0, sizeof si);
	si.in = stream_in_from(io_in_memory(stream->via.bin.ptr, stream->via.bin.size,
	    "the coordinator's data", (size_t)stream->via.bin.size + 1));
	si.head = stream_in_head(si.in);
	table_init(&si.rows);
	table_copy_schema(&si.rows, &si.head->schema);
	stage_read_all(&si);
	msgpack_unpacked_destroy(&u);
	zmq_msg_close(&msg);
	replay_plan_build(&plan, si.head, &si.results, (int)fixed_ps_flag);
	if (plan.ntargets != K)
		die("this worker's replay has %d estimates, the coordinator's %lld: "
		    "different psflow versions?", plan.ntargets, (long long)K);
	replay_data_prepare(&data, &plan, &si.rows);
	replay_plan_warm_start(&plan, &data);
	memset(&e, 0, sizeof e);
	e.plan = &plan;
	e.data = &data;
	e.seed = (uint64_t)seed;
	e.B = (int)B;
	e.K = (int)K;
	e.chunk = (int)chunk;
	s = replay_scratch_new(&data);
	vals = xreallocarray(NULL, (size_t)chunk * (size_t)K, sizeof *vals);
	st = xmalloc((size_t)chunk);
	send_kind(sock, NULL, 0, "ready");
	while (!done) {
		int64_t c;

		zmq_msg_init(&msg);
		if (recv_map(sock, &msg, &u, idle_timeout) != 0)
			die("the coordinator at %s went silent for %.0f s (--timeout)",
			    endpoint, idle_timeout);
		m = &u.data;
		if (mpo_is_str(mpo_get(m, "kind"), "chunk") &&
		    mpo_int(mpo_get(m, "chunk"), &c) == 0 && c >= 0 && c * chunk < B) {
			mpseq r;
			int replicates = (int)(B - c * chunk < chunk ? B - c * chunk : chunk);

			compute_chunk(&e, (int)c, s, vals, st, why, sizeof why);
			mpseq_map(&r);
			mpseq_str(&r, "kind", "results");
			mpseq_i64(&r, "chunk", c);
			msgpack_pack_bin_with_body(mpseq_key(&r, "values"), vals,
			    (size_t)replicates * (size_t)K * sizeof *vals);
			msgpack_pack_bin_with_body(mpseq_key(&r, "status"), st, (size_t)replicates);
			send_map(sock, NULL, 0, &r);
			mpseq_free(&r);
		} else if (mpo_is_str(mpo_get(m, "kind"), "wait")) {
			usleep(200000);
			send_kind(sock, NULL, 0, "ready");
		} else
			done = 1; /* "done", or anything else: stop */
		msgpack_unpacked_destroy(&u);
		zmq_msg_close(&msg);
	}
	if (!quiet)
		warnx("the coordinator says the run is complete");
	replay_scratch_free(&s);
	free(vals);
	free(st);
	replay_data_free(&data);
	replay_plan_free(&plan);
	stage_close(&si);
	zmq_close(sock);
	zmq_ctx_term(ctx);
}

/* ---- the stage ------------------------------------------------------------ */

/* The data for remote workers: the input as a psflow stream, in memory. */
static void
data_message(mpseq *m, const boot_opts *o, const stage_input *si, int K)
{
	io_out *mem = io_out_memory();
	stream_out *out = stream_out_to(mem, STREAM_DEFAULT_BATCH_ROWS, 1);
	size_t len;
	void *bytes;

	stream_out_head(out, si->head);
	stream_out_rows(out, &si->rows, 0, si->rows.nrows);
	for (int i = 0; i < si->results.n; i++)
		stream_out_raw(out, si->results.items[i].bytes, si->results.items[i].len);
	stream_out_end(out);
	bytes = io_out_take(mem, &len);
	io_out_close(&mem);
	mpseq_map(m);
	mpseq_str(m, "kind", "boot-data");
	mpseq_i64(m, "seed", (int64_t)o->seed);
	mpseq_i64(m, "replicates", o->B);
	mpseq_i64(m, "chunk", o->chunk);
	mpseq_i64(m, "targets", K);
	mpseq_bool(m, "fixed_ps", o->fixed_ps);
	msgpack_pack_bin_with_body(mpseq_key(m, "stream"), bytes, len);
	free(bytes);
}

static int
replay_reads(const char *column, void *plan)
{
	return replay_plan_reads(plan, column);
}

/* Dies unless the plan's estimates on the full data, refitted from zeros
 * as fitps did, are the stream's own (to 1e-9). */
static void
full_data_check(const replay_plan *plan, const replay_data *data)
{
	replay_plan cold = replay_plan_cold(plan);
	replay_scratch *s = replay_scratch_new(data);
	double *full = xcalloc((size_t)plan->ntargets + 1, sizeof *full);
	char why[512];

	if (replay_run(&cold, data, &(replay_rows){ 0 }, s, full, why, sizeof why) !=
	    REPLICATE_OK)
		die("replaying the recipe on the full data failed: %s", why);
	for (int k = 0; k < plan->ntargets; k++)
		if (!(fabs(full[k] - plan->targets[k].estimate) <=
		    1e-9 * fmax(1, fabs(plan->targets[k].estimate))))
			die("replaying the recipe gives %s = %.10g, but the stream says "
			    "%.10g: the recipe does not describe this flow (a stage that "
			    "changed the data without a recipe entry?)",
			    plan->targets[k].name, full[k], plan->targets[k].estimate);
	replay_scratch_free(&s);
	free(full);
}

static const char *
ci_name(ci_method m)
{
	return m == CI_NORMAL ? "normal" : m == CI_BCA ? "bca" : "percentile";
}

/* The estimates without each of G blocks of rows, for BCa's acceleration
 * (a grouped jackknife: n refits would be too many). */
#define JACK_GROUPS 20

static void
jackknife(const replay_plan *plan, const replay_data *data, double *theta /* G x K */)
{
	size_t n = data->n;
	uint32_t *kept = xreallocarray(NULL, n + 1, sizeof *kept);
	uint8_t *keep = xmalloc(n + 1);
	replay_scratch *s = replay_scratch_new(data);
	char why[512];

	for (int g = 0; g < JACK_GROUPS; g++) {
		/* block g: the stream's rows g, g + G, g + 2G, ... left out; the
		 * others once each, in their order */
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			keep[data->pos[i]] = i % JACK_GROUPS != (size_t)g;
		for (size_t k = 0; k < n; k++)
			if (keep[k])
				kept[m++] = (uint32_t)k;
		if (replay_run(plan, data, &(replay_rows){ .list = kept, .n = m }, s,
		    theta + (size_t)g * plan->ntargets, why, sizeof why) != REPLICATE_OK)
			die("--ci bca: the estimates without block %d of %d rows could not "
			    "be computed (%s): use --ci percentile", g + 1, JACK_GROUPS, why);
	}
	replay_scratch_free(&s);
	free(kept);
	free(keep);
}

static void
interval(const boot_opts *o, const double *sorted, size_t m, double estimate,
    const double *jack, int K, int k, double ci[2])
{
	double alpha = (1 - o->level) / 2, mean = 0, sd = 0;

	ci[0] = ci[1] = NAN;
	for (size_t i = 0; i < m; i++)
		mean += sorted[i] / (double)m;
	for (size_t i = 0; i < m; i++)
		sd += (sorted[i] - mean) * (sorted[i] - mean) / (double)(m - 1);
	sd = sqrt(sd);
	switch (o->ci) {
	case CI_PERCENTILE:
		ci[0] = quantile_sorted(sorted, m, alpha);
		ci[1] = quantile_sorted(sorted, m, 1 - alpha);
		break;
	case CI_NORMAL:
		ci[0] = estimate - normal_quantile(1 - alpha) * sd;
		ci[1] = estimate + normal_quantile(1 - alpha) * sd;
		break;
	case CI_BCA: {
		double below = 0, jm = 0, num = 0, den = 0, z0, a, za = normal_quantile(alpha);

		for (size_t i = 0; i < m; i++)
			below += sorted[i] < estimate ? 1 : sorted[i] == estimate ? 0.5 : 0;
		z0 = normal_quantile(below / (double)m);
		for (int g = 0; g < JACK_GROUPS; g++)
			jm += jack[g * K + k] / JACK_GROUPS;
		for (int g = 0; g < JACK_GROUPS; g++) {
			double d = jm - jack[g * K + k];

			num += d * d * d;
			den += d * d;
		}
		a = den > 0 ? num / (6 * pow(den, 1.5)) : 0;
		ci[0] = quantile_sorted(sorted, m,
		    normal_cdf(z0 + (z0 + za) / (1 - a * (z0 + za))));
		ci[1] = quantile_sorted(sorted, m,
		    normal_cdf(z0 + (z0 - za) / (1 - a * (z0 - za))));
		break;
	}
	}
}

/* The upstream result with se, ci and the rest filled in. */
static void
rewrite_result(mpseq *out, const mpraw *raw, double se, const double ci[2],
    const boot_opts *o, size_t replicates)
{
	static const char *replaced[] = { "se", "ci", "ci_level", "ci_method",
		"replicates", "se_analytic" };
	msgpack_unpacked u;
	const msgpack_object *m;
	msgpack_packer *pk;

	mpraw_unpack(raw, &u);
	m = &u.data;
	mpseq_map(out);
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		char *key = mpo_strdup(&m->via.map.ptr[i].key);
		int skip = key == NULL;

		for (size_t r = 0; key && r < sizeof replaced / sizeof *replaced; r++)
			skip |= strcmp(key, replaced[r]) == 0;
		if (!skip)
			msgpack_pack_object(mpseq_key(out, key), m->via.map.ptr[i].val);
		free(key);
	}
	{
		const msgpack_object *old = mpo_get(m, "se");

		pk = mpseq_key(out, "se_analytic");
		if (old)
			msgpack_pack_object(pk, *old);
		else
			msgpack_pack_nil(pk);
	}
	mpseq_f64(out, "se", se);
	pk = mpseq_key(out, "ci");
	msgpack_pack_array(pk, 2);
	mp_pack_f64(pk, ci[0]);
	mp_pack_f64(pk, ci[1]);
	mpseq_f64(out, "ci_level", o->level);
	mpseq_str(out, "ci_method", ci_name(o->ci));
	mpseq_i64(out, "replicates", (int64_t)replicates);
	msgpack_unpacked_destroy(&u);
}

void
boot_run(const boot_opts *o, const cli_common *cli)
{
	stage_input si;
	replay_plan plan;
	replay_data data;
	engine e;
	int K, failed = 0, reason_count[REPLICATE_REASONS] = { 0 };
	double *jack = NULL;
	pthread_t *threads;
	mpseq recipe, bootres, *results;
	stream_out *out;
	int nresults = 0;

	stage_open(&si, cli);
	/* boot adds no column: the rows go on as they come, and only the
	 * results wait for the replicates */
	mpseq_map(&recipe);
	mpseq_str(&recipe, "stage", "boot");
	mpseq_i64(&recipe, "replicates", o->B);
	mpseq_i64(&recipe, "seed", (int64_t)o->seed);
	mpseq_str(&recipe, "ci", ci_name(o->ci));
	mpseq_f64(&recipe, "level", o->level);
	mpseq_bool(&recipe, "fixed_ps", o->fixed_ps);
	/* the replay's plan first: it says which columns to keep (remote
	 * workers get the stream whole) */
	replay_plan_from_recipe(&plan, si.head, o->fixed_ps);
	out = stage_read_all_passing(&si, cli, &recipe, o->workers ? NULL : replay_reads,
	    &plan);
	mpseq_free(&recipe);
	replay_plan_add_targets(&plan, &si.results);
	replay_data_prepare(&data, &plan, &si.rows);
	K = plan.ntargets;

	replay_plan_warm_start(&plan, &data);

	memset(&e, 0, sizeof e);
	e.plan = &plan;
	e.data = &data;
	e.seed = o->seed;
	e.B = o->B;
	e.K = K;
	e.chunk = o->chunk;
	e.nchunks = (o->B + o->chunk - 1) / o->chunk;
	e.values = xreallocarray(NULL, (size_t)o->B, (size_t)K * sizeof *e.values);
	e.status = xcalloc((size_t)o->B, 1);
	e.state = xcalloc((size_t)e.nchunks, 1);
	e.handed_at = xcalloc((size_t)e.nchunks, sizeof *e.handed_at);
	e.chunk_timeout = o->chunk_timeout;
	e.last_progress = now_s();
	pthread_mutex_init(&e.mu, NULL);
	pthread_cond_init(&e.cv, NULL);
	threads = xcalloc((size_t)o->jobs + 1, sizeof *threads);
	for (int j = 0; j < o->jobs; j++)
		if (pthread_create(&threads[j], NULL, local_thread, &e) != 0)
			die("cannot start worker thread %d:", j + 1);
	/* meanwhile, here: the plan must reproduce the stream's own estimates
	 * on the full data, or the recipe does not describe the flow and the
	 * intervals would be for something else (boot dies, and the workers'
	 * replicates with it) */
	full_data_check(&plan, &data);
	if (o->workers) {
		mpseq msg;

		data_message(&msg, o, &si, K);
		serve_workers(&e, o->workers, &msg, o->idle_timeout, cli->quiet);
		mpseq_free(&msg);
	} else {
		pthread_mutex_lock(&e.mu);
		while (e.done_chunks < e.nchunks) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&e.cv, &e.mu, &until);
			pthread_mutex_unlock(&e.mu);
			progress(&e, cli->quiet, 0);
			pthread_mutex_lock(&e.mu);
		}
		pthread_mutex_unlock(&e.mu);
	}
	for (int j = 0; j < o->jobs; j++)
		pthread_join(threads[j], NULL);
	progress(&e, cli->quiet, 1);

	for (int i = 0; i < o->B; i++)
		if (e.status[i] != REPLICATE_OK) {
			failed++;
			reason_count[e.status[i] < REPLICATE_REASONS ? e.status[i] : 0]++;
		}
	if (failed && !cli->quiet)
		warnx("note: %d of %d replicates failed and are left out of the "
		    "intervals (counted in the boot result)%s%s", failed, o->B,
		    e.why[0] ? "; e.g. " : "", e.why);
	if (failed > o->max_failed * o->B || o->B - failed < 2)
		die("%d of %d replicates failed (more than --max-failed %g): intervals "
		    "from the rest would be biased. %s%s", failed, o->B, o->max_failed,
		    e.why[0] ? "E.g. " : "", e.why);
	if (o->ci == CI_BCA) {
		jack = xcalloc((size_t)JACK_GROUPS * (size_t)K, sizeof *jack);
		jackknife(&plan, &data, jack);
	}

	results = xcalloc((size_t)si.results.n + 1, sizeof *results);
	{
		double *v = xreallocarray(NULL, (size_t)o->B + 1, sizeof *v);

		for (int i = 0; i < si.results.n; i++) {
			int k = -1;

			for (int t = 0; t < K; t++)
				if (plan.targets[t].result == i)
					k = t;
			if (k < 0) {
				stream_out_raw(out, si.results.items[i].bytes, si.results.items[i].len);
				continue;
			}
			{
				size_t m = 0;
				double mean = 0, sd = 0, ci[2];

				for (int r = 0; r < o->B; r++)
					if (e.status[r] == REPLICATE_OK)
						v[m++] = e.values[(size_t)r * K + (size_t)k];
				sort_doubles(v, m);
				for (size_t r = 0; r < m; r++)
					mean += v[r] / (double)m;
				for (size_t r = 0; r < m; r++)
					sd += (v[r] - mean) * (v[r] - mean) / (double)(m - 1);
				interval(o, v, m, plan.targets[k].estimate, jack, K, k, ci);
				rewrite_result(&results[nresults], &si.results.items[i], sqrt(sd), ci,
				    o, m);
				stream_out_map(out, &results[nresults]);
				mpseq_free(&results[nresults]);
			}
		}
		free(v);
		result_begin(&bootres, "boot", "boot");
		mpseq_i64(&bootres, "replicates", o->B);
		mpseq_i64(&bootres, "succeeded", o->B - failed);
		mpseq_i64(&bootres, "failed", failed);
		{
			mpseq why_map;

			mpseq_map(&why_map);
			for (int r = 1; r < REPLICATE_REASONS; r++)
				if (reason_count[r])
					mpseq_i64(&why_map, replicate_reason((replicate_status)r),
					    reason_count[r]);
			mpseq_take(&bootres, "failures", &why_map);
		}
		mpseq_i64(&bootres, "seed", (int64_t)o->seed);
		mpseq_str(&bootres, "ci_method", ci_name(o->ci));
		mpseq_f64(&bootres, "ci_level", o->level);
		mpseq_str(&bootres, "propensities", plan.ps_source);
		{
			mpseq names;

			mpseq_array(&names);
			for (int k = 0; k < K; k++)
				mpseq_str(&names, NULL, plan.targets[k].name);
			mpseq_take(&bootres, "estimates", &names);
			mpseq_array(&names);
			for (int k = 0; k < plan.nskipped; k++)
				mpseq_str(&names, NULL, plan.skipped[k]);
			mpseq_take(&bootres, "stages_not_replayed", &names);
		}
		stream_out_map(out, &bootres);
		mpseq_free(&bootres);
		stream_out_end(out);
	}
	free(results);
	free(threads);
	free(jack);
	free(e.values);
	free(e.status);
	free(e.state);
	free(e.handed_at);
	pthread_mutex_destroy(&e.mu);
	pthread_cond_destroy(&e.cv);
	replay_data_free(&data);
	replay_plan_free(&plan);
	stage_close(&si);
}
