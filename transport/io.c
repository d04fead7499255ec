#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "bigmem.h"
#include "curve.h"
#include "err.h"
#include "xalloc.h"
#include "mpscan.h"

/* Who is connected, from a socket's monitor. A connection counts once its
 * ZeroMQ handshake succeeded: a port scan or an HTTP request opens and
 * closes TCP connections that never complete one, and must not look like
 * the stage at the other end going away. The handshake event carries no
 * descriptor, so it promotes every connection still pending: that errs
 * towards "still connected", never towards a false disconnect. */
typedef struct {
	int *pending, npending;
	int *live, nlive;
	int had_peer;       /* a connection was live once */
	int refused;        /* handshakes that failed (CURVE) */
	int server;         /* the socket binds: failed handshakes are peers refused */
	int curve;          /* the socket has keys */
} conn_track;

struct io_in {
	char *name;
	size_t max_message;
	/* byte stream */
	int fd, pipe;
	uint8_t *buf;
	size_t cap, start, end;
	int eof;
	/* ZeroMQ */
	void *sock, *monitor;
	int timeout_ms;
	conn_track peers;
	zmq_msg_t msg;
	int msg_live;
	unsigned long messages;
};

struct io_out {
	char *name;
	int fd;
	void *sock, *monitor;
	conn_track peers;
	size_t max_message;
	int timeout_ms, quiet, said_waiting;
	unsigned long messages;
	uint8_t *mem; /* memory output */
	size_t mem_len, mem_cap;
	int is_mem;
};

static void *zctx;
static int zcount;

static void
conn_track_free(conn_track *t)
{
	free(t->pending);
	free(t->live);
	memset(t, 0, sizeof *t);
}

static void
fd_list_add(int **list, int *n, int fd)
{
	*list = xreallocarray(*list, (size_t)*n + 1, sizeof **list);
	(*list)[(*n)++] = fd;
}

static int
fd_list_remove(int *list, int *n, int fd)
{
	for (int i = 0; i < *n; i++)
		if (list[i] == fd) {
			list[i] = list[--*n];
			return 1;
		}
	return 0;
}

/* Reads pending monitor events into the tracker. A handshake that fails is
 * a peer refused (no key, a wrong key, not on the allow-list): said once
 * per peer, naming the endpoint. */
static void
drain_monitor(void *monitor, conn_track *t, const char *name)
{
	for (;;) {
		zmq_msg_t ev;
		uint16_t event = 0;
		uint32_t value = 0;

		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, monitor, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&ev);
			return;
		}
		if (zmq_msg_size(&ev) >= 6) {
			memcpy(&event, zmq_msg_data(&ev), 2);
			memcpy(&value, (uint8_t *)zmq_msg_data(&ev) + 2, 4);
		}
		switch (event) {
		case ZMQ_EVENT_ACCEPTED:
		case ZMQ_EVENT_CONNECTED:
			fd_list_add(&t->pending, &t->npending, (int)value);
			break;
		case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
			while (t->npending > 0)
				fd_list_add(&t->live, &t->nlive, t->pending[--t->npending]);
			t->had_peer = 1;
			break;
		case ZMQ_EVENT_DISCONNECTED:
			if (!fd_list_remove(t->live, &t->nlive, (int)value))
				fd_list_remove(t->pending, &t->npending, (int)value);
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
		case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
		case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
			/* said at the 1st, 10th, 100th ... time: a peer retrying
			 * every 100 ms must not flood stderr; said even with
			 * --quiet (who was refused is a security log). The
			 * allow-list names the keys it refuses (AUTH) itself. */
			if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && t->server)
				break;
			t->refused++;
			if (t->refused != 1 && t->refused != 10 && t->refused != 100 &&
			    t->refused % 1000 != 0)
				break;
			if (!t->server)
				err_warn("%s: the binding side refused this side%s", name,
				    event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ?
				    "'s key (not on its --curve-allow list)" :
				    " (it wants CURVE and this side has no keys, or --curve-server "
				    "is not its key, or it has no keys and this side has)");
			else if (!t->curve)
				err_warn("%s: refused a peer that does not speak ZeroMQ's protocol "
				    "as this side does (a port scan, another program, or a peer "
				    "with CURVE keys)%s", name, t->refused > 1 ? " (again)" : "");
			else
				err_warn("%s: refused a peer whose handshake failed (it has no "
				    "CURVE key, or not this side's server key)%s", name,
				    t->refused > 1 ? " (again)" : "");
			break;
		}
		/* each event is two frames: drop the rest */
		while (zmq_msg_more(&ev)) {
			zmq_msg_close(&ev);
			zmq_msg_init(&ev);
			if (zmq_msg_recv(&ev, monitor, 0) < 0)
				break;
		}
		zmq_msg_close(&ev);
	}
}

void
io_opts_default(io_opts *o)
{
	o->max_message = IO_DEFAULT_MAX_MESSAGE;
	o->timeout_ms = -1;
	o->hwm = IO_DEFAULT_HWM;
	o->linger_ms = IO_DEFAULT_LINGER_MS;
	o->curve_key = o->curve_server = o->curve_allow = NULL;
	o->insecure = 0;
	o->quiet = 0;
}

int
io_is_zmq_spec(const char *spec)
{
	if (*spec == '@' || *spec == '>')
		spec++;
	return strncmp(spec, "tcp://", 6) == 0 || strncmp(spec, "ipc://", 6) == 0 ||
	    strncmp(spec, "inproc://", 9) == 0;
}

/* The endpoint of a spec and whether to bind it ('@') or connect ('>'),
 * bind_by_default without a prefix: the one parser of endpoints. */
static const char *
parse_endpoint(const char *spec, int bind_by_default, int *bind)
{
	*bind = bind_by_default;
	if (*spec == '@' || *spec == '>') {
		*bind = *spec == '@';
		spec++;
	}
	return spec;
}

int
io_spec_is_local(const char *spec)
{
	int bind;
	const char *e = parse_endpoint(spec, 0, &bind), *host, *semi;

	if (strncmp(e, "tcp://", 6) != 0)
		return 1; /* ipc:// (a file's permissions) and inproc:// */
	host = e + 6;
	/* tcp://source;peer names the peer after the semicolon */
	if ((semi = strchr(host, ';')) != NULL)
		host = semi + 1;
	return strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost:", 10) == 0 ||
	    strncmp(host, "[::1]:", 6) == 0 || strncmp(host, "lo:", 3) == 0;
}

/* CURVE on a socket: a binding side is the server (its key pair, the
 * allow-list through ZAP), a connecting side the client (its key pair and
 * the server's public key). Without keys, plain text to other hosts is
 * refused unless asked for: a flow carries user data, and a warning in a
 * pipeline's stderr is easily missed. */
static void
secure_socket(void *s, const char *spec, const char *endpoint, int bind, const io_opts *o,
    const char *purpose)
{
	curve_cert me;
	char why[512], server[CURVE_Z85_LEN + 1];
	int on = 1;

	if (o->curve_key == NULL) {
		if (o->curve_server || o->curve_allow)
			die_usage("--curve-server and --curve-allow need --curve-key FILE "
			    "(this side's secret certificate, from psflow keygen)");
		if (!io_spec_is_local(spec) && !o->insecure)
			die_usage("%s%s can be reached from other hosts and would carry the "
			    "flow in plain text: give keys (--curve-key FILE, and %s; make them "
			    "with psflow keygen) or --insecure to send it in the clear",
			    endpoint, purpose ? purpose : "",
			    bind ? "--curve-allow DIR of the keys let in" :
			    "--curve-server KEY of the side that binds");
		return;
	}
	if (bind && o->curve_allow == NULL)
		die_usage("binding %s with --curve-key needs --curve-allow DIR: the "
		    "public certificates of the peers let in", endpoint);
	if (!bind && o->curve_server == NULL)
		die_usage("connecting to %s with --curve-key needs --curve-server KEY: "
		    "the public key (or certificate file) of the side that binds", endpoint);
	if (!zmq_has("curve"))
		die("this libzmq was built without CURVE: %s cannot be encrypted", endpoint);
	if (curve_cert_load(o->curve_key, 1, &me, why, sizeof why) != 0)
		die("--curve-key: %s", why);
	if (bind) {
		if (curve_zap_start(zctx, o->curve_allow, why, sizeof why) != 0)
			die("%s", why);
		zmq_setsockopt(s, ZMQ_CURVE_SERVER, &on, sizeof on);
		zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, me.secret_key, CURVE_Z85_LEN);
		/* a ZAP domain makes libzmq ask the allow-list about every peer */
		zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, "psflow", 6);
	} else {
		if (curve_server_key(o->curve_server, server, why, sizeof why) != 0)
			die("--curve-server: %s", why);
		zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, CURVE_Z85_LEN);
		zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, me.public_key, CURVE_Z85_LEN);
		zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, me.secret_key, CURVE_Z85_LEN);
	}
	explicit_bzero(&me, sizeof me);
}

/* Opens a PULL or PUSH (with a monitor, returned in *monitor), or (boot's
 * workers) ROUTER or DEALER socket. The monitor exists before bind/connect
 * so that no handshake goes unseen. */
static void *
zmq_open_socket(const char *spec, int type, int bind_by_default, const io_opts *o,
    void **monitor, const char *purpose)
{
	int bind, rc, one = 1;
	const char *endpoint = parse_endpoint(spec, bind_by_default, &bind);
	int64_t maxsize = (int64_t)o->max_message;
	void *s;

	if (zctx == NULL && (zctx = zmq_ctx_new()) == NULL)
		die("cannot create a ZeroMQ context: %s", zmq_strerror(errno));
	if ((s = zmq_socket(zctx, type)) == NULL)
		die("cannot create a ZeroMQ socket: %s", zmq_strerror(errno));
	zcount++;
	secure_socket(s, spec, endpoint, bind, o, purpose);
	if (type == ZMQ_PULL) {
		zmq_setsockopt(s, ZMQ_RCVHWM, &o->hwm, sizeof o->hwm);
		zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxsize, sizeof maxsize);
	} else if (type == ZMQ_ROUTER || type == ZMQ_DEALER) {
		/* requests and answers both ways: a peer's message past the limit
		 * drops the peer before anything is allocated for it */
		zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxsize, sizeof maxsize);
		zmq_setsockopt(s, ZMQ_LINGER, &o->linger_ms, sizeof o->linger_ms);
	} else {
		zmq_setsockopt(s, ZMQ_SNDHWM, &o->hwm, sizeof o->hwm);
		zmq_setsockopt(s, ZMQ_LINGER, &o->linger_ms, sizeof o->linger_ms);
		/* queue nothing on connections that are not up yet */
		zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof one);
	}
	{
		/* No ZMQ heartbeats: a reader whose pipe is full (the high-water
		 * mark doing its job) stops reading its socket, misses the
		 * heartbeats and drops a healthy connection with data in flight.
		 * A dead process closes its sockets (the monitor sees that); for a
		 * dead host the kernel's TCP keepalive answers whatever the
		 * application does. */
		int on = 1, idle = 10, intvl = 5, cnt = 3;

		zmq_setsockopt(s, ZMQ_TCP_KEEPALIVE, &on, sizeof on);
		zmq_setsockopt(s, ZMQ_TCP_KEEPALIVE_IDLE, &idle, sizeof idle);
		zmq_setsockopt(s, ZMQ_TCP_KEEPALIVE_INTVL, &intvl, sizeof intvl);
		zmq_setsockopt(s, ZMQ_TCP_KEEPALIVE_CNT, &cnt, sizeof cnt);
	}
	if (monitor) {
		char addr[64];
		static int seq;

		/* PULL and PUSH never hear that their peer died; the monitor does. */
		snprintf(addr, sizeof addr, "inproc://psflow-monitor-%d", seq++);
		if (zmq_socket_monitor(s, addr,
		    ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
		    ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
		    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0 ||
		    (*monitor = zmq_socket(zctx, ZMQ_PAIR)) == NULL ||
		    zmq_connect(*monitor, addr) != 0)
			die("cannot monitor %s: %s", spec, zmq_strerror(errno));
		zcount++;
	}
	rc = bind ? zmq_bind(s, endpoint) : zmq_connect(s, endpoint);
	if (rc != 0) {
		int e = errno;

		if (bind && e == ENODEV && strncmp(endpoint, "tcp://", 6) == 0)
			die("cannot bind %s%s: %s (binding needs a local interface or address; "
			    "to connect to that host, write '>%s')", endpoint, purpose ? purpose : "",
			    zmq_strerror(e), endpoint);
		die("cannot %s %s%s: %s", bind ? "bind" : "connect to", endpoint,
		    purpose ? purpose : "", zmq_strerror(e));
	}
	return s;
}

const char *
io_zmq_peer_name(void *msg)
{
	const char *who = zmq_msg_gets(msg, "User-Id");

	if (who && who[0])
		return who;
	who = zmq_msg_gets(msg, "Peer-Address");
	return who && who[0] ? who : NULL;
}

static void
zmq_release(void *sock)
{
	zmq_close(sock);
	if (--zcount == 0) {
		zmq_ctx_term(zctx);
		curve_zap_stop();
		zctx = NULL;
	}
}

void *
io_zmq_peer_open(const char *spec, int coordinator, const io_opts *o, const char *purpose)
{
	return zmq_open_socket(spec, coordinator ? ZMQ_ROUTER : ZMQ_DEALER, coordinator, o,
	    NULL, purpose);
}

void
io_zmq_peer_free(void *sock)
{
	if (sock)
		zmq_release(sock);
}

/* A pipe holds 64 kB by default: a stage moving hundreds of megabytes then
 * makes a read or write, and a switch to the other process, per 64 kB.
 * 1 MB (the default limit for unprivileged processes) cuts that 16-fold. A
 * pipe that cannot grow works as before, only slower. */
static void
widen_pipe(int fd)
{
#ifdef F_SETPIPE_SZ
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
#else
	(void)fd;
#endif
}

io_in *
io_in_open(const char *spec, const io_opts *o)
{
	io_in *in = xcalloc(1, sizeof *in);

	in->name = xstrdup(strcmp(spec, "-") == 0 ? "stdin" : spec);
	in->max_message = o->max_message;
	in->timeout_ms = o->timeout_ms;
	in->fd = -1;
	if (io_is_zmq_spec(spec)) {
		in->sock = zmq_open_socket(spec, ZMQ_PULL, 1, o, &in->monitor, NULL);
		in->peers.server = spec[0] != '>';
		in->peers.curve = o->curve_key != NULL;
		zmq_msg_init(&in->msg);
		return in;
	}
	if (strcmp(spec, "-") == 0)
		in->fd = STDIN_FILENO;
	else if ((in->fd = open(spec, O_RDONLY)) < 0)
		die("cannot open input '%s':", spec);
	widen_pipe(in->fd);
	{
		struct stat st;

		in->pipe = fstat(in->fd, &st) == 0 && S_ISFIFO(st.st_mode);
	}
	in->cap = BIGMEM_MIN; /* on a huge page from the first read */
	in->buf = bigmem_resize(NULL, 0, in->cap);
	return in;
}

io_in *
io_in_memory(const void *bytes, size_t len, const char *name, size_t max_message)
{
	io_in *in = xcalloc(1, sizeof *in);

	in->name = xstrdup(name);
	in->max_message = max_message;
	in->fd = -1;
	in->cap = len ? len : 1;
	in->buf = bigmem_resize(NULL, 0, in->cap);
	memcpy(in->buf, bytes, len);
	in->end = len;
	in->eof = 1;
	return in;
}

io_out *
io_out_memory(void)
{
	io_out *out = xcalloc(1, sizeof *out);

	out->name = xstrdup("memory");
	out->fd = -1;
	out->is_mem = 1;
	return out;
}

void *
io_out_take(io_out *out, size_t *len)
{
	void *p = out->mem;

	*len = out->mem_len;
	out->mem = NULL;
	out->mem_len = out->mem_cap = 0;
	return p;
}

int
io_in_is_pipe(const io_in *in)
{
	return in->pipe;
}

int
io_in_is_zmq(const io_in *in)
{
	return in->sock != NULL;
}

const char *
io_in_name(const io_in *in)
{
	return in->name;
}

static io_status
zmq_next(io_in *in, const uint8_t **data, size_t *len)
{
	/* After a disconnect, messages already queued still arrive: only a
	 * silence this long after it counts as the peer having gone. */
	const int grace_ms = 1000;
	int waited = 0;

	if (in->msg_live) {
		zmq_msg_close(&in->msg);
		zmq_msg_init(&in->msg);
		in->msg_live = 0;
	}
	for (;;) {
		zmq_pollitem_t items[2] = {
			{ in->sock, 0, ZMQ_POLLIN, 0 },
			{ in->monitor, 0, ZMQ_POLLIN, 0 },
		};
		int slice = 200, rc;

		rc = zmq_poll(items, 2, slice);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			die("polling %s: %s", in->name, zmq_strerror(errno));
		}
		if (items[1].revents & ZMQ_POLLIN)
			drain_monitor(in->monitor, &in->peers, in->name);
		if (items[0].revents & ZMQ_POLLIN) {
			size_t n, objlen;
			mpscan_status st;

			if (zmq_msg_recv(&in->msg, in->sock, ZMQ_DONTWAIT) < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				die("receiving from %s: %s", in->name, zmq_strerror(errno));
			}
			in->msg_live = 1;
			n = zmq_msg_size(&in->msg);
			*data = zmq_msg_data(&in->msg);
			st = mpscan(*data, n, in->max_message, &objlen);
			if (st != MPSCAN_OK)
				die("message %lu from %s: %s", in->messages + 1, in->name,
				    st == MPSCAN_NEED_MORE ? "truncated MessagePack object" :
				    mpscan_strerror(st));
			if (objlen != n)
				die("message %lu from %s has %zu stray bytes after its map",
				    in->messages + 1, in->name, n - objlen);
			*len = n;
			in->messages++;
			return IO_MSG;
		}
		if (rc == 0 || !(items[0].revents & ZMQ_POLLIN)) {
			waited += slice;
			if (in->peers.had_peer && in->peers.nlive == 0 && waited >= grace_ms)
				return IO_PEER_GONE;
			if (in->timeout_ms >= 0 && waited >= in->timeout_ms)
				return IO_TIMEOUT;
		}
	}
}

static io_status
fd_next(io_in *in, const uint8_t **data, size_t *len)
{
	for (;;) {
		size_t objlen;
		mpscan_status st = MPSCAN_NEED_MORE;
		ssize_t got;

		if (in->end > in->start) {
			st = mpscan(in->buf + in->start, in->end - in->start,
			    in->max_message, &objlen);
			if (st == MPSCAN_OK) {
				*data = in->buf + in->start;
				*len = objlen;
				in->start += objlen;
				in->messages++;
				return IO_MSG;
			}
			if (st != MPSCAN_NEED_MORE)
				die("%s: message %lu: %s", in->name, in->messages + 1,
				    mpscan_strerror(st));
		}
		if (in->eof)
			return in->end == in->start ? IO_EOF : IO_TRUNCATED;
		/* make room: slide the partial message down, then grow */
		if (in->start > 0) {
			memmove(in->buf, in->buf + in->start, in->end - in->start);
			in->end -= in->start;
			in->start = 0;
		}
		if (in->cap - in->end < (1 << 16)) {
			in->buf = bigmem_resize(in->buf, in->cap, 2 * in->cap);
			in->cap *= 2;
		}
		got = read(in->fd, in->buf + in->end, in->cap - in->end);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			die("reading %s:", in->name);
		}
		if (got == 0)
			in->eof = 1;
		in->end += (size_t)got;
	}
}

io_status
io_in_next(io_in *in, const uint8_t **data, size_t *len)
{
	return in->sock ? zmq_next(in, data, len) : fd_next(in, data, len);
}

void
io_in_free(io_in *in)
{
	if (in == NULL)
		return;
	if (in->sock) {
		if (in->msg_live)
			zmq_msg_close(&in->msg);
		zmq_socket_monitor(in->sock, NULL, 0);
		zmq_release(in->monitor);
		zmq_release(in->sock);
		conn_track_free(&in->peers);
	} else {
		if (in->fd > STDIN_FILENO)
			close(in->fd);
		bigmem_free(in->buf, in->cap);
	}
	free(in->name);
	free(in);
}

io_out *
io_out_open(const char *spec, const io_opts *o)
{
	io_out *out = xcalloc(1, sizeof *out);

	out->name = xstrdup(strcmp(spec, "-") == 0 ? "stdout" : spec);
	out->fd = -1;
	out->max_message = o->max_message;
	out->timeout_ms = o->timeout_ms;
	out->quiet = o->quiet;
	if (io_is_zmq_spec(spec)) {
		out->sock = zmq_open_socket(spec, ZMQ_PUSH, 0, o, &out->monitor, NULL);
		out->peers.server = spec[0] == '@';
		out->peers.curve = o->curve_key != NULL;
		return out;
	}
	/* a closed pipe must be an error we report, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(spec, "-") == 0)
		out->fd = STDOUT_FILENO;
	else if ((out->fd = open(spec, O_WRONLY | O_CREAT | O_TRUNC, 0666)) < 0)
		die("cannot open output '%s':", spec);
	widen_pipe(out->fd);
	return out;
}

/* The pieces iov[0..n), in order, to a file descriptor: writev takes a
 * limited number of pieces (64 at a time here) and may write only part of
 * them, so this goes on from where the last call stopped. */
static void
fd_writev(io_out *out, const struct iovec *iov, int n)
{
	struct iovec part[64];
	int first = 0;
	size_t skip = 0;

	while (first < n) {
		int m = 0;
		ssize_t put;

		for (int i = first; i < n && m < 64; i++, m++) {
			part[m].iov_base = (char *)iov[i].iov_base + (i == first ? skip : 0);
			part[m].iov_len = iov[i].iov_len - (i == first ? skip : 0);
		}
		put = writev(out->fd, part, m);
		if (put < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE)
				die("the reader of %s went away after %lu messages "
				    "(did a later stage fail?)", out->name, out->messages);
			die("writing %s:", out->name);
		}
		/* past what was written */
		for (size_t left = (size_t)put; first < n;) {
			size_t rest = iov[first].iov_len - skip;

			if (left < rest) {
				skip += left;
				break;
			}
			left -= rest;
			first++;
			skip = 0;
		}
	}
}

/* Sends one message, waiting for a reader as long as --timeout allows. A
 * reader that was connected and is gone for good (the stage after this one
 * failed) ends the run as a closed pipe does; no reader yet is said once. */
static void
zmq_send_waiting(io_out *out, zmq_msg_t *msg)
{
	const int grace_ms = 1000, slice = 200;
	int waited = 0;

	for (;;) {
		zmq_pollitem_t items[2] = {
			{ out->sock, 0, ZMQ_POLLOUT, 0 },
			{ out->monitor, 0, ZMQ_POLLIN, 0 },
		};

		if (zmq_msg_send(msg, out->sock, ZMQ_DONTWAIT) >= 0)
			return;
		if (errno != EAGAIN && errno != EINTR)
			die("sending to %s: %s", out->name, zmq_strerror(errno));
		if (zmq_poll(items, 2, slice) < 0 && errno != EINTR)
			die("polling %s: %s", out->name, zmq_strerror(errno));
		if (items[1].revents & ZMQ_POLLIN)
			drain_monitor(out->monitor, &out->peers, out->name);
		if (items[0].revents & ZMQ_POLLOUT)
			continue;
		waited += slice;
		if (out->peers.nlive == 0) {
			if (out->peers.had_peer && waited >= grace_ms)
				die("the reader of %s went away after %lu messages (did a later "
				    "stage fail?)", out->name, out->messages);
			if (!out->quiet && !out->said_waiting && waited >= 2000) {
				err_warn("waiting for a reader at %s", out->name);
				out->said_waiting = 1;
			}
		}
		if (out->timeout_ms >= 0 && waited >= out->timeout_ms)
			die("no reader took message %lu from %s in %.0f s (--timeout): %s",
			    out->messages + 1, out->name, out->timeout_ms / 1000.0,
			    out->peers.nlive ? "the reader stopped reading" :
			    "is the next stage running, and connected to this endpoint?");
	}
}

void
io_out_writev(io_out *out, const struct iovec *iov, int n)
{
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	/* The reader would refuse it (over ZeroMQ, by dropping the connection,
	 * which looks like this stage dying): say so here, where it is made. */
	if (!out->is_mem && out->max_message && len > out->max_message)
		die("message %lu for %s is %.1f MB, over --max-message %zu MB: write "
		    "smaller batches (--batch-rows) or raise --max-message here and in the "
		    "reader", out->messages + 1, out->name, len / 1048576.0,
		    out->max_message >> 20);
	if (out->is_mem) {
		if (out->mem_len + len > out->mem_cap) {
			out->mem_cap = (out->mem_len + len) * 2;
			out->mem = xrealloc(out->mem, out->mem_cap);
		}
		for (int i = 0; i < n; i++) {
			memcpy(out->mem + out->mem_len, iov[i].iov_base, iov[i].iov_len);
			out->mem_len += iov[i].iov_len;
		}
	} else if (out->sock) {
		zmq_msg_t msg;
		uint8_t *at;

		if (zmq_msg_init_size(&msg, len) != 0)
			die("out of memory for a message of %zu bytes", len);
		at = zmq_msg_data(&msg);
		for (int i = 0; i < n; i++) {
			memcpy(at, iov[i].iov_base, iov[i].iov_len);
			at += iov[i].iov_len;
		}
		zmq_send_waiting(out, &msg);
	} else
		fd_writev(out, iov, n);
	out->messages++;
}

void
io_out_write(io_out *out, const void *data, size_t len)
{
	struct iovec one = { (void *)data, len };

	io_out_writev(out, &one, 1);
}

void
io_out_set_linger(io_out *out, int linger_ms)
{
	if (out->sock)
		zmq_setsockopt(out->sock, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
}

void
io_out_free(io_out *out)
{
	if (out == NULL)
		return;
	free(out->mem);
	if (out->sock) {
		drain_monitor(out->monitor, &out->peers, out->name);
		zmq_socket_monitor(out->sock, NULL, 0);
		zmq_release(out->monitor);
		zmq_release(out->sock); /* waits up to linger for the tail */
		conn_track_free(&out->peers);
	}
	else if (out->fd > STDOUT_FILENO && close(out->fd) != 0)
		die("closing %s:", out->name);
	free(out->name);
	free(out);
}
