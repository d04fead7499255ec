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

#include <math.h>

#include <sodium.h>
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

	if (sock == NULL)
		return;
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

static int unpack_bytes(const uint8_t *bytes, size_t n, msgpack_unpacked *u);

/* Unpacks a received frame after checking it with mpscan. */
static int
unpack_frame(zmq_msg_t *msg, msgpack_unpacked *u)
{
	return unpack_bytes(zmq_msg_data(msg), zmq_msg_size(msg), u);
}

/* ---- the coordinator ------------------------------------------------------ */

/* A peer of the coordinator's socket, by its ZeroMQ routing id. */
typedef struct {
	uint8_t id[256];
	size_t idlen;
	char name[128];
	int greeted;  /* it was sent this run's data */
	int dropped;  /* its numbers differed from the coordinator's */
	int said;     /* a refusal of it was logged */
} peer;

/* Chunks remember the last few peers they were handed to: a chunk handed
 * out again after the chunk timeout may come back from either. */
#define CHUNK_OWNERS 4
#define MAX_PEERS 4096

struct boot_coordinator {
	boot_engine *e;
	void *sock;           /* NULL: answers go nowhere (a fuzz harness) */
	msgpack_sbuffer packed;
	const uint8_t *data;  /* the data message, packed once */
	size_t datalen;
	uint8_t digest[crypto_generichash_BYTES];
	peer *peers;
	int npeers;
	int (*owners)[CHUNK_OWNERS]; /* per chunk: peer index + 1, 0 none */
	int *done_by;                /* per chunk: peer index, -1 local or none */
	int verify;                  /* replicates recomputed per remote chunk */
	replay_scratch *scratch;
	double *mine;
	uint32_t *list;
	size_t cap;
	int quiet;
};
typedef struct boot_coordinator coordinator;

static peer *
peer_of(coordinator *co, const void *id, size_t n, const char *who)
{
	if (n == 0 || n > sizeof co->peers[0].id)
		return NULL;
	for (int i = 0; i < co->npeers; i++)
		if (co->peers[i].idlen == n && memcmp(co->peers[i].id, id, n) == 0)
			return &co->peers[i];
	if (co->npeers == MAX_PEERS)
		return NULL;
	co->peers = xreallocarray(co->peers, (size_t)co->npeers + 1, sizeof *co->peers);
	{
		peer *p = &co->peers[co->npeers++];

		memset(p, 0, sizeof *p);
		memcpy(p->id, id, n);
		p->idlen = n;
		if (who)
			snprintf(p->name, sizeof p->name, "worker %d (%.100s)", co->npeers, who);
		else
			snprintf(p->name, sizeof p->name, "worker %d", co->npeers);
		return p;
	}
}

static void
send_refusal(coordinator *co, const peer *p, const char *why)
{
	mpseq m;

	mpseq_map(&m);
	mpseq_str(&m, "kind", "refused");
	mpseq_str(&m, "why", why);
	send_map(co->sock, p->id, p->idlen, &m);
	mpseq_free(&m);
}

/* Logs a refusal once per peer, and tells the peer why. */
static void
refuse(coordinator *co, peer *p, const char *why)
{
	if (!p->said)
		err_warn("refused %s: %s", p->name, why);
	p->said = 1;
	send_refusal(co, p, why);
}

static int
owns(const coordinator *co, int c, int who)
{
	for (int k = 0; k < CHUNK_OWNERS; k++)
		if (co->owners[c][k] == who + 1)
			return 1;
	return 0;
}

static void
hand_out(coordinator *co, peer *p, int c)
{
	int who = (int)(p - co->peers);
	int *o = co->owners[c];

	if (!owns(co, c, who)) {
		memmove(o + 1, o, (CHUNK_OWNERS - 1) * sizeof *o);
		o[0] = who + 1;
	}
	send_chunk(co->sock, p->id, p->idlen, c);
}

/* Recomputes replicate r of chunk c here; 0 when the peer's values and
 * status for it are the coordinator's, bit for bit. */
static int
same_as_mine(coordinator *co, int c, int r, const double *vals, const uint8_t *st,
    char *why, size_t whylen)
{
	boot_engine *e = co->e;
	char detail[512];
	int mine_st = boot_compute_replicate(e, c * e->chunk + r, co->scratch, co->mine,
	    &co->list, &co->cap, detail, sizeof detail);

	if (mine_st == st[r] && memcmp(co->mine, vals + (size_t)r * e->K,
	    (size_t)e->K * sizeof *co->mine) == 0)
		return 0;
	if (mine_st != st[r])
		snprintf(why, whylen, "replicate %d has status %d, the coordinator's own "
		    "computation %d", e->first + c * e->chunk + r, st[r], mine_st);
	else
		for (int k = 0; k < e->K; k++)
			if (memcmp(&co->mine[k], &vals[(size_t)r * e->K + k], sizeof *co->mine)) {
				snprintf(why, whylen, "replicate %d's estimate %s is %.17g, the "
				    "coordinator's own computation %.17g", e->first + c * e->chunk + r,
				    e->plan->targets[k].name, vals[(size_t)r * e->K + k], co->mine[k]);
				break;
			}
	return -1;
}

/* The peer's numbers were wrong: nothing it sent counts. */
static void
drop(coordinator *co, peer *p, const char *why)
{
	int who = (int)(p - co->peers), reopened = 0;

	p->dropped = 1;
	for (int c = 0; c < co->e->nchunks; c++)
		if (co->done_by[c] == who) {
			boot_engine_reopen(co->e, c);
			co->done_by[c] = -1;
			reopened++;
		}
	err_warn("dropped %s: %s; its %d earlier chunk%s will be computed again", p->name, why,
	    reopened, reopened == 1 ? "" : "s");
	p->said = 1;
	send_refusal(co, p, "this worker's numbers differ from the coordinator's: dropped");
}

/* A results frame: kept only when it is for this run's data, for a chunk
 * handed to this peer, well formed, and the replicates recomputed here
 * (co->verify of them, at places the peer cannot foresee, and every one
 * whose estimates are not finite) agree bit for bit. */
static void
take_results(coordinator *co, peer *p, const msgpack_object *m)
{
	boot_engine *e = co->e;
	const msgpack_object *v = mpo_get(m, "values"), *s = mpo_get(m, "status");
	int64_t c;
	int n, who = (int)(p - co->peers);
	double *vals;
	const uint8_t *st;
	char why[512];

	if (mpo_int(mpo_get(m, "chunk"), &c) != 0 || c < 0 || c >= e->nchunks) {
		refuse(co, p, "results for a chunk that does not exist");
		return;
	}
	if (!owns(co, (int)c, who)) {
		refuse(co, p, "results for a chunk it was not given");
		return;
	}
	n = boot_chunk_count(e, (int)c);
	if (v == NULL || v->type != MSGPACK_OBJECT_BIN || s == NULL ||
	    s->type != MSGPACK_OBJECT_BIN || v->via.bin.size != (size_t)n * (size_t)e->K * 8 ||
	    s->via.bin.size != (size_t)n) {
		refuse(co, p, "malformed results (values or statuses of the wrong size)");
		return;
	}
	st = (const uint8_t *)s->via.bin.ptr;
	for (int r = 0; r < n; r++)
		if (st[r] >= REPLICATE_REASONS) {
			refuse(co, p, "results with a status no replicate has");
			return;
		}
	vals = xmalloc(v->via.bin.size);
	memcpy(vals, v->via.bin.ptr, v->via.bin.size);
	{
		int bad = 0, checked = 0;

		for (int r = 0; r < n && !bad; r++) {
			int finite = 1;

			for (int k = 0; k < e->K; k++)
				finite &= isfinite(vals[(size_t)r * e->K + k]) != 0;
			if ((st[r] == REPLICATE_OK) != finite) {
				bad = same_as_mine(co, (int)c, r, vals, st, why, sizeof why) != 0;
				checked++;
			}
		}
		for (int k = checked; k < co->verify && !bad; k++)
			bad = same_as_mine(co, (int)c, (int)randombytes_uniform((uint32_t)n), vals, st,
			    why, sizeof why) != 0;
		if (bad) {
			drop(co, p, why);
			free(vals);
			return;
		}
	}
	if (boot_engine_complete(e, (int)c, vals, st, NULL))
		co->done_by[c] = who;
	free(vals);
}

static int
digest_matches(const coordinator *co, const msgpack_object *m)
{
	const msgpack_object *d = mpo_get(m, "digest");

	return d && d->type == MSGPACK_OBJECT_BIN && d->via.bin.size == sizeof co->digest &&
	    sodium_memcmp(d->via.bin.ptr, co->digest, sizeof co->digest) == 0;
}

static void
answer(coordinator *co, peer *p, const msgpack_object *m)
{
	const msgpack_object *kind = mpo_get(m, "kind");
	boot_engine *e = co->e;

	if (p->dropped) {
		send_refusal(co, p, "this worker's numbers differed from the coordinator's: dropped");
		return;
	}
	if (mpo_is_str(kind, "hello")) {
		if (co->sock) {
			zmq_send(co->sock, p->id, p->idlen, ZMQ_SNDMORE);
			zmq_send(co->sock, co->data, co->datalen, 0);
		}
		p->greeted = 1;
		return;
	}
	if (!mpo_is_str(kind, "ready") && !mpo_is_str(kind, "results"))
		return; /* not ours: ignored */
	if (!p->greeted || !digest_matches(co, m)) {
		refuse(co, p, "it computes on another stream or run than this coordinator's "
		    "(a worker of an earlier coordinator on this port?)");
		return;
	}
	if (mpo_is_str(kind, "results"))
		take_results(co, p, m);
	if (p->dropped)
		return;
	{
		int c = boot_engine_finished(e) ? -1 : boot_engine_take(e);

		if (c >= 0)
			hand_out(co, p, c);
		else
			send_kind(co->sock, p->id, p->idlen, boot_engine_finished(e) ? "done" : "wait");
	}
}

/* Unpacks a frame's bytes after checking them with mpscan. */
static int
unpack_bytes(const uint8_t *bytes, size_t n, msgpack_unpacked *u)
{
	size_t len, off = 0;

	if (mpscan(bytes, n, n + 1, &len) != MPSCAN_OK || len != n)
		return -1;
	msgpack_unpacked_init(u);
	if (msgpack_unpack_next(u, (const char *)bytes, len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    u->data.type != MSGPACK_OBJECT_MAP || mpo_duplicate_key(&u->data) != NULL) {
		msgpack_unpacked_destroy(u);
		return -1;
	}
	return 0;
}

boot_coordinator *
boot_coordinator_new(boot_engine *e, const mpseq *data_msg, int verify, int quiet)
{
	coordinator *co = xcalloc(1, sizeof *co);
	msgpack_packer pk;

	if (sodium_init() < 0)
		die("cannot start libsodium");
	co->e = e;
	co->verify = verify;
	co->quiet = quiet;
	msgpack_sbuffer_init(&co->packed);
	msgpack_packer_init(&pk, &co->packed, msgpack_sbuffer_write);
	mpseq_pack(data_msg, &pk);
	co->data = (const uint8_t *)co->packed.data;
	co->datalen = co->packed.size;
	/* the worker hashes what it received; a worker of another run (each
	 * run's data carry a random nonce) or stream has another digest */
	crypto_generichash(co->digest, sizeof co->digest, co->data, co->datalen, NULL, 0);
	co->owners = xcalloc((size_t)e->nchunks, sizeof *co->owners);
	co->done_by = xreallocarray(NULL, (size_t)e->nchunks, sizeof *co->done_by);
	for (int c = 0; c < e->nchunks; c++)
		co->done_by[c] = -1;
	co->scratch = replay_scratch_new(e->plan, e->data);
	co->mine = xreallocarray(NULL, (size_t)e->K + 1, sizeof *co->mine);
	return co;
}

void
boot_coordinator_frame(boot_coordinator *co, const void *id, size_t idlen, const char *who,
    const uint8_t *frame, size_t len)
{
	msgpack_unpacked u;
	peer *p;

	if (unpack_bytes(frame, len, &u) != 0)
		return; /* not a worker of ours: ignored */
	if ((p = peer_of(co, id, idlen, who)) != NULL)
		answer(co, p, &u.data);
	msgpack_unpacked_destroy(&u);
}

const uint8_t *
boot_coordinator_digest(const boot_coordinator *co)
{
	return co->digest;
}

void
boot_coordinator_free(boot_coordinator *co)
{
	if (co == NULL)
		return;
	replay_scratch_free(co->scratch);
	free(co->mine);
	free(co->list);
	free(co->owners);
	free(co->done_by);
	free(co->peers);
	msgpack_sbuffer_destroy(&co->packed);
	free(co);
}

/* The coordinator's loop: answers workers until every chunk is done. */
void
boot_serve_workers(boot_engine *e, const char *spec, const mpseq *data_msg,
    const boot_serve_opts *so, const io_opts *io, int quiet)
{
	io_opts peer_io = *io;
	double finished_at = 0;
	coordinator *co = boot_coordinator_new(e, data_msg, so->verify, quiet);

	peer_io.linger_ms = 0; /* stragglers' answers are not waited for */
	/* what workers send is small (a chunk's results): a peer's frame past
	 * that drops the peer before anything is allocated for it */
	peer_io.max_message = (size_t)e->chunk * ((size_t)e->K * 8 + 1) + 65536;
	co->sock = io_zmq_peer_open(spec, 1, &peer_io, " for workers");
	for (;;) {
		zmq_pollitem_t item = { co->sock, 0, ZMQ_POLLIN, 0 };
		int finished = boot_engine_finished(e);

		boot_progress(e, quiet, 0);
		if (finished && finished_at == 0)
			finished_at = boot_now();
		/* after the end, answer stragglers "done" for a moment */
		if (finished && boot_now() - finished_at > 0.5)
			break;
		if (!finished && boot_now() - e->last_progress > so->idle_timeout)
			die("no replicate finished in %.0f s: are the workers alive? "
			    "(--timeout)", so->idle_timeout);
		if (zmq_poll(&item, 1, 100) <= 0)
			continue;
		{
			zmq_msg_t id, body;

			zmq_msg_init(&id);
			zmq_msg_init(&body);
			if (zmq_msg_recv(&id, co->sock, 0) >= 0 && zmq_msg_more(&id) &&
			    zmq_msg_recv(&body, co->sock, 0) >= 0 && !zmq_msg_more(&body))
				boot_coordinator_frame(co, zmq_msg_data(&id), zmq_msg_size(&id),
				    io_zmq_peer_name(&body), zmq_msg_data(&body), zmq_msg_size(&body));
			else /* not a worker of ours: its frames are dropped */
				while (zmq_msg_more(&body) && zmq_msg_recv(&body, co->sock, 0) >= 0)
					;
			zmq_msg_close(&id);
			zmq_msg_close(&body);
		}
	}
	io_zmq_peer_free(co->sock);
	boot_coordinator_free(co);
}

/* The coordinator refused this worker: say why, and stop. */
static void
refused(const msgpack_object *m, const char *endpoint)
{
	if (mpo_is_str(mpo_get(m, "kind"), "refused")) {
		char *why = mpo_strdup(mpo_get(m, "why"));

		err_warn("the coordinator at %s refused this worker: %.300s", endpoint,
		    why ? why : "(no reason given)");
		free(why);
		exit(EXIT_DATA);
	}
}


/* A worker's last request, sent again while no answer comes: a request
 * sent on a connection that then broke (the coordinator restarted) is
 * lost, and nothing else would tell either side. Answers are self-
 * describing (a chunk, wait, done, refused), so a request answered twice
 * does no harm: the coordinator keeps a chunk's first results. */
typedef struct {
	void *sock;
	msgpack_sbuffer last;
} worker_link;

static void
worker_send(worker_link *w, const mpseq *m)
{
	msgpack_packer pk;

	msgpack_sbuffer_clear(&w->last);
	msgpack_packer_init(&pk, &w->last, msgpack_sbuffer_write);
	mpseq_pack(m, &pk);
	/* never blocks: with no connection up (a coordinator not there yet,
	 * or one that refused this worker's key) recv_map sends it again */
	zmq_send(w->sock, w->last.data, w->last.size, ZMQ_DONTWAIT);
}

static void
send_ready(worker_link *w, const uint8_t *digest)
{
	mpseq m;

	mpseq_map(&m);
	mpseq_str(&m, "kind", "ready");
	msgpack_pack_bin_with_body(mpseq_key(&m, "digest"), digest, crypto_generichash_BYTES);
	worker_send(w, &m);
	mpseq_free(&m);
}

/* Waits for one frame; -1 after the timeout. */
static int
recv_map(worker_link *w, zmq_msg_t *msg, msgpack_unpacked *u, double timeout)
{
	const double resend_s = 1;
	double waited = 0;

	for (;;) {
		zmq_pollitem_t item = { w->sock, 0, ZMQ_POLLIN, 0 };
		double slice = fmin(resend_s, timeout - waited);

		if (slice <= 0)
			return -1;
		if (zmq_poll(&item, 1, (long)(slice * 1000)) > 0)
			break;
		waited += slice;
		if (waited < timeout)
			zmq_send(w->sock, w->last.data, w->last.size, ZMQ_DONTWAIT);
	}
	if (zmq_msg_recv(msg, w->sock, 0) < 0 || unpack_frame(msg, u) != 0)
		die("a malformed message from the coordinator");
	return 0;
}

void
boot_worker(const char *spec, double idle_timeout, const io_opts *io, int quiet)
{
	io_opts peer = *io;
	worker_link w;
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
	uint8_t digest[crypto_generichash_BYTES];

	peer.linger_ms = 0;
	if (sodium_init() < 0)
		die("cannot start libsodium");
	w.sock = io_zmq_peer_open(spec, 0, &peer, NULL);
	msgpack_sbuffer_init(&w.last);
	{
		mpseq hello;

		mpseq_map(&hello);
		mpseq_str(&hello, "kind", "hello");
		worker_send(&w, &hello);
		mpseq_free(&hello);
	}
	zmq_msg_init(&msg);
	if (recv_map(&w, &msg, &u, idle_timeout) != 0)
		die("the coordinator at %s did not answer in %.0f s (--timeout)%s", endpoint,
		    idle_timeout, io->curve_key ? ": with keys, is this worker's public key in "
		    "the coordinator's --curve-allow directory, and --curve-server its key?" : "");
	m = &u.data;
	refused(m, endpoint);
	/* what was received, hashed: the coordinator checks it on every frame */
	crypto_generichash(digest, sizeof digest, zmq_msg_data(&msg), zmq_msg_size(&msg), NULL, 0);
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
	send_ready(&w, digest);
	while (!done) {
		int64_t c;

		zmq_msg_init(&msg);
		if (recv_map(&w, &msg, &u, idle_timeout) != 0)
			die("the coordinator at %s went silent for %.0f s (--timeout)",
			    endpoint, idle_timeout);
		m = &u.data;
		refused(m, endpoint);
		if (mpo_is_str(mpo_get(m, "kind"), "chunk") &&
		    mpo_int(mpo_get(m, "chunk"), &c) == 0 && c >= 0 && c * chunk < B) {
			mpseq r;
			int replicates = (int)(B - c * chunk < chunk ? B - c * chunk : chunk);

			boot_compute_chunk(&e, (int)c, s, vals, st, why, sizeof why);
			mpseq_map(&r);
			mpseq_str(&r, "kind", "results");
			mpseq_i64(&r, "chunk", c);
			msgpack_pack_bin_with_body(mpseq_key(&r, "digest"), digest, sizeof digest);
			msgpack_pack_bin_with_body(mpseq_key(&r, "values"), vals,
			    (size_t)replicates * (size_t)K * sizeof *vals);
			msgpack_pack_bin_with_body(mpseq_key(&r, "status"), st, (size_t)replicates);
			worker_send(&w, &r);
			mpseq_free(&r);
		} else if (mpo_is_str(mpo_get(m, "kind"), "wait")) {
			usleep(200000);
			send_ready(&w, digest);
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
	msgpack_sbuffer_destroy(&w.last);
	io_zmq_peer_free(w.sock);
}
