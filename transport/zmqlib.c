/* zmqlib — libzmq, loaded when a program first uses a ZeroMQ endpoint.
 *
 * Linking libzmq makes every start load it and its dependencies (krb5,
 * sodium, pgm, norm, libstdc++): 5 ms of a program's 8 ms start, paid by
 * every stage of every pipeline, though most read and write pipes. So the
 * programs are not linked against it; the functions psflow calls are
 * defined here with libzmq's own prototypes (zmq.h, found with pkg-config)
 * and forward to the system's library (soname from its pkg-config libdir,
 * at build time), opened on first use. A missing library is an error that
 * says so, when an endpoint is used, not at start. */
#include <dlfcn.h>
#include <pthread.h>
#include <zmq.h>

#include "err.h"

#ifndef PSFLOW_ZMQ_SONAME
#error "PSFLOW_ZMQ_SONAME (libzmq's soname) is set by the Makefile"
#endif

static struct {
	void *(*ctx_new)(void);
	int (*ctx_term)(void *);
	void *(*socket)(void *, int);
	int (*close)(void *);
	int (*setsockopt)(void *, int, const void *, size_t);
	int (*bind)(void *, const char *);
	int (*connect)(void *, const char *);
	int (*socket_monitor)(void *, const char *, int);
	int (*send)(void *, const void *, size_t, int);
	int (*poll)(zmq_pollitem_t *, int, long);
	int (*msg_init)(zmq_msg_t *);
	int (*msg_init_size)(zmq_msg_t *, size_t);
	int (*msg_close)(zmq_msg_t *);
	void *(*msg_data)(zmq_msg_t *);
	size_t (*msg_size)(const zmq_msg_t *);
	int (*msg_more)(const zmq_msg_t *);
	int (*msg_send)(zmq_msg_t *, void *, int);
	int (*msg_recv)(zmq_msg_t *, void *, int);
	const char *(*strerror)(int);
	int (*has)(const char *);
	int (*curve_keypair)(char *, char *);
	int (*curve_public)(char *, const char *);
	char *(*z85_encode)(char *, const uint8_t *, size_t);
	uint8_t *(*z85_decode)(uint8_t *, const char *);
	const char *(*msg_gets)(const zmq_msg_t *, const char *);
} z;

static pthread_once_t loaded = PTHREAD_ONCE_INIT;

static void *
symbol(void *lib, const char *name)
{
	void *f = dlsym(lib, name);

	if (f == NULL)
		die("%s has no %s: psflow needs libzmq 4.x", PSFLOW_ZMQ_SONAME, name);
	return f;
}

/* Function pointers from dlsym: POSIX guarantees the conversion. */
#define BIND(field, name) (*(void **)&z.field = symbol(lib, name))

static void
load(void)
{
	void *lib = dlopen(PSFLOW_ZMQ_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (lib == NULL)
		die("ZeroMQ endpoints need libzmq (%s), which cannot be loaded: %s "
		    "(Debian: apt-get install libzmq5)", PSFLOW_ZMQ_SONAME, dlerror());
	BIND(ctx_new, "zmq_ctx_new");
	BIND(ctx_term, "zmq_ctx_term");
	BIND(socket, "zmq_socket");
	BIND(close, "zmq_close");
	BIND(setsockopt, "zmq_setsockopt");
	BIND(bind, "zmq_bind");
	BIND(connect, "zmq_connect");
	BIND(socket_monitor, "zmq_socket_monitor");
	BIND(send, "zmq_send");
	BIND(poll, "zmq_poll");
	BIND(msg_init, "zmq_msg_init");
	BIND(msg_init_size, "zmq_msg_init_size");
	BIND(msg_close, "zmq_msg_close");
	BIND(msg_data, "zmq_msg_data");
	BIND(msg_size, "zmq_msg_size");
	BIND(msg_more, "zmq_msg_more");
	BIND(msg_send, "zmq_msg_send");
	BIND(msg_recv, "zmq_msg_recv");
	BIND(strerror, "zmq_strerror");
	BIND(has, "zmq_has");
	BIND(curve_keypair, "zmq_curve_keypair");
	BIND(curve_public, "zmq_curve_public");
	BIND(z85_encode, "zmq_z85_encode");
	BIND(z85_decode, "zmq_z85_decode");
	BIND(msg_gets, "zmq_msg_gets");
}

#define LIB (pthread_once(&loaded, load), &z)

void *zmq_ctx_new(void) { return LIB->ctx_new(); }
int zmq_ctx_term(void *c) { return LIB->ctx_term(c); }
void *zmq_socket(void *c, int type) { return LIB->socket(c, type); }
int zmq_close(void *s) { return LIB->close(s); }
int zmq_setsockopt(void *s, int option, const void *value, size_t len)
{
	return LIB->setsockopt(s, option, value, len);
}
int zmq_bind(void *s, const char *addr) { return LIB->bind(s, addr); }
int zmq_connect(void *s, const char *addr) { return LIB->connect(s, addr); }
int zmq_socket_monitor(void *s, const char *addr, int events)
{
	return LIB->socket_monitor(s, addr, events);
}
int zmq_send(void *s, const void *buf, size_t len, int flags)
{
	return LIB->send(s, buf, len, flags);
}
int zmq_poll(zmq_pollitem_t *items, int n, long timeout)
{
	return LIB->poll(items, n, timeout);
}
int zmq_msg_init(zmq_msg_t *m) { return LIB->msg_init(m); }
int zmq_msg_init_size(zmq_msg_t *m, size_t size) { return LIB->msg_init_size(m, size); }
int zmq_msg_close(zmq_msg_t *m) { return LIB->msg_close(m); }
void *zmq_msg_data(zmq_msg_t *m) { return LIB->msg_data(m); }
size_t zmq_msg_size(const zmq_msg_t *m) { return LIB->msg_size(m); }
int zmq_msg_more(const zmq_msg_t *m) { return LIB->msg_more(m); }
int zmq_msg_send(zmq_msg_t *m, void *s, int flags) { return LIB->msg_send(m, s, flags); }
int zmq_msg_recv(zmq_msg_t *m, void *s, int flags) { return LIB->msg_recv(m, s, flags); }
const char *zmq_strerror(int errnum) { return LIB->strerror(errnum); }
int zmq_has(const char *capability) { return LIB->has(capability); }
int zmq_curve_keypair(char *z85_public, char *z85_secret)
{
	return LIB->curve_keypair(z85_public, z85_secret);
}
int zmq_curve_public(char *z85_public, const char *z85_secret)
{
	return LIB->curve_public(z85_public, z85_secret);
}
char *zmq_z85_encode(char *dest, const uint8_t *data, size_t size)
{
	return LIB->z85_encode(dest, data, size);
}
uint8_t *zmq_z85_decode(uint8_t *dest, const char *string)
{
	return LIB->z85_decode(dest, string);
}
const char *zmq_msg_gets(const zmq_msg_t *m, const char *property)
{
	return LIB->msg_gets(m, property);
}
