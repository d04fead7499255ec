/* cli — the options every psflow program shares, and argument parsing.
 *
 * Each program splices CLI_COMMON_LONGOPTS into its getopt_long table and
 * passes options it does not know to cli_common_option().
 *
 * Ownership: a cli_common borrows its strings from argv. (rule: base/README.md) */
#ifndef PSFLOW_CLI_H
#define PSFLOW_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "io.h"
#include "stream.h"
#include "table.h"

enum {
	OPT_IN = 1000,
	OPT_OUT,
	OPT_BATCH_ROWS,
	OPT_MAX_MESSAGE,
	OPT_TIMEOUT,
	OPT_LINGER,
	OPT_QUIET,
	OPT_VERSION,
	OPT_CURVE_KEY,
	OPT_CURVE_SERVER,
	OPT_CURVE_ALLOW,
	OPT_INSECURE,
	OPT_ROLE_PS, /* --ps, for the stages that take role overrides (module.h) */
	OPT_PROGRAM_BASE = 1100, /* programs number their own long options from here */
};

#define CLI_COMMON_LONGOPTS                                               \
	{ "in", required_argument, NULL, OPT_IN },                        \
	{ "out", required_argument, NULL, OPT_OUT },                      \
	{ "batch-rows", required_argument, NULL, OPT_BATCH_ROWS },        \
	{ "max-message", required_argument, NULL, OPT_MAX_MESSAGE },      \
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },              \
	{ "linger", required_argument, NULL, OPT_LINGER },                \
	{ "curve-key", required_argument, NULL, OPT_CURVE_KEY },          \
	{ "curve-server", required_argument, NULL, OPT_CURVE_SERVER },    \
	{ "curve-allow", required_argument, NULL, OPT_CURVE_ALLOW },      \
	{ "insecure", no_argument, NULL, OPT_INSECURE },                  \
	{ "quiet", no_argument, NULL, OPT_QUIET },                        \
	{ "version", no_argument, NULL, OPT_VERSION },                    \
	{ "help", no_argument, NULL, 'h' }

#define CLI_COMMON_HELP                                                              \
	"Stream options (every program):\n"                                           \
	"  --in SPEC          input: '-' (stdin, default), a file, or a ZeroMQ\n"        \
	"                     endpoint ('@tcp://*:5555' binds, '>tcp://host:5555'\n"    \
	"                     connects; inputs bind when no prefix is given)\n"         \
	"  --out SPEC         output, likewise (outputs connect by default)\n"          \
	"  --batch-rows N     rows per batch written (default 8192)\n"                   \
	"  --max-message MB   refuse messages larger than this (default 256)\n"          \
	"  --timeout SEC      ZeroMQ: fail after SEC seconds without a message in, or\n" \
	"                     without a reader taking one out (default: wait; a peer\n"  \
	"                     that disconnects fails at once)\n"                        \
	"  --linger SEC       ZeroMQ output: wait up to SEC for the tail (default 60)\n" \
	"  --curve-key FILE   encrypt and authenticate ZeroMQ links (CURVE) with this\n"  \
	"                     side's secret certificate (psflow keygen NAME)\n"         \
	"  --curve-server KEY connecting: the binding side's public key (Z85, or its\n"  \
	"                     NAME.key file)\n"                                          \
	"  --curve-allow DIR  binding: let in only the keys of the certificates in DIR\n" \
	"  --insecure         allow plain text over tcp to other hosts (refused without\n" \
	"                     keys: a flow carries user data)\n"                          \
	"  --quiet            no progress or notes on stderr\n"                         \
	"  --version          the version of psflow this program is part of\n"     \
	"  -h, --help         this help\n"

/* The roles a converter records in the head it writes (csv2mp, pg2mp,
 * sqlite2mp, jsonl2mp): -t, -y, -x, as the stages take them. */
#define CLI_ROLE_LONGOPTS                                                 \
	{ "treatment", required_argument, NULL, 't' },                    \
	{ "outcome", required_argument, NULL, 'y' },                      \
	{ "covariates", required_argument, NULL, 'x' }
#define CLI_ROLE_SHORTOPTS "t:y:x:"
#define CLI_ROLE_HELP                                                     \
	"  -t, --treatment COL   record the roles in the head\n"             \
	"  -y, --outcome COL\n"                                              \
	"  -x, --covariates COLS\n"

typedef struct {
	const char *treatment, *outcome, *covariates;
} cli_roles;

typedef struct {
	const char *in, *out;
	io_opts io;
	size_t batch_rows;
	int quiet;
} cli_common;

void cli_common_init(cli_common *c);
/* Handles a shared option; returns 1 if it was one. */
int cli_common_option(cli_common *c, int opt, const char *arg);
/* For the default case of a program's option switch: a shared option, or
 * -h/--help (prints usage to stdout and exits 0), or --version (likewise),
 * or a usage error. */
void cli_other_option(cli_common *c, int opt, const char *arg, const char *usage);
/* For programs that write text (mp2csv, mpcat, report): --out FILE puts
 * stdout on that file; an endpoint is a usage error (text is no stream).
 * Returns the output's name for messages ("stdout" or the path). */
const char *cli_text_output(const cli_common *c);
/* Handles -t, -y or -x (1), or not (0). */
int cli_role_option(cli_roles *r, int opt, const char *arg);
/* Writes the roles given into a head (copies). */
void cli_roles_to_head(const cli_roles *r, stream_head *h);
/* --columns COLS (comma-separated; NULL: all) as indexes into the schema,
 * in that order; a name the schema lacks is a usage error that lists what
 * it has. The caller frees the array. */
int *cli_pick_columns(const table *schema, const char *list, int *n);
/* For programs that write text with stdio: a reader of f that went away
 * (EPIPE: SIGPIPE is ignored by every program) or a failed write is an
 * error naming `name`, as a stage's closed pipe is. Call it as output goes
 * out, and once more at the end (which flushes). */
void cli_check_output(FILE *f, const char *name, int final);
/* Ends parsing: unknown options and stray arguments are usage errors. */
void cli_no_operands(int argc, char **argv);

/* Numbers from the command line, checked; bad ones are usage errors naming
 * the option. */
double cli_double(const char *opt, const char *arg, double lo, double hi);
long long cli_int(const char *opt, const char *arg, long long lo, long long hi);
/* "LO,HI" with 0 <= LO < HI <= 1 (a band of propensities), for opt. */
void cli_band(const char *opt, const char *arg, double *lo, double *hi);
/* Is `word` one of the comma-separated `choices`? */
int cli_choice(const char *word, const char *choices);

#endif
