/* The recipe reader: a stream's head, its recipe read into a replay plan
 * (what boot does) and written back as a command line (report's "Rerun
 * this flow"). */
#include <stdlib.h>

#include "cmdline.h"
#include "harness.h"
#include "module.h"
#include "replay.h"
#include "stream.h"
#include "xalloc.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static stream_in *s;
	static replay_plan plan;
	static cmdline cmd;
	static const msgpack_object **entries;
	static msgpack_unpacked *u;
	static int nu;

	s = NULL;
	entries = NULL;
	u = NULL;
	nu = 0;
	cmdline_init(&cmd);
	memset(&plan, 0, sizeof plan);
	FUZZ_GUARDED({
		stream_head *h;
		char why[512];

		s = stream_in_new(io_in_memory(data, size, "fuzz", FUZZ_MAX_MESSAGE));
		stream_in_read_head(s);
		h = stream_in_head(s);
		entries = xcalloc((size_t)h->nrecipe + 1, sizeof *entries);
		u = xcalloc((size_t)h->nrecipe + 1, sizeof *u);
		for (; nu < h->nrecipe; nu++) {
			mpraw_unpack(&h->recipe[nu], &u[nu]);
			entries[nu] = &u[nu].data;
		}
		stage_command_line(entries, nu, &cmd, why, sizeof why);
		replay_plan_from_recipe(&plan, h, 0);
	});
	replay_plan_free(&plan);
	for (int i = 0; i < nu; i++)
		msgpack_unpacked_destroy(&u[i]);
	free(u);
	free(entries);
	cmdline_free(&cmd);
	stream_in_free(s);
	return 0;
}
