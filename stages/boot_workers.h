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

/* The coordinator's loop at spec: hands data_msg to each worker that says
 * hello and chunks of e to those ready, until every chunk is done; dies
 * after idle_timeout seconds without progress. */
void boot_serve_workers(boot_engine *e, const char *spec, const mpseq *data_msg,
    double idle_timeout, const io_opts *io, int quiet);
/* Runs as a remote worker of the coordinator at spec until it says done;
 * fails after idle_timeout seconds without an answer. */
void boot_worker(const char *spec, double idle_timeout, const io_opts *io, int quiet);

#endif
