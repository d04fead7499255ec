/* fitps — the propensity model: who opts in, given the covariates?
 *
 * Contract: needs the treatment (0/1) and covariate columns, named here or
 * in the head's roles; adds a column `ps` (--ps-name) and the role `ps`;
 * makes the result ps_model (terms, coefficients and standard errors,
 * iterations, log-likelihood, AUC, ps range per group, calibration per
 * level). With --model it scores with a saved model instead, one batch at a
 * time, and makes ps_scored. */
#include <stdio.h>

#include "cli.h"
#include "err.h"
#include "stage_fitps.h"

static const char usage_text[] =
    "usage: fitps -t TREATMENT -x COVARIATES [-y OUTCOME] [options]\n"
    "       fitps --model FILE [options]\n"
    "\n"
    "Fits a logistic propensity model (Newton's method, to convergence) and\n"
    "adds each row's propensity score. Numeric covariates enter as they are;\n"
    "categorical ones one-hot with the first level in sorted order dropped\n"
    "(as pandas' get_dummies(drop_first=True)); 'a:b' is an interaction and\n"
    "'a*b' means a, b and a:b.\n"
    "\n"
    "  -t, --treatment COL    0/1 treatment column (kept in the stream's roles)\n"
    "  -y, --outcome COL      outcome column, for the later stages\n"
    "  -x, --covariates LIST  comma-separated covariates and interactions\n"
    "  --l2 C                 L2 penalty as scikit-learn's LogisticRegression(C=C)\n"
    "                         (intercept not penalised); default: none (exact MLE)\n"
    "  --ps-name NAME         name of the added column (default ps)\n"
    "  --max-iter N           Newton iterations at most (default 100)\n"
    "  --tol T                stop when every step is below T (default 1e-10)\n"
    "  --save-model FILE      write the fitted model to FILE\n"
    "  --model FILE           score with a saved model: no fit, bounded memory\n"
    "  --drop-missing         drop rows with a missing, NaN or infinite treatment,\n"
    "                         outcome or covariate (counted in a result) instead\n"
    "                         of stopping\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  csv2mp users.csv | fitps -t opt_in_agent_mode -y task_completed \\\n"
    "      -x engagement_tier,query_confidence --l2 1 | weight | report\n";

enum { OPT_L2 = OPT_PROGRAM_BASE, OPT_PS_NAME, OPT_MAX_ITER, OPT_TOL, OPT_SAVE, OPT_MODEL,
	OPT_DROP_MISSING };

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "treatment", required_argument, NULL, 't' },
		{ "outcome", required_argument, NULL, 'y' },
		{ "covariates", required_argument, NULL, 'x' },
		{ "l2", required_argument, NULL, OPT_L2 },
		{ "ps-name", required_argument, NULL, OPT_PS_NAME },
		{ "max-iter", required_argument, NULL, OPT_MAX_ITER },
		{ "tol", required_argument, NULL, OPT_TOL },
		{ "save-model", required_argument, NULL, OPT_SAVE },
		{ "model", required_argument, NULL, OPT_MODEL },
		{ "drop-missing", no_argument, NULL, OPT_DROP_MISSING },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	fitps_opts o = { .ps_name = "ps" };
	cli_common cli;
	int opt;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	logit_opts_default(&o.logit);
	while ((opt = getopt_long(argc, argv, "t:y:x:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 't': o.treatment = optarg; break;
		case 'y': o.outcome = optarg; break;
		case 'x': o.covariates = optarg; break;
		case OPT_L2: o.logit.C = cli_double("--l2", optarg, 1e-12, 1e12); break;
		case OPT_PS_NAME: o.ps_name = optarg; break;
		case OPT_MAX_ITER: o.logit.max_iter = (int)cli_int("--max-iter", optarg, 1, 10000); break;
		case OPT_TOL: o.logit.tol = cli_double("--tol", optarg, 1e-16, 1); break;
		case OPT_SAVE: o.save_model = optarg; break;
		case OPT_MODEL: o.model = optarg; break;
		case OPT_DROP_MISSING: o.drop_missing = 1; break;
		default:
			cli_other_option(&cli, opt, optarg, usage_text);
		}
	}
	cli_no_operands(argc, argv);
	if (o.model && (o.covariates || o.save_model || o.logit.C > 0))
		die_usage("--model scores with a saved model: -x, --l2 and --save-model "
		    "do not apply");
	fitps_run(&o, &cli);
	return EXIT_OK;
}
