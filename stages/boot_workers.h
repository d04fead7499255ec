/* boot_workers — the protocol between a boot coordinator and its remote
 * workers (PROTOCOL.md, "boot workers"), over io's peer sockets.
 *
 * Ownership: the engine and the data message are borrowed; the sockets are
 * opened and freed inside. (rule: base/README.md) */
#ifndef PSFLOW_BOOT_WORKERS_H
#define PSFLOW_BOOT_WORKERS_H

#include "boot_engine.h"
#include "io.h"
#include "mpo.h"

typedef struct {
	double idle_timeout; /* seconds without progress before giving up */
	int verify;          /* replicates of each remote chunk recomputed here */
} boot_serve_opts;

/* The coordinator's loop at spec: hands data_msg to each worker that says
 * hello and chunks of e to those ready, until every chunk is done; dies
 * after idle_timeout seconds without progress. A worker's results count
 * only for a chunk it was handed, on this run's data (the digest of the
 * data message, which carries a random nonce, in every frame), and when
 * so->verify of its replicates, recomputed here, agree bit for bit: a
 * worker that disagrees is dropped and its chunks are computed again. */
void boot_serve_workers(boot_engine *e, const char *spec, const mpseq *data_msg,
    const boot_serve_opts *so, const io_opts *io, int quiet);
/* The coordinator's side without its socket (boot_serve_workers uses it;
 * so does the fuzz harness, whose answers go nowhere): one frame from the
 * peer of routing id `id` (named `who`, or NULL) at a time. */
typedef struct boot_coordinator boot_coordinator;
boot_coordinator *boot_coordinator_new(boot_engine *e, const mpseq *data_msg, int verify,
    int quiet);
void boot_coordinator_frame(boot_coordinator *co, const void *id, size_t idlen,
    const char *who, const uint8_t *frame, size_t len);
/* The digest a worker of this run sends in every frame. */
const uint8_t *boot_coordinator_digest(const boot_coordinator *co);
void boot_coordinator_free(boot_coordinator *co);
/* Runs as a remote worker of the coordinator at spec until it says done;
 * fails after idle_timeout seconds without an answer. */
void boot_worker(const char *spec, double idle_timeout, const io_opts *io, int quiet);

#endif
