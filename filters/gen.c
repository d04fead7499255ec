/* gen — synthetic users of a product with an opt-in "agent mode", with the
 * true effect of opting in known.
 *
 * Contract: reads nothing; writes user_id (i64), engagement_tier (cat:
 * heavy, light, medium), opt_in_agent_mode (i64 0/1), query_confidence
 * (f64), task_completed (i64 0/1) — the names and types of the reference
 * CSV — and puts the truth in meta.truth. Values depend on --seed and -n
 * only, never on the batch size. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "err.h"
#include "gendata.h"
#include "stream.h"

static const char usage_text[] =
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

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rows", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "effect", required_argument, NULL, 'e' },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	cli_common cli;
	gendata_opts g = { .rows = 50000, .seed = 42, .effect = 0.08 };
	int opt;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "n:s:e:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			g.rows = (uint64_t)cli_int("--rows", optarg, 0, 1ll << 40);
			break;
		case 's':
			g.seed = (uint64_t)cli_int("--seed", optarg, 0, INT64_MAX);
			break;
		case 'e':
			g.effect = cli_double("--effect", optarg, -0.25, 0.2);
			break;
		default:
			cli_other_option(&cli, opt, optarg, usage_text);
		}
	}
	cli_no_operands(argc, argv);
	gendata_write(&g, &cli);
	return EXIT_OK;
}
