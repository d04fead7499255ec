/* gen — synthetic users with a known effect: the stage that makes data, in
 * the reference study or in a scenario where propensity scores break.
 *
 * Contract: reads nothing; writes the scenario's columns (the reference
 * CSV's for the reference study) with the roles set, and the truth in the
 * head's meta: the effect E for the reference study (every user's), the
 * sample's own ATE, ATT and ATC for a scenario (each user's effect summed
 * in a first pass over the same draws). gendata.h has the scenarios. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "gen.h"
#include "gendata.h"
#include "mpo.h"
#include "stream.h"
#include "xalloc.h"

typedef struct {
	double ate, att, atc;
} truth;

static double
round12(double x)
{
	return round(x * 1e12) / 1e12;
}

/* The sample's truth: every user's own effect, from a generator of the
 * same options (the same draws as the stream's). */
static truth
sample_truth(const gendata_opts *g)
{
	enum { CHUNK = 8192 };
	gendata *gen = gendata_new(g);
	double *tau = xreallocarray(NULL, CHUNK, sizeof *tau), sum[2] = { 0, 0 };
	uint64_t count[2] = { 0, 0 };
	table batch;
	truth t;

	table_init(&batch);
	gendata_schema(gen, &batch);
	for (uint64_t done = 0; done < g->rows;) {
		size_t n = g->rows - done < CHUNK ? (size_t)(g->rows - done) : CHUNK;
		const int64_t *opt_in;

		batch.nrows = 0;
		gendata_fill(gen, &batch, n, tau);
		opt_in = batch.cols[table_find(&batch, gendata_treatment())].data;
		for (size_t i = 0; i < n; i++) {
			sum[opt_in[i] != 0] += tau[i];
			count[opt_in[i] != 0]++;
		}
		done += n;
	}
	/* to 12 decimals: the sums' last bits are not part of the truth */
	t.ate = round12(g->rows ? (sum[0] + sum[1]) / (double)g->rows : g->effect);
	t.att = round12(count[1] ? sum[1] / (double)count[1] : g->effect);
	t.atc = round12(count[0] ? sum[0] / (double)count[0] : g->effect);
	table_free(&batch);
	free(tau);
	gendata_free(gen);
	return t;
}

static const char *
confounder_of(gendata_scenario s)
{
	switch (s) {
	case SCENARIO_REALISTIC: return "engagement_tier, past_engagement_score, "
	    "account_age_months, feature_usage_count";
	case SCENARIO_HIDDEN_CONFOUNDER: return "engagement_tier, and motivation (reads the "
	    "release notes), which is hidden unless --reveal";
	case SCENARIO_MISSPECIFIED: return "engagement_tier x query_confidence";
	case SCENARIO_SPILLOVER: return "engagement_tier and the workspace's culture; "
	    "teammates' opt-ins raise the outcome";
	case SCENARIO_NO_OVERLAP: return "engagement_tier and account_type (admins switch "
	    "the feature on or off)";
	default: return "engagement_tier";
	}
}

static void
truth_meta(stream_head *h, const gendata_opts *g)
{
	mpseq meta, tr, model;
	truth t = { g->effect, g->effect, g->effect };

	if (g->scenario != SCENARIO_REFERENCE)
		t = sample_truth(g);
	mpseq_map(&tr);
	mpseq_f64(&tr, "ate", t.ate);
	mpseq_f64(&tr, "att", t.att);
	mpseq_f64(&tr, "atc", t.atc);
	if (g->scenario == SCENARIO_SPILLOVER)
		mpseq_str(&tr, "of", "the direct effect of a user's own opt-in");
	mpseq_map(&model);
	mpseq_str(&model, "treatment", gendata_treatment());
	mpseq_str(&model, "outcome", gendata_outcome());
	mpseq_str(&model, "confounder", confounder_of(g->scenario));
	mpseq_map(&meta);
	mpseq_str(&meta, "source", "psflow gen");
	if (g->scenario != SCENARIO_REFERENCE)
		mpseq_str(&meta, "scenario", gendata_scenario_name(g->scenario));
	mpseq_i64(&meta, "seed", (int64_t)g->seed);
	mpseq_i64(&meta, "rows", (int64_t)g->rows);
	mpseq_take(&meta, "truth", &tr);
	mpseq_take(&meta, "model", &model);
	stream_head_set_meta(h, &meta);
	mpseq_free(&meta);
}

static void
gen_run(const void *params, const stage_roles *roles, const cli_common *cli)
{
	const gendata_opts *g = params;
	gendata *gen = gendata_new(g);
	stream_head head;
	stream_out *out;
	table batch;

	(void)roles;
	stream_head_init(&head);
	gendata_schema(gen, &head.schema);
	stream_head_set_role(&head.treatment, gendata_treatment());
	stream_head_set_role(&head.outcome, gendata_outcome());
	stream_head_set_covariates(&head, gendata_covariates(g->scenario));
	stage_add_recipe(&gen_module, g, &head);
	truth_meta(&head, g);

	out = stream_out_open(cli->out, &cli->io, cli->batch_rows);
	stream_out_head(out, &head);
	table_init(&batch);
	gendata_schema(gen, &batch);
	for (uint64_t done = 0; done < g->rows;) {
		size_t n = g->rows - done < cli->batch_rows ?
		    (size_t)(g->rows - done) : cli->batch_rows;

		batch.nrows = 0;
		gendata_fill(gen, &batch, n, NULL);
		stream_out_rows(out, &batch, 0, n);
		done += n;
	}
	stream_out_end(out);
	table_free(&batch);
	stream_head_free(&head);
	gendata_free(gen);
}

/* The recipe entry, written and read side by side (gen makes data, so boot
 * has nothing of it to replay). The reference study's entry is as it was
 * before the scenarios. */
static void
gen_recipe_write(const void *params, const stream_head *h, mpseq *entry)
{
	const gendata_opts *g = params;

	(void)h;
	mpseq_i64(entry, "rows", (int64_t)g->rows);
	mpseq_i64(entry, "seed", (int64_t)g->seed);
	mpseq_f64(entry, "effect", g->effect);
	if (g->scenario == SCENARIO_REFERENCE)
		return;
	mpseq_str(entry, "scenario", gendata_scenario_name(g->scenario));
	if (g->scenario == SCENARIO_HIDDEN_CONFOUNDER) {
		mpseq_f64(entry, "confounding", g->confounding);
		mpseq_bool(entry, "reveal", g->reveal);
	}
	if (g->scenario == SCENARIO_SPILLOVER)
		mpseq_f64(entry, "spillover", g->spillover);
}

static int
gen_recipe_read(void *params, const msgpack_object *e, char *why, size_t whylen)
{
	gendata_opts *g = params;
	double rows = 0, seed = 0;
	char *scenario = NULL;
	int rc = 0;

	*g = (gendata_opts){ .effect = 0.08, .confounding = 1, .spillover = 0.1 };
	if (recipe_get_number(e, "gen", "rows", &rows, why, whylen) ||
	    recipe_get_number(e, "gen", "seed", &seed, why, whylen) ||
	    recipe_get_number(e, "gen", "effect", &g->effect, why, whylen) ||
	    recipe_get_str(e, "gen", "scenario", &scenario, why, whylen) ||
	    recipe_get_number(e, "gen", "confounding", &g->confounding, why, whylen) ||
	    recipe_get_bool(e, "gen", "reveal", &g->reveal, why, whylen) ||
	    recipe_get_number(e, "gen", "spillover", &g->spillover, why, whylen))
		rc = -1;
	else if (scenario && gendata_scenario_parse(scenario, &g->scenario) != 0) {
		snprintf(why, whylen, "the recipe's gen entry names an unknown scenario");
		rc = -1;
	}
	free(scenario);
	if (rc == 0 && (!recipe_whole(rows, 0, 1e15) || !recipe_whole(seed, 0, 18446744073709549568.0))) {
		snprintf(why, whylen, "the recipe's gen entry has rows or a seed that is not a "
		    "whole number in range");
		rc = -1;
	}
	if (rc == 0) {
		g->rows = (uint64_t)rows;
		g->seed = (uint64_t)seed;
	}
	return rc;
}

static const char gen_usage[] =
    "usage: gen [-n ROWS] [--seed S] [--effect E] [--scenario NAME]\n"
    "           [--reveal] [--confounding S] [--spillover G] [stream options]\n"
    "\n"
    "Writes a stream of synthetic users who opt into an 'agent mode' or not,\n"
    "with a known effect of opting in on task completion. The reference study\n"
    "(the default):\n"
    "  engagement_tier   light / medium / heavy with probability .55/.30/.15\n"
    "  query_confidence  Beta(5, 2), rounded to 4 decimals\n"
    "  opt_in_agent_mode Bernoulli(.12 light, .35 medium, .65 heavy)\n"
    "  task_completed    Bernoulli(base + E * opt_in + u), base .35/.55/.70,\n"
    "                    u ~ Uniform(-0.05, 0.05), clipped to [.01, .99]\n"
    "The clip never binds, so the effect is E for every user: ATE = ATT = E.\n"
    "\n"
    "Scenarios where propensity scores break (--scenario NAME); the head's\n"
    "meta.truth holds the sample's own ATE, ATT and ATC:\n"
    "  realistic          past_engagement_score (0-100), account_age_months and\n"
    "                     feature_usage_count (counts) beside the tier: almost\n"
    "                     every row distinct; the effect is E x .5/1/1.75 by tier,\n"
    "                     so ATT > ATE\n"
    "  hidden-confounder  a hidden trait (30% read the release notes) raises\n"
    "                     opt-in and completion; the estimates are biased, and\n"
    "                     --reveal adds it as the column motivation (put it in\n"
    "                     -x to remove the bias); --confounding S scales it (1)\n"
    "  no-overlap         account_type: admins switched the feature on for every\n"
    "                     user of enterprise accounts (10%, opt-in .99) and off\n"
    "                     for restricted ones (10%, .01): propensities near 0\n"
    "                     and 1, weights explode, matching runs out of controls\n"
    "  misspecified       opt-in depends on tier x query_confidence (heavy users\n"
    "                     with complex queries opt in, light ones pass): a main-\n"
    "                     effects model leaves imbalance on the interaction; fit\n"
    "                     -x 'engagement_tier*query_confidence'\n"
    "  spillover          users in workspaces (workspace_id, 2 to 300 users); a\n"
    "                     teammate's opt-in raises a user's completion (+ G x the\n"
    "                     share of teammates opted in, --spillover G, 0.1). The\n"
    "                     truth is the direct effect E; the estimators measure E\n"
    "                     plus G times how many more teammates the opted-in have\n"
    "                     opted in, and users of a workspace are not independent\n"
    "\n"
    "  -n, --rows N       users to make (default 50000)\n"
    "  -s, --seed S       random seed (default 42)\n"
    "  -e, --effect E     true effect of opting in (default 0.08)\n"
    "  --scenario NAME    reference (default), realistic, hidden-confounder,\n"
    "                     no-overlap, misspecified or spillover\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  gen -n 50000 --seed 42 | fitps -t opt_in_agent_mode -y task_completed \\\n"
    "      -x engagement_tier,query_confidence | weight | report\n";

enum { OPT_SCENARIO = OPT_PROGRAM_BASE, OPT_REVEAL, OPT_CONFOUNDING, OPT_SPILLOVER };

static const struct option gen_longopts[] = {
	{ "rows", required_argument, NULL, 'n' },
	{ "seed", required_argument, NULL, 's' },
	{ "effect", required_argument, NULL, 'e' },
	{ "scenario", required_argument, NULL, OPT_SCENARIO },
	{ "reveal", no_argument, NULL, OPT_REVEAL },
	{ "confounding", required_argument, NULL, OPT_CONFOUNDING },
	{ "spillover", required_argument, NULL, OPT_SPILLOVER },
	{ NULL, 0, NULL, 0 },
};

static void
gen_defaults(void *params)
{
	gendata_opts *g = params;

	*g = (gendata_opts){ .rows = 50000, .seed = 42, .effect = 0.08,
		.scenario = SCENARIO_REFERENCE, .confounding = 1, .spillover = 0.1 };
}

static void
gen_option(void *params, int opt, const char *arg)
{
	gendata_opts *g = params;

	switch (opt) {
	case 'n': g->rows = (uint64_t)cli_int("--rows", arg, 0, 1ll << 40); break;
	case 's': g->seed = (uint64_t)cli_int("--seed", arg, 0, INT64_MAX); break;
	case 'e': g->effect = cli_double("--effect", arg, -0.25, 0.2); break;
	case OPT_SCENARIO:
		if (gendata_scenario_parse(arg, &g->scenario) != 0)
			die_usage("unknown scenario '%s' (reference, realistic, hidden-confounder, "
			    "no-overlap, misspecified or spillover)", arg);
		break;
	case OPT_REVEAL: g->reveal = 1; break;
	case OPT_CONFOUNDING:
		g->confounding = cli_double("--confounding", arg, 0, 3);
		break;
	case OPT_SPILLOVER:
		g->spillover = cli_double("--spillover", arg, 0, 0.2);
		break;
	}
}

static void
gen_finish(void *params, const stage_roles *roles)
{
	const gendata_opts *g = params;

	(void)roles;
	/* (options left at their defaults are not told apart from none) */
	if ((g->reveal || g->confounding != 1) && g->scenario != SCENARIO_HIDDEN_CONFOUNDER)
		die_usage("--reveal and --confounding shape the hidden-confounder scenario: "
		    "give --scenario hidden-confounder");
	if (g->spillover != 0.1 && g->scenario != SCENARIO_SPILLOVER)
		die_usage("--spillover shapes the spillover scenario: give --scenario spillover");
}

/* The options that make the entry again (cmdline.h). */
static int
gen_command(const void *params, const void *defaults, cmdline *cmd)
{
	const gendata_opts *g = params, *d = defaults;
	char n[32];

	snprintf(n, sizeof n, "%llu", (unsigned long long)g->rows);
	cmdline_opt(cmd, "-n", n);
	snprintf(n, sizeof n, "%llu", (unsigned long long)g->seed);
	cmdline_opt(cmd, "--seed", n);
	if (g->effect != d->effect)
		cmdline_num(cmd, "--effect", g->effect);
	if (g->scenario != d->scenario)
		cmdline_opt(cmd, "--scenario", gendata_scenario_name(g->scenario));
	if (g->scenario == SCENARIO_HIDDEN_CONFOUNDER && g->confounding != d->confounding)
		cmdline_num(cmd, "--confounding", g->confounding);
	if (g->scenario == SCENARIO_HIDDEN_CONFOUNDER && g->reveal)
		cmdline_word(cmd, "--reveal");
	if (g->scenario == SCENARIO_SPILLOVER && g->spillover != d->spillover)
		cmdline_num(cmd, "--spillover", g->spillover);
	return 0;
}

const stage_module gen_module = {
	.name = "gen",
	.usage = gen_usage,
	.shortopts = "n:s:e:",
	.longopts = gen_longopts,
	.params_size = sizeof(gendata_opts),
	.defaults = gen_defaults,
	.option = gen_option,
	.finish = gen_finish,
	.recipe_write = gen_recipe_write,
	.recipe_read = gen_recipe_read,
	.command = gen_command,
	.run = gen_run,
};
