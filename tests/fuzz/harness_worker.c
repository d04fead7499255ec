/* Boot's coordinator, fed the frames any peer can send to its socket:
 * hello, ready and results (values, statuses, digests, chunk numbers),
 * from several peers, in any order. The input is a sequence of frames,
 * each [peer byte][length, 2 bytes little-endian][frame]; 32 bytes of 0xdd
 * in a frame stand for this run's digest (which a mutation cannot guess),
 * so that the fuzzer reaches the results a coordinator checks and
 * recomputes. The data come from tests/fuzz/worker-stream.mp (or
 * $PSFLOW_FUZZ_STREAM). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot_engine.h"
#include "boot_resample.h"
#include "boot_workers.h"
#include "harness.h"
#include "replay.h"
#include "stage.h"
#include "xalloc.h"

static struct {
	stage_input si;
	replay_plan plan;
	replay_data data;
	boot_resample rs;
	boot_engine e;
	mpseq msg;
	int ready;
} w;

static void
setup(void)
{
	const char *path = getenv("PSFLOW_FUZZ_STREAM");
	io_opts io;

	io_opts_default(&io);
	memset(&w.si, 0, sizeof w.si);
	w.si.in = stream_in_open(path ? path : "tests/fuzz/worker-stream.mp", &io);
	w.si.head = stream_in_head(w.si.in);
	table_init(&w.si.rows);
	table_copy_schema(&w.si.rows, &w.si.head->schema);
	stage_read_all(&w.si);
	replay_plan_build(&w.plan, w.si.head, &w.si.results, 0);
	replay_data_prepare(&w.data, &w.plan, &w.si.rows);
	replay_plan_warm_start(&w.plan, &w.data);
	boot_resample_prepare(&w.rs, RESAMPLE_ROWS, NULL, &w.si.rows, &w.data);
	w.e.plan = &w.plan;
	w.e.data = &w.data;
	w.e.resample = &w.rs;
	w.e.seed = 1;
	w.e.B = 20;
	w.e.K = w.plan.ntargets;
	w.e.chunk = 5;
	w.e.nchunks = 4;
	w.e.values = xreallocarray(NULL, (size_t)w.e.B, (size_t)w.e.K * sizeof *w.e.values);
	w.e.status = xcalloc((size_t)w.e.B, 1);
	w.e.state = xcalloc((size_t)w.e.nchunks, 1);
	w.e.handed_at = xcalloc((size_t)w.e.nchunks, sizeof *w.e.handed_at);
	w.e.chunk_timeout = 1e9;
	pthread_mutex_init(&w.e.mu, NULL);
	pthread_cond_init(&w.e.cv, NULL);
	mpseq_map(&w.msg);
	mpseq_str(&w.msg, "kind", "boot-data");
	msgpack_pack_bin_with_body(mpseq_key(&w.msg, "run"), "fixed run nonce!", 16);
	mpseq_i64(&w.msg, "replicates", w.e.B);
	w.ready = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static boot_coordinator *co;
	static uint8_t *frame;

	if (!w.ready)
		setup();
	/* a fresh run for every input */
	memset(w.e.state, 0, (size_t)w.e.nchunks);
	w.e.done_chunks = w.e.done_reps = 0;
	co = NULL;
	frame = NULL;
	FUZZ_GUARDED({
		size_t at = 0;

		co = boot_coordinator_new(&w.e, &w.msg, 2, 1);
		while (at + 3 <= size) {
			uint8_t who = data[at] & 3;
			size_t len = data[at + 1] | (size_t)data[at + 2] << 8;
			char id[2] = { 'p', (char)('0' + who) };

			at += 3;
			if (len > size - at)
				len = size - at;
			free(frame);
			frame = xmalloc(len + 1);
			memcpy(frame, data + at, len);
			for (size_t i = 0; i + 32 <= len; i++)
				if (frame[i] == 0xdd && memcmp(frame + i, "\xdd\xdd\xdd\xdd", 4) == 0) {
					size_t k = 0;

					while (k < 32 && frame[i + k] == 0xdd)
						k++;
					if (k == 32)
						memcpy(frame + i, boot_coordinator_digest(co), 32);
				}
			boot_coordinator_frame(co, id, sizeof id, who == 3 ? NULL : "127.0.0.1",
			    frame, len);
			at += len;
		}
	});
	free(frame);
	boot_coordinator_free(co);
	return 0;
}
