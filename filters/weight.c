/* weight — inverse-probability weights and the weighted effect.
 *
 * Contract: needs treatment, outcome and propensity (roles set by fitps, or
 * -t/-y/--ps); adds a column w_<estimand> per estimand; makes the results
 * naive (unweighted difference) and ipw_<estimand> (Hajek estimate with its
 * standard error, effective sample size, largest weights, trimmed and
 * truncated counts). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "stage_weight.h"

static const char usage_text[] =
    "usage: weight [--estimand LIST] [--trim LO,HI] [--truncate Q] [--stabilize]\n"
    "              [-t COL] [-y COL] [--ps COL] [stream options]\n"
    "\n"
    "Adds inverse-probability weights and estimates the effect as the\n"
    "difference of weighted (Hajek, normalised) outcome means.\n"
    "\n"
    "  -e, --estimand LIST  comma-separated: ate, att, atc, ato (overlap);\n"
    "                       default ate. Adds columns w_ate, w_att, ...\n"
    "  --trim LO,HI         rows with ps outside [LO, HI] get weight 0 (counted)\n"
    "  --truncate Q         cap each group's weights at their Q-quantile\n"
    "  --stabilize          multiply ATE weights by the share of their group\n"
    "  -t, -y, --ps COL     override the treatment, outcome, propensity roles\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  gen | fitps -t opt_in_agent_mode -y task_completed \\\n"
    "      -x engagement_tier,query_confidence | weight --estimand ate,att | report\n";

enum { OPT_TRIM = OPT_PROGRAM_BASE, OPT_TRUNCATE, OPT_STABILIZE, OPT_PS };

static void
parse_estimands(weight_opts *o, const char *list)
{
	char buf[256], *tok, *save;

	if (strlen(list) >= sizeof buf)
		die_usage("--estimand list too long");
	strcpy(buf, list);
	memset(o->estimands, 0, sizeof o->estimands);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		estimand e;

		if (estimand_parse(tok, &e) != 0)
			die_usage("unknown estimand '%s' (ate, att, atc or ato)", tok);
		o->estimands[e] = 1;
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "estimand", required_argument, NULL, 'e' },
		{ "trim", required_argument, NULL, OPT_TRIM },
		{ "truncate", required_argument, NULL, OPT_TRUNCATE },
		{ "stabilize", no_argument, NULL, OPT_STABILIZE },
		{ "treatment", required_argument, NULL, 't' },
		{ "outcome", required_argument, NULL, 'y' },
		{ "ps", required_argument, NULL, OPT_PS },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	weight_opts o = { .estimands = { [EST_ATE] = 1 } };
	cli_common cli;
	int opt;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "e:t:y:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e': parse_estimands(&o, optarg); break;
		case 't': o.treatment = optarg; break;
		case 'y': o.outcome = optarg; break;
		case OPT_PS: o.ps = optarg; break;
		case OPT_TRIM: {
			char *comma = strchr(optarg, ',');

			if (comma == NULL)
				die_usage("--trim wants LO,HI (e.g. 0.05,0.95)");
			*comma = '\0';
			o.trim_lo = cli_double("--trim LO", optarg, 0, 1);
			o.trim_hi = cli_double("--trim HI", comma + 1, 0, 1);
			if (o.trim_lo >= o.trim_hi)
				die_usage("--trim wants LO < HI");
			break;
		}
		case OPT_TRUNCATE:
			o.truncate_q = cli_double("--truncate", optarg, 0.5, 1);
			break;
		case OPT_STABILIZE: o.stabilize = 1; break;
		default:
			cli_other_option(&cli, opt, optarg, usage_text);
		}
	}
	cli_no_operands(argc, argv);
	weight_run(&o, &cli);
	return EXIT_OK;
}
