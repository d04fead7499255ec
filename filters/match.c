/* match — nearest-neighbour matching on the propensity score, for the ATT.
 *
 * Contract: needs treatment, outcome and propensity (roles, or -t/-y/--ps);
 * adds w_match (1 for a matched treated unit, a control's summed shares, 0
 * for the unmatched); makes the result match_att (estimate, Abadie-Imbens
 * SE, treated matched and unmatched, controls used). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "stage_match.h"

static const char usage_text[] =
    "usage: match [-k K] [--no-replace] [--caliper C] [--on ps|logit]\n"
    "             [--ties all|first] [-t COL] [-y COL] [--ps COL] [stream options]\n"
    "\n"
    "Matches each treated unit to its K nearest controls on the propensity\n"
    "score and estimates the effect on the treated (ATT).\n"
    "\n"
    "  -k K               controls per treated unit (default 1)\n"
    "  --no-replace       use each control once (greedy, largest score first)\n"
    "  --caliper C        no match farther than C standard deviations of the\n"
    "                     distance (MatchIt's std.caliper); default none\n"
    "  --on ps|logit      match on the score or its logit (default ps)\n"
    "  --ties all|first   controls tied at the K-th distance: use them all with\n"
    "                     shared weight (default), or only the lowest row\n"
    "  -t, -y, --ps COL   override the treatment, outcome, propensity roles\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  ... | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier \\\n"
    "      | match -k 1 --ties all | report\n";

enum { OPT_NO_REPLACE = OPT_PROGRAM_BASE, OPT_CALIPER, OPT_ON, OPT_TIES, OPT_PS };

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "k", required_argument, NULL, 'k' },
		{ "no-replace", no_argument, NULL, OPT_NO_REPLACE },
		{ "caliper", required_argument, NULL, OPT_CALIPER },
		{ "on", required_argument, NULL, OPT_ON },
		{ "ties", required_argument, NULL, OPT_TIES },
		{ "treatment", required_argument, NULL, 't' },
		{ "outcome", required_argument, NULL, 'y' },
		{ "ps", required_argument, NULL, OPT_PS },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	match_opts o = { .nn = { .k = 1, .replace = 1, .ties = TIES_ALL } };
	cli_common cli;
	int opt, ties_given = 0;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "k:t:y:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k': o.nn.k = (int)cli_int("-k", optarg, 1, 1000); break;
		case OPT_NO_REPLACE: o.nn.replace = 0; break;
		case OPT_CALIPER: o.caliper_sd = cli_double("--caliper", optarg, 1e-9, 100); break;
		case OPT_ON:
			if (!cli_choice(optarg, "ps,logit"))
				die_usage("--on wants ps or logit, not '%s'", optarg);
			o.on_logit = strcmp(optarg, "logit") == 0;
			break;
		case OPT_TIES:
			if (!cli_choice(optarg, "all,first"))
				die_usage("--ties wants all or first, not '%s'", optarg);
			o.nn.ties = strcmp(optarg, "all") == 0 ? TIES_ALL : TIES_FIRST;
			ties_given = 1;
			break;
		case 't': o.treatment = optarg; break;
		case 'y': o.outcome = optarg; break;
		case OPT_PS: o.ps = optarg; break;
		default:
			cli_other_option(&cli, opt, optarg, usage_text);
		}
	}
	cli_no_operands(argc, argv);
	if (!o.nn.replace) {
		if (ties_given && o.nn.ties == TIES_ALL)
			die_usage("--ties all shares controls between treated units, which "
			    "--no-replace forbids: use --ties first");
		o.nn.ties = TIES_FIRST;
	}
	match_run(&o, &cli);
	return EXIT_OK;
}
