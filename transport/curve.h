/* curve — CurveZMQ keys for links between hosts (ZeroMQ's CURVE, RFC 26)
 * and the allow-list that decides which client keys a binding side lets in
 * (a ZAP handler, RFC 27).
 *
 * A certificate is a text file in czmq's zcert format: `NAME.key` holds the
 * public key, `NAME.key_secret` (mode 0600) the public and the secret key,
 * each as 40 characters of Z85. The binding side of a link is the CURVE
 * server: it has a key pair and an allow-list of client public keys. The
 * connecting side is a client: it has a key pair and the server's public
 * key. Every ZeroMQ socket of a process shares the one allow-list.
 *
 * Loaders return 0, or -1 with the reason in why; nothing here exits except
 * for memory. Ownership: callers own the structs they pass in; the allow-list
 * is the handler's until curve_zap_stop(). (rule: base/README.md) */
#ifndef PSFLOW_CURVE_H
#define PSFLOW_CURVE_H

#include <stddef.h>

#define CURVE_Z85_LEN 40

typedef struct {
	char public_key[CURVE_Z85_LEN + 1];
	char secret_key[CURVE_Z85_LEN + 1]; /* "" in a public certificate */
} curve_cert;

/* Is s exactly a 40-character Z85 key? */
int curve_is_z85_key(const char *s);
/* Reads a certificate file; with need_secret, its secret key must be there
 * and must belong to its public key. */
int curve_cert_load(const char *path, int need_secret, curve_cert *c, char *why,
    size_t whylen);
/* A new key pair (libsodium through libzmq). */
int curve_cert_new(curve_cert *c, char *why, size_t whylen);
/* Writes `base` (the public certificate, 0644) and `base_secret` (0600);
 * refuses to overwrite either. */
int curve_cert_save(const curve_cert *c, const char *base, char *why, size_t whylen);
/* A server key given on the command line: a Z85 key, or a certificate file. */
int curve_server_key(const char *arg, char key[CURVE_Z85_LEN + 1], char *why,
    size_t whylen);

/* Starts the ZAP handler in ctx (once per context), letting in the client
 * keys of every certificate in allow (a directory of public certificates,
 * or one file). Refused peers are logged on stderr by address and key. */
int curve_zap_start(void *ctx, const char *allow, char *why, size_t whylen);
/* After zmq_ctx_term(ctx) returned: joins the handler's thread. */
void curve_zap_stop(void);
/* How many keys the running handler lets in (0: none running). */
int curve_zap_keys(void);

#endif
