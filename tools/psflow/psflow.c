/* psflow — the front command: `psflow PROGRAM ARGS...` runs one of the
 * suite's programs (as samtools and git do), so that an installation puts
 * one name on PATH and the programs, whose names (gen, match, boot, ...)
 * would collide with other tools, under libexec/psflow/.
 *
 * Where the programs are, first that holds the one asked for:
 *   1. ../libexec/psflow/ beside this binary's own directory (an install,
 *      wherever it was unpacked: DESTDIR staging included);
 *   2. PSFLOW_LIBEXECDIR, when this binary is the one installed in
 *      PSFLOW_BINDIR (an install with a LIBEXECDIR of its own);
 *   3. this binary's own directory (the build tree's bin/). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

static const char usage_text[] =
    "usage: psflow PROGRAM [ARGS...]\n"
    "       psflow --version | --help\n"
    "\n"
    "Runs one of psflow's programs: small filters that pass MessagePack record\n"
    "batches through pipes or ZeroMQ sockets and, chained, measure the effect\n"
    "of a feature users opt into with propensity scores. Each program has\n"
    "--help and a man page (psflow-PROGRAM).\n"
    "\n"
    "programs:\n"
    "  gen          synthetic users with a known effect, or a scenario where\n"
    "               propensity scores break\n"
    "  fitps        the propensity model (logistic), or scoring with a saved one\n"
    "  weight       inverse-probability weights and the weighted effects\n"
    "  match        nearest-neighbour matching on the propensity score\n"
    "  balance      covariate balance, raw and under every weighting\n"
    "  boot         bootstrap intervals, replaying the flow's recipe\n"
    "  sensitivity  how fragile each estimate is: E-values, Rosenbaum bounds\n"
    "  report       the results as text, Markdown or JSON\n"
    "  csv2mp       CSV to a psflow stream\n"
    "  mp2csv       a psflow stream's rows to CSV\n"
    "  mpcat        every message of a stream as a line of JSON\n"
    "\n"
    "  -h, --help     this help\n"
    "  --version      the version\n"
    "\nexample:\n"
    "  psflow gen -n 50000 | psflow fitps -x engagement_tier,query_confidence \\\n"
    "      | psflow weight -e ate,att | psflow match | psflow report\n";

/* Is name one of the suite's programs (a word of PSFLOW_PROGRAMS)? */
static int
known_program(const char *name)
{
	const char *p = PSFLOW_PROGRAMS;
	size_t len = strlen(name);

	while (*p) {
		size_t n = strcspn(p, " ");

		if (n == len && strncmp(p, name, n) == 0)
			return 1;
		p += n;
		p += strspn(p, " ");
	}
	return 0;
}

/* dir/name into path when that file is executable. */
static int
try_dir(char *path, size_t size, const char *dir, const char *name)
{
	int n = snprintf(path, size, "%s/%s", dir, name);

	return n > 0 && (size_t)n < size && access(path, X_OK) == 0;
}

int
main(int argc, char **argv)
{
	char self[PATH_MAX], dir[PATH_MAX], path[PATH_MAX + 64];
	ssize_t len;
	char *slash;

	err_set_prog("psflow");
	if (argc < 2)
		die_usage("name a program to run (psflow --help lists them)");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage_text, stdout);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_DATA;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("psflow %s\n", PSFLOW_VERSION);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_DATA;
	}
	if (argv[1][0] == '-')
		die_usage("unknown option '%s'", argv[1]);
	if (!known_program(argv[1]))
		die_usage("'%s' is not a psflow program (psflow --help lists them)", argv[1]);
	len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len < 0)
		die("cannot find where psflow itself is (/proc/self/exe):");
	self[len] = '\0';
	snprintf(dir, sizeof dir, "%s", self);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	{
		char libexec[PATH_MAX + 32];

		snprintf(libexec, sizeof libexec, "%s/../libexec/psflow", dir);
		if (try_dir(path, sizeof path, libexec, argv[1]) ||
		    (strcmp(dir, PSFLOW_BINDIR) == 0 &&
		    try_dir(path, sizeof path, PSFLOW_LIBEXECDIR, argv[1])) ||
		    try_dir(path, sizeof path, dir, argv[1])) {
			execv(path, argv + 1);
			die("cannot run %s:", path);
		}
	}
	die("the program '%s' is not installed beside psflow (looked in "
	    "%s/../libexec/psflow and %s): reinstall psflow", argv[1], dir, dir);
}
