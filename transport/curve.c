#include "curve.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "err.h"
#include "xalloc.h"

/* A certificate is a few hundred bytes; anything much larger is not one. */
#define CERT_MAX_BYTES 65536

int
curve_is_z85_key(const char *s)
{
	uint8_t bin[32];

	return s && strlen(s) == CURVE_Z85_LEN && zmq_z85_decode(bin, s) != NULL;
}

/* The quoted value of `name = "..."` on a line of a zcert file, if this
 * line holds it. */
static int
cert_value(const char *line, const char *name, char out[CURVE_Z85_LEN + 1])
{
	size_t n = strlen(name);
	const char *p = line, *q;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, name, n) != 0)
		return 0;
	p += n;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != '=')
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != '"' || (q = strchr(p, '"')) == NULL || q - p != CURVE_Z85_LEN)
		return -1;
	memcpy(out, p, CURVE_Z85_LEN);
	out[CURVE_Z85_LEN] = '\0';
	return curve_is_z85_key(out) ? 1 : -1;
}

int
curve_cert_load(const char *path, int need_secret, curve_cert *c, char *why, size_t whylen)
{
	char *text, *line, *save = NULL;
	FILE *f = fopen(path, "r");
	size_t got;
	int bad = 0;

	memset(c, 0, sizeof *c);
	if (f == NULL) {
		snprintf(why, whylen, "cannot open the key file '%s': %s", path, strerror(errno));
		return -1;
	}
	text = xmalloc(CERT_MAX_BYTES + 1);
	got = fread(text, 1, CERT_MAX_BYTES + 1, f);
	fclose(f);
	if (got > CERT_MAX_BYTES) {
		free(text);
		snprintf(why, whylen, "'%s' is too large to be a key file", path);
		return -1;
	}
	text[got] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int p = cert_value(line, "public-key", c->public_key);
		int s = p ? 0 : cert_value(line, "secret-key", c->secret_key);

		if (p < 0 || s < 0)
			bad = 1;
	}
	free(text);
	if (bad || c->public_key[0] == '\0') {
		snprintf(why, whylen, "'%s' is not a CURVE certificate: it needs a line "
		    "public-key = \"<40 characters of Z85>\" (make one with psflow keygen)", path);
		return -1;
	}
	if (need_secret) {
		char derived[CURVE_Z85_LEN + 1];

		if (c->secret_key[0] == '\0') {
			snprintf(why, whylen, "'%s' holds no secret key: give this side's "
			    "secret certificate (the _secret file psflow keygen wrote)", path);
			return -1;
		}
		if (zmq_curve_public(derived, c->secret_key) != 0 ||
		    strcmp(derived, c->public_key) != 0) {
			snprintf(why, whylen, "'%s': its secret key does not belong to its "
			    "public key", path);
			return -1;
		}
	}
	return 0;
}

int
curve_cert_new(curve_cert *c, char *why, size_t whylen)
{
	memset(c, 0, sizeof *c);
	if (!zmq_has("curve") || zmq_curve_keypair(c->public_key, c->secret_key) != 0) {
		snprintf(why, whylen, "this libzmq was built without CURVE (libsodium): "
		    "no keys can be made");
		return -1;
	}
	return 0;
}

static int
write_cert(const char *path, const curve_cert *c, int secret, char *why, size_t whylen)
{
	char stamp[64];
	time_t now = time(NULL);
	struct tm tm;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, secret ? 0600 : 0644);
	FILE *f;
	int ok;

	if (fd < 0) {
		snprintf(why, whylen, "cannot create '%s': %s%s", path, strerror(errno),
		    errno == EEXIST ? " (keys are never overwritten: remove it first)" : "");
		return -1;
	}
	f = fdopen(fd, "w");
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", gmtime_r(&now, &tm));
	fprintf(f, "#   ****  Generated on %s UTC by psflow keygen  ****\n", stamp);
	if (secret)
		fprintf(f, "#   ZeroMQ CURVE **Secret** Certificate\n"
		    "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n");
	else
		fprintf(f, "#   ZeroMQ CURVE Public Certificate\n"
		    "#   Exchange securely, or use a secure mechanism to verify the contents\n"
		    "#   of this file after exchange.\n");
	fprintf(f, "\nmetadata\ncurve\n    public-key = \"%s\"\n", c->public_key);
	if (secret)
		fprintf(f, "    secret-key = \"%s\"\n", c->secret_key);
	ok = fflush(f) == 0 && fsync(fd) == 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok) {
		snprintf(why, whylen, "writing '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
curve_cert_save(const curve_cert *c, const char *base, char *why, size_t whylen)
{
	size_t n = strlen(base) + sizeof "_secret";
	char *secret_path = xmalloc(n);
	int rc;

	snprintf(secret_path, n, "%s_secret", base);
	rc = write_cert(secret_path, c, 1, why, whylen);
	if (rc == 0 && (rc = write_cert(base, c, 0, why, whylen)) != 0)
		unlink(secret_path);
	free(secret_path);
	return rc;
}

int
curve_server_key(const char *arg, char key[CURVE_Z85_LEN + 1], char *why, size_t whylen)
{
	curve_cert c;

	if (curve_is_z85_key(arg)) {
		memcpy(key, arg, CURVE_Z85_LEN + 1);
		return 0;
	}
	if (curve_cert_load(arg, 0, &c, why, whylen) != 0)
		return -1;
	memcpy(key, c.public_key, CURVE_Z85_LEN + 1);
	return 0;
}

/* ---- the ZAP handler ------------------------------------------------------ */

static struct {
	pthread_t thread;
	int running;
	void *ctx;
	void *sock;
	char (*keys)[CURVE_Z85_LEN + 1];
	int nkeys;
	char *allow;
} zap;

static int
allowed(const char *key)
{
	for (int i = 0; i < zap.nkeys; i++)
		if (strcmp(zap.keys[i], key) == 0)
			return 1;
	return 0;
}

static int
add_key_file(const char *path, char *why, size_t whylen)
{
	curve_cert c;

	if (curve_cert_load(path, 0, &c, why, whylen) != 0)
		return -1;
	zap.keys = xreallocarray(zap.keys, (size_t)zap.nkeys + 1, sizeof *zap.keys);
	memcpy(zap.keys[zap.nkeys++], c.public_key, CURVE_Z85_LEN + 1);
	return 0;
}

/* Every public certificate in a directory (names ending in _secret and
 * hidden files are passed over), or the one file named. */
static int
load_allow_list(const char *allow, char *why, size_t whylen)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (stat(allow, &st) != 0) {
		snprintf(why, whylen, "--curve-allow '%s': %s", allow, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return add_key_file(allow, why, whylen);
	if ((d = opendir(allow)) == NULL) {
		snprintf(why, whylen, "--curve-allow '%s': %s", allow, strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char *path;

		if (e->d_name[0] == '.' || (n >= 7 && strcmp(e->d_name + n - 7, "_secret") == 0))
			continue;
		path = xmalloc(strlen(allow) + n + 2);
		sprintf(path, "%s/%s", allow, e->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rc = add_key_file(path, why, whylen);
		free(path);
	}
	closedir(d);
	if (rc == 0 && zap.nkeys == 0) {
		snprintf(why, whylen, "--curve-allow '%s' holds no public certificates: "
		    "nobody could connect (copy the clients' NAME.key files there)", allow);
		rc = -1;
	}
	return rc;
}

/* One frame of a ZAP request into buf (NUL-terminated, cut at cap). */
static int
recv_frame(void *s, char *buf, size_t cap, size_t *len, int *more)
{
	zmq_msg_t m;
	size_t n;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, s, 0) < 0) {
		zmq_msg_close(&m);
		return -1;
	}
	n = zmq_msg_size(&m);
	*len = n;
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, zmq_msg_data(&m), n);
	buf[n] = '\0';
	*more = zmq_msg_more(&m);
	zmq_msg_close(&m);
	return 0;
}

static void
send_frame(void *s, const void *data, size_t len, int more)
{
	zmq_send(s, data, len, more ? ZMQ_SNDMORE : 0);
}

/* RFC 27: version, request id, domain, address, routing id, mechanism,
 * then the mechanism's credentials (CURVE: the client's 32-byte key). The
 * reply names the key as the user id, so that boot can name its workers. */
static void *
zap_main(void *arg)
{
	(void)arg;
	for (;;) {
		char frame[7][256], key[CURVE_Z85_LEN + 1] = "";
		size_t len[7] = { 0 };
		int more = 1, nframes = 0, ok;

		while (more) {
			char spill[256];
			size_t n;
			char *into = nframes < 7 ? frame[nframes] : spill;

			if (recv_frame(zap.sock, into, 256, nframes < 7 ? &len[nframes] : &n,
			    &more) != 0) {
				/* the context is being terminated: leave */
				zmq_close(zap.sock);
				return NULL;
			}
			nframes++;
		}
		if (nframes < 6)
			continue; /* not a ZAP request: nothing to answer */
		ok = strcmp(frame[5], "CURVE") == 0 && nframes >= 7 && len[6] == 32 &&
		    zmq_z85_encode(key, (const uint8_t *)frame[6], 32) != NULL && allowed(key);
		if (!ok)
			err_warn("refused a peer at %s: %s", frame[3][0] ? frame[3] : "an unknown address",
			    strcmp(frame[5], "CURVE") != 0 ? "it sent no CURVE key" :
			    key[0] ? "its key is not on the allow-list" : "its key is unreadable");
		if (!ok && key[0])
			err_warn("  (the refused key: %s; --curve-allow %s)", key, zap.allow);
		send_frame(zap.sock, "1.0", 3, 1);
		send_frame(zap.sock, frame[1], len[1] < 256 ? len[1] : 255, 1);
		send_frame(zap.sock, ok ? "200" : "400", 3, 1);
		send_frame(zap.sock, ok ? "OK" : "not on the allow-list", ok ? 2 : 21, 1);
		send_frame(zap.sock, key, ok ? strlen(key) : 0, 1);
		send_frame(zap.sock, "", 0, 0);
	}
}

int
curve_zap_start(void *ctx, const char *allow, char *why, size_t whylen)
{
	if (zap.running) {
		if (zap.ctx == ctx && strcmp(zap.allow, allow) == 0)
			return 0;
		snprintf(why, whylen, "one allow-list per program: --curve-allow '%s' and '%s'",
		    zap.allow, allow);
		return -1;
	}
	if (load_allow_list(allow, why, whylen) != 0) {
		free(zap.keys);
		zap.keys = NULL;
		zap.nkeys = 0;
		return -1;
	}
	if ((zap.sock = zmq_socket(ctx, ZMQ_REP)) == NULL ||
	    zmq_bind(zap.sock, "inproc://zeromq.zap.01") != 0) {
		snprintf(why, whylen, "cannot start the ZAP handler: %s", zmq_strerror(errno));
		return -1;
	}
	zap.ctx = ctx;
	zap.allow = xstrdup(allow);
	if (pthread_create(&zap.thread, NULL, zap_main, NULL) != 0) {
		snprintf(why, whylen, "cannot start the ZAP handler's thread");
		return -1;
	}
	zap.running = 1;
	return 0;
}

void
curve_zap_stop(void)
{
	if (!zap.running)
		return;
	pthread_join(zap.thread, NULL);
	free(zap.keys);
	free(zap.allow);
	memset(&zap, 0, sizeof zap);
}

int
curve_zap_keys(void)
{
	return zap.running ? zap.nkeys : 0;
}
