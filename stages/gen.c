/* gen — synthetic users with a known effect: the stage that makes data.
 *
 * Contract: reads nothing; writes the reference CSV's columns (user_id,
 * engagement_tier, opt_in_agent_mode, query_confidence, task_completed)
 * with the roles set, and the truth in the head's meta (gendata.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "gendata.h"
#include "gen.h"
#include "mpo.h"
#include "stream.h"

static void
truth_meta(stream_head *h, const gendata_opts *g)
{
	mpseq meta, truth, model;

	mpseq_map(&truth);
	mpseq_f64(&truth, "ate", g->effect);
	mpseq_f64(&truth, "att", g->effect);
	mpseq_f64(&truth, "atc", g->effect);
	mpseq_map(&model);
	mpseq_str(&model, "treatment", "opt_in_agent_mode");
	mpseq_str(&model, "outcome", "task_completed");
	mpseq_str(&model, "confounder", "engagement_tier");
	mpseq_map(&meta);
	mpseq_str(&meta, "source", "psflow gen");
	mpseq_i64(&meta, "seed", (int64_t)g->seed);
	mpseq_i64(&meta, "rows", (int64_t)g->rows);
	mpseq_take(&meta, "truth", &truth);
	mpseq_take(&meta, "model", &model);
	stream_head_set_meta(h, &meta);
	mpseq_free(&meta);
}

static void
gen_run(const void *params, const stage_roles *roles, const cli_common *cli)
{
	const gendata_opts *g = params;
	stream_head head;
	stream_out *out;
	table batch;
	rng r;

	(void)roles;

	stream_head_init(&head);
	gendata_schema(&head.schema);
	stream_head_set_role(&head.treatment, "opt_in_agent_mode");
	stream_head_set_role(&head.outcome, "task_completed");
	stream_head_set_covariates(&head, "engagement_tier,query_confidence");
	stage_add_recipe(&gen_module, g, &head);
	truth_meta(&head, g);

	out = stream_out_open(cli->out, &cli->io, cli->batch_rows);
	stream_out_head(out, &head);
	table_init(&batch);
	table_copy_schema(&batch, &head.schema);
	rng_seed(&r, g->seed);
	for (uint64_t done = 0; done < g->rows;) {
		size_t n = g->rows - done < cli->batch_rows ?
		    (size_t)(g->rows - done) : cli->batch_rows;

		batch.nrows = 0;
		gendata_fill(&batch, &r, g, done, n);
		stream_out_rows(out, &batch, 0, n);
		done += n;
	}
	stream_out_end(out);
	table_free(&batch);
	stream_head_free(&head);
}

/* The recipe entry, written and read side by side (gen makes data, so boot
 * has nothing of it to replay). */
static void
gen_recipe_write(const void *params, const stream_head *h, mpseq *entry)
{
	const gendata_opts *g = params;

	(void)h;
	mpseq_i64(entry, "rows", (int64_t)g->rows);
	mpseq_i64(entry, "seed", (int64_t)g->seed);
	mpseq_f64(entry, "effect", g->effect);
}

static int
gen_recipe_read(void *params, const msgpack_object *e, char *why, size_t whylen)
{
	gendata_opts *g = params;
	double rows = 0, seed = 0;

	g->effect = 0.08;
	if (recipe_get_number(e, "gen", "rows", &rows, why, whylen) ||
	    recipe_get_number(e, "gen", "seed", &seed, why, whylen) ||
	    recipe_get_number(e, "gen", "effect", &g->effect, why, whylen))
		return -1;
	g->rows = (uint64_t)rows;
	g->seed = (uint64_t)seed;
	return 0;
}

static const char gen_usage[] =
    "usage: gen [-n ROWS] [--seed S] [--effect E] [stream options]\n"
    "\n"
    "Writes a stream of synthetic users who opt into an 'agent mode' or not,\n"
    "with a known effect of opting in on task completion:\n"
    "  engagement_tier   light / medium / heavy with probability .55/.30/.15\n"
    "  query_confidence  Beta(5, 2), rounded to 4 decimals\n"
    "  opt_in_agent_mode Bernoulli(.12 light, .35 medium, .65 heavy)\n"
    "  task_completed    Bernoulli(base + E * opt_in + u), base .35/.55/.70,\n"
    "                    u ~ Uniform(-0.05, 0.05), clipped to [.01, .99]\n"
    "The clip never binds, so the effect is E for every user: ATE = ATT = E.\n"
    "\n"
    "  -n, --rows N       users to make (default 50000)\n"
    "  -s, --seed S       random seed (default 42)\n"
    "  -e, --effect E     true effect of opting in (default 0.08)\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  gen -n 50000 --seed 42 | fitps -t opt_in_agent_mode -y task_completed \\\n"
    "      -x engagement_tier,query_confidence | weight | report\n";

static const struct option gen_longopts[] = {
	{ "rows", required_argument, NULL, 'n' },
	{ "seed", required_argument, NULL, 's' },
	{ "effect", required_argument, NULL, 'e' },
	{ NULL, 0, NULL, 0 },
};

static void
gen_defaults(void *params)
{
	gendata_opts *g = params;

	*g = (gendata_opts){ .rows = 50000, .seed = 42, .effect = 0.08 };
}

static void
gen_option(void *params, int opt, const char *arg)
{
	gendata_opts *g = params;

	switch (opt) {
	case 'n': g->rows = (uint64_t)cli_int("--rows", arg, 0, 1ll << 40); break;
	case 's': g->seed = (uint64_t)cli_int("--seed", arg, 0, INT64_MAX); break;
	case 'e': g->effect = cli_double("--effect", arg, -0.25, 0.2); break;
	}
}

const stage_module gen_module = {
	.name = "gen",
	.usage = gen_usage,
	.shortopts = "n:s:e:",
	.longopts = gen_longopts,
	.params_size = sizeof(gendata_opts),
	.defaults = gen_defaults,
	.option = gen_option,
	.recipe_write = gen_recipe_write,
	.recipe_read = gen_recipe_read,
	.run = gen_run,
};
