/* io — moves whole messages between stages: pipes and files, or ZeroMQ.
 *
 * An endpoint spec is "-" (stdin/stdout), a file path, or a ZeroMQ endpoint
 * (tcp://, ipc://, inproc://) with czmq's prefixes: "@" binds, ">" connects.
 * Without a prefix an input binds and an output connects. Data travel over
 * PULL/PUSH sockets only; over a byte stream the MessagePack maps are back to
 * back and mpscan() finds where each ends.
 *
 * Ownership: the bytes io_in_next() hands out belong to the reader and stay
 * valid only until the next call on it. io_out_write() copies. */
#ifndef PSFLOW_IO_H
#define PSFLOW_IO_H

#include <stddef.h>
#include <sys/uio.h>
#include <stdint.h>

/* CURVE (curve.h): a binding socket is a server and needs curve_key and
 * curve_allow; a connecting one is a client and needs curve_key and
 * curve_server. A tcp endpoint that other hosts can reach is refused
 * without keys unless insecure is set: a flow carries user data. */
typedef struct {
	size_t max_message; /* bytes; a larger message is refused, not allocated */
	int timeout_ms;     /* ZeroMQ: give up after this long without a message in,
	                       or without a reader taking one out (-1: never) */
	int hwm;            /* ZeroMQ high-water mark, in messages */
	int linger_ms;      /* ZeroMQ output: how long close waits for the tail of the stream */
	const char *curve_key;    /* this side's secret certificate file */
	const char *curve_server; /* connecting: the server's public key or certificate */
	const char *curve_allow;  /* binding: the client certificates let in */
	int insecure;             /* plain text to other hosts, on purpose */
	int quiet;                /* no notes (waiting for a reader) on stderr */
} io_opts;

#define IO_DEFAULT_MAX_MESSAGE ((size_t)256 << 20)
#define IO_DEFAULT_HWM 4
#define IO_DEFAULT_LINGER_MS 60000

void io_opts_default(io_opts *o);

typedef enum {
	IO_MSG,          /* one whole message */
	IO_EOF,          /* the byte stream ended cleanly between messages */
	IO_TIMEOUT,      /* ZeroMQ: nothing arrived within timeout_ms */
	IO_PEER_GONE,    /* ZeroMQ: the sending peer disconnected and nothing more came */
	IO_TRUNCATED,    /* the byte stream ended inside a message */
} io_status;

typedef struct io_in io_in;
typedef struct io_out io_out;

/* Both die with a message naming the endpoint when it cannot be opened. */
io_in *io_in_open(const char *spec, const io_opts *opts);
io_out *io_out_open(const char *spec, const io_opts *opts);

/* In memory: a reader over bytes the caller keeps alive; a writer that
 * collects what is written (io_out_take hands the bytes over). */
io_in *io_in_memory(const void *bytes, size_t len, const char *name, size_t max_message);
io_out *io_out_memory(void);
void *io_out_take(io_out *out, size_t *len);

/* Next whole message. A corrupt byte stream or a message over the cap dies
 * with a message saying how many messages were read before. */
io_status io_in_next(io_in *in, const uint8_t **data, size_t *len);
int io_in_is_zmq(const io_in *in);
/* Is the input a pipe (another process writes it)? */
int io_in_is_pipe(const io_in *in);
const char *io_in_name(const io_in *in);
void io_in_free(io_in *in);

/* Writes one message; dies when the reader has gone (EPIPE) or on error. */
void io_out_write(io_out *out, const void *data, size_t len);
/* Writes one message made of the pieces iov[0..n), without first copying
 * them together where the transport allows (a file or pipe). */
void io_out_writev(io_out *out, const struct iovec *iov, int n);
/* ZeroMQ: how long closing waits for the tail from now on. */
void io_out_set_linger(io_out *out, int linger_ms);
/* Flushes and closes; dies when the data could not be written out. */
void io_out_free(io_out *out);

/* A request-and-answer socket for boot's remote workers, over the same
 * endpoint specs, limits (max_message as ZMQ_MAXMSGSIZE) and linger as the
 * data sockets: a ROUTER for the coordinator (binds by default), a DEALER
 * for a worker (connects by default). Dies naming the endpoint and purpose
 * (" for workers") when it cannot be bound or connected. The socket is
 * libzmq's: send and receive with zmq_msg_* (zmqlib.c); free it here. */
void *io_zmq_peer_open(const char *spec, int coordinator, const io_opts *o,
    const char *purpose);
void io_zmq_peer_free(void *sock);

/* Is this spec a ZeroMQ endpoint? */
int io_is_zmq_spec(const char *spec);
/* Can only this host reach it (ipc://, inproc://, tcp on a loopback address)? */
int io_spec_is_local(const char *spec);
/* The key a received frame's peer authenticated with (CURVE, through the
 * allow-list), else its address, else NULL; valid while msg is. */
const char *io_zmq_peer_name(void *msg);

#endif
