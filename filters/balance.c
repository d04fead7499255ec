/* balance — covariate balance before and after adjustment.
 *
 * Contract: needs the treatment and covariates (roles, or -t/-x) and reads
 * every weight column w_* in the stream; adds nothing to the rows; makes the
 * result balance: per covariate (each level of a categorical one) and per
 * weighting (raw, w_ate, w_match, ...) the SMD, variance ratio and KS
 * distance, pass/fail at the threshold, and the count of failures. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "stage_balance.h"

static const char usage_text[] =
    "usage: balance [--threshold T] [--sd pooled|treated|control]\n"
    "               [-t COL] [-x COVARIATES] [stream options]\n"
    "\n"
    "Checks covariate balance between treated and controls, raw and under\n"
    "every weight column (w_*) in the stream: standardised mean difference,\n"
    "variance ratio, Kolmogorov-Smirnov distance.\n"
    "\n"
    "  --threshold T      |SMD| above T fails (default 0.1)\n"
    "  --sd MODE          SMD denominator from the unweighted groups' population\n"
    "                     variances: pooled sqrt((v_t+v_c)/2) (default), treated\n"
    "                     or control\n"
    "  -t, -x             override the treatment and covariate roles\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  ... | weight --estimand ate,att | match | balance --threshold 0.05 | report\n";

enum { OPT_THRESHOLD = OPT_PROGRAM_BASE, OPT_SD };

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "threshold", required_argument, NULL, OPT_THRESHOLD },
		{ "sd", required_argument, NULL, OPT_SD },
		{ "treatment", required_argument, NULL, 't' },
		{ "covariates", required_argument, NULL, 'x' },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	balance_opts o = { .sd = SD_POOLED, .threshold = 0.1 };
	cli_common cli;
	int opt;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "t:x:h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_THRESHOLD: o.threshold = cli_double("--threshold", optarg, 0, 10); break;
		case OPT_SD:
			if (!cli_choice(optarg, "pooled,treated,control"))
				die_usage("--sd wants pooled, treated or control, not '%s'", optarg);
			o.sd = optarg[0] == 'p' ? SD_POOLED : optarg[0] == 't' ? SD_TREATED : SD_CONTROL;
			break;
		case 't': o.treatment = optarg; break;
		case 'x': o.covariates = optarg; break;
		default:
			cli_other_option(&cli, opt, optarg, usage_text);
		}
	}
	cli_no_operands(argc, argv);
	balance_run(&o, &cli);
	return EXIT_OK;
}
