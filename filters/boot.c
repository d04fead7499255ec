/* boot — bootstrap intervals for every estimate upstream, replaying the
 * recipe (refitting the propensity model) on each resample.
 *
 * Contract: needs a stream whose recipe it can replay (fitps, weight, match;
 * gen and balance are skipped); passes rows on; fills se (bootstrap SD), ci,
 * ci_level, ci_method and replicates of each weight/match estimate (the
 * analytic SE kept as se_analytic); makes the result boot (replicates run,
 * failed and why). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "stage_boot.h"

static const char usage_text[] =
    "usage: boot [-B N] [--seed S] [-j N] [--ci percentile|normal|bca] [--level L]\n"
    "            [--fixed-ps] [--max-failed F] [--workers ENDPOINT] [stream options]\n"
    "       boot --worker ENDPOINT [--timeout SEC]\n"
    "\n"
    "Draws N resamples of the rows, replays the flow's recipe on each (refitting\n"
    "the propensity model, recomputing weights and matches) and gives every\n"
    "estimate upstream a bootstrap SE and confidence interval. Replicate i\n"
    "depends on (seed, i) alone: the output is the same bytes whatever -j and\n"
    "wherever the replicates run.\n"
    "\n"
    "  -B, --replicates N  resamples (default 1000)\n"
    "  -s, --seed S        random seed (default 1)\n"
    "  -j, --jobs N        local worker threads (default: one per core; 0 with\n"
    "                      --workers leaves the work to remote workers)\n"
    "  --ci METHOD         percentile (default), normal, or bca (bias-corrected\n"
    "                      and accelerated; acceleration from a 20-block jackknife)\n"
    "  --level L           confidence level (default 0.95)\n"
    "  --fixed-ps          use the stream's propensities as they are, without\n"
    "                      refitting (needed after a stage boot cannot replay)\n"
    "  --max-failed F      fail when more than this fraction of replicates fail\n"
    "                      (default 0.05)\n"
    "  --workers ENDPOINT  also serve remote workers here ('@tcp://*:5557')\n"
    "  --worker ENDPOINT   run as a remote worker of the coordinator there\n"
    "                      ('>tcp://coordinator:5557')\n"
    "  --chunk N           replicates per chunk handed out (default 10)\n"
    "  --chunk-timeout SEC hand a chunk out again after SEC (default 30)\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  gen | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier \\\n"
    "      | weight -e ate,att | match | boot -B 500 --seed 7 | report\n";

enum { OPT_CI = OPT_PROGRAM_BASE, OPT_LEVEL, OPT_FIXED_PS, OPT_MAX_FAILED, OPT_WORKERS,
	OPT_WORKER, OPT_CHUNK, OPT_CHUNK_TIMEOUT };

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "replicates", required_argument, NULL, 'B' },
		{ "seed", required_argument, NULL, 's' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "ci", required_argument, NULL, OPT_CI },
		{ "level", required_argument, NULL, OPT_LEVEL },
		{ "fixed-ps", no_argument, NULL, OPT_FIXED_PS },
		{ "max-failed", required_argument, NULL, OPT_MAX_FAILED },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "worker", required_argument, NULL, OPT_WORKER },
		{ "chunk", required_argument, NULL, OPT_CHUNK },
		{ "chunk-timeout", required_argument, NULL, OPT_CHUNK_TIMEOUT },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	boot_opts o = { .B = 1000, .seed = 1, .jobs = cores > 0 ? (int)cores : 1,
		.ci = CI_PERCENTILE, .level = 0.95, .max_failed = 0.05, .chunk = 10,
		.chunk_timeout = 30, .idle_timeout = 600 };
	const char *worker = NULL;
	cli_common cli;
	int opt;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "B:s:j:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'B': o.B = (int)cli_int("-B", optarg, 2, 10000000); break;
		case 's': o.seed = (uint64_t)cli_int("--seed", optarg, 0, INT64_MAX); break;
		case 'j': o.jobs = (int)cli_int("-j", optarg, 0, 256); break;
		case OPT_CI:
			if (!cli_choice(optarg, "percentile,normal,bca"))
				die_usage("--ci wants percentile, normal or bca, not '%s'", optarg);
			o.ci = optarg[0] == 'p' ? CI_PERCENTILE : optarg[0] == 'n' ? CI_NORMAL : CI_BCA;
			break;
		case OPT_LEVEL: o.level = cli_double("--level", optarg, 0.5, 0.999); break;
		case OPT_FIXED_PS: o.fixed_ps = 1; break;
		case OPT_MAX_FAILED: o.max_failed = cli_double("--max-failed", optarg, 0, 1); break;
		case OPT_WORKERS: o.workers = optarg; break;
		case OPT_WORKER: worker = optarg; break;
		case OPT_CHUNK: o.chunk = (int)cli_int("--chunk", optarg, 1, 100000); break;
		case OPT_CHUNK_TIMEOUT:
			o.chunk_timeout = cli_double("--chunk-timeout", optarg, 0.1, 86400);
			break;
		default:
			cli_other_option(&cli, opt, optarg, usage_text);
		}
	}
	cli_no_operands(argc, argv);
	if (cli.io.timeout_ms >= 0)
		o.idle_timeout = cli.io.timeout_ms / 1000.0;
	if (worker) {
		boot_worker(worker, o.idle_timeout == 600 && cli.io.timeout_ms < 0 ? 60 :
		    o.idle_timeout, cli.quiet);
		return EXIT_OK;
	}
	if (o.jobs == 0 && o.workers == NULL)
		die_usage("-j 0 leaves no one to do the work: give --workers too");
	boot_run(&o, &cli);
	return EXIT_OK;
}
