/* boot_workers — boot's remote workers: the coordinator's ROUTER answers
 * each worker's DEALER (hello -> the data, ready/results -> a chunk, wait
 * or done). Every frame is checked with mpscan before it is decoded; a
 * frame that is not one of ours is ignored. */
#include "boot_workers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "err.h"
#include "mpo.h"
#include "mpscan.h"
#include "stage.h"
#include "xalloc.h"

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

/* The coordinator's loop: answers workers until every chunk is done. */
void
boot_serve_workers(boot_engine *e, const char *spec, const mpseq *data_msg,
    double idle_timeout, const io_opts *io, int quiet)
{
	io_opts peer = *io;
	void *sock;
	double finished_at = 0;

	peer.linger_ms = 0; /* stragglers' answers are not waited for */
	sock = io_zmq_peer_open(spec, 1, &peer, " for workers");
	for (;;) {
		zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
		int finished = boot_engine_finished(e);

		boot_progress(e, quiet, 0);
		if (finished && finished_at == 0)
			finished_at = boot_now();
		/* after the end, answer stragglers "done" for a moment */
		if (finished && boot_now() - finished_at > 0.5)
			break;
		if (!finished && boot_now() - e->last_progress > idle_timeout)
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
				    v->via.bin.size == (size_t)boot_chunk_count(e, (int)c) * (size_t)e->K * 8 &&
				    s->via.bin.size == (size_t)boot_chunk_count(e, (int)c)) {
					double *vals = xmalloc(v->via.bin.size);

					memcpy(vals, v->via.bin.ptr, v->via.bin.size);
					boot_engine_complete(e, (int)c, vals, (const uint8_t *)s->via.bin.ptr, NULL);
					free(vals);
				}
			}
			if (mpo_is_str(kind, "ready") || mpo_is_str(kind, "results")) {
				int c = boot_engine_finished(e) ? -1 : boot_engine_take(e);

				if (c >= 0)
					send_chunk(sock, zmq_msg_data(&id), zmq_msg_size(&id), c);
				else
					send_kind(sock, zmq_msg_data(&id), zmq_msg_size(&id),
					    boot_engine_finished(e) ? "done" : "wait");
			}
			msgpack_unpacked_destroy(&u);
			zmq_msg_close(&id);
			zmq_msg_close(&body);
		}
	}
	io_zmq_peer_free(sock);
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
boot_worker(const char *spec, double idle_timeout, const io_opts *io, int quiet)
{
	io_opts peer = *io;
	void *sock;
	int done = 0;
	const char *endpoint = spec + (*spec == '@' || *spec == '>');
	zmq_msg_t msg;
	msgpack_unpacked u;
	const msgpack_object *m, *stream;
	stage_input si;
	replay_plan plan;
	replay_data data;
	boot_engine e;
	int64_t seed, B, chunk, fixed_ps_flag = 0, K, first = 0;
	resample_kind resample = RESAMPLE_ROWS;
	int matching_refit;
	char *resample_column = NULL;
	boot_resample rs;
	replay_scratch *s;
	double *vals;
	uint8_t *st;
	char why[512];

	peer.linger_ms = 0;
	sock = io_zmq_peer_open(spec, 0, &peer, NULL);
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
	/* how a replicate draws its rows (absent: rows, as coordinators before) */
	if (mpo_is_str(mpo_get(m, "resample"), "clusters"))
		resample = RESAMPLE_CLUSTERS;
	else if (mpo_is_str(mpo_get(m, "resample"), "poisson"))
		resample = RESAMPLE_POISSON;
	else if (mpo_get(m, "resample") && !mpo_is_str(mpo_get(m, "resample"), "rows"))
		die("the coordinator resamples in a way this worker does not know: different "
		    "psflow versions?");
	resample_column = mpo_strdup(mpo_get(m, "resample_column"));
	matching_refit = mpo_is_str(mpo_get(m, "matching"), "refit");
	if (mpo_get(m, "first") && (mpo_int(mpo_get(m, "first"), &first) != 0 || first < 0))
		die("the coordinator sent no usable data");
	if (resample == RESAMPLE_CLUSTERS && resample_column == NULL)
		die("the coordinator resamples clusters but names no cluster column");
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
	replay_plan_option(&plan, "matching", matching_refit ? "refit" : "weighted");
	if (plan.ntargets != K)
		die("this worker's replay has %d estimates, the coordinator's %lld: "
		    "different psflow versions?", plan.ntargets, (long long)K);
	replay_data_prepare(&data, &plan, &si.rows);
	replay_plan_warm_start(&plan, &data);
	boot_resample_prepare(&rs, resample, resample_column, &si.rows, &data);
	memset(&e, 0, sizeof e);
	e.plan = &plan;
	e.data = &data;
	e.resample = &rs;
	e.seed = (uint64_t)seed;
	e.first = (int)first;
	e.B = (int)B;
	e.K = (int)K;
	e.chunk = (int)chunk;
	s = replay_scratch_new(&plan, &data);
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

			boot_compute_chunk(&e, (int)c, s, vals, st, why, sizeof why);
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
		err_warn("the coordinator says the run is complete");
	replay_scratch_free(s);
	free(vals);
	free(st);
	boot_resample_free(&rs);
	free(resample_column);
	replay_data_free(&data);
	replay_plan_free(&plan);
	stage_input_free(&si);
	io_zmq_peer_free(sock);
}
