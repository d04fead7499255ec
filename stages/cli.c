#include "cli.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "err.h"
#include "stream.h"
#include "xalloc.h"

void
cli_common_init(cli_common *c)
{
	/* a closed pipe is an error each program reports, never a silent
	 * death by signal */
	signal(SIGPIPE, SIG_IGN);
	bigmem_prepare_heap();
	c->in = "-";
	c->out = "-";
	io_opts_default(&c->io);
	c->batch_rows = STREAM_DEFAULT_BATCH_ROWS;
	c->quiet = 0;
}

int
cli_common_option(cli_common *c, int opt, const char *arg)
{
	switch (opt) {
	case OPT_IN:
		c->in = arg;
		return 1;
	case OPT_OUT:
		c->out = arg;
		return 1;
	case OPT_BATCH_ROWS:
		c->batch_rows = (size_t)cli_int("--batch-rows", arg, 1, 1 << 24);
		return 1;
	case OPT_MAX_MESSAGE:
		c->io.max_message = (size_t)cli_int("--max-message", arg, 1, 4095) << 20;
		return 1;
	case OPT_TIMEOUT:
		c->io.timeout_ms = (int)(cli_double("--timeout", arg, 0, 86400) * 1000);
		return 1;
	case OPT_LINGER:
		c->io.linger_ms = (int)(cli_double("--linger", arg, 0, 86400) * 1000);
		return 1;
	case OPT_CURVE_KEY:
		c->io.curve_key = arg;
		return 1;
	case OPT_CURVE_SERVER:
		c->io.curve_server = arg;
		return 1;
	case OPT_CURVE_ALLOW:
		c->io.curve_allow = arg;
		return 1;
	case OPT_INSECURE:
		c->io.insecure = 1;
		return 1;
	case OPT_QUIET:
		c->quiet = 1;
		c->io.quiet = 1;
		return 1;
	}
	return 0;
}

void
cli_other_option(cli_common *c, int opt, const char *arg, const char *usage)
{
	if (opt == 'h') {
		fputs(usage, stdout);
		exit(fflush(stdout) == 0 ? EXIT_OK : EXIT_DATA);
	}
	if (opt == OPT_VERSION) {
		printf("%s (psflow) %s\n", err_prog(), PSFLOW_VERSION);
		exit(fflush(stdout) == 0 ? EXIT_OK : EXIT_DATA);
	}
	if (!cli_common_option(c, opt, arg))
		die_usage("unknown option");
}

int
cli_role_option(cli_roles *r, int opt, const char *arg)
{
	switch (opt) {
	case 't': r->treatment = arg; return 1;
	case 'y': r->outcome = arg; return 1;
	case 'x': r->covariates = arg; return 1;
	}
	return 0;
}

void
cli_roles_to_head(const cli_roles *r, stream_head *h)
{
	stream_head_set_role(&h->treatment, r->treatment);
	stream_head_set_role(&h->outcome, r->outcome);
	stream_head_set_covariates(h, r->covariates);
}

const char *
cli_text_output(const cli_common *c)
{
	if (strcmp(c->out, "-") == 0)
		return "stdout";
	if (io_is_zmq_spec(c->out))
		die_usage("--out wants a file or '-' here: this program writes text, not a "
		    "stream (a stage's --out sends the stream itself)");
	if (freopen(c->out, "w", stdout) == NULL)
		die("cannot open output '%s':", c->out);
	return c->out;
}

/* --columns COLS as indexes into the schema; every name must be there. */
int *
cli_pick_columns(const table *schema, const char *list, int *n)
{
	int *pick = xcalloc((size_t)schema->ncols + 1, sizeof *pick);

	*n = 0;
	if (list == NULL) {
		for (int i = 0; i < schema->ncols; i++)
			pick[(*n)++] = i;
		return pick;
	}
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		char *name = xstrndup(p, len);
		int ci = table_find(schema, name);

		if (ci < 0) {
			char have[512] = "";

			for (int i = 0; i < schema->ncols && strlen(have) < 400; i++)
				snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s",
				    i ? ", " : "", schema->cols[i].name);
			die_usage("--columns: '%s' is not in the stream (it has: %s)", name, have);
		}
		pick = xreallocarray(pick, (size_t)*n + 1, sizeof *pick);
		pick[(*n)++] = ci;
		free(name);
		p += len;
		if (*p == ',')
			p++;
	}
	if (*n == 0)
		die_usage("--columns names no column");
	return pick;
}

void
cli_check_output(FILE *f, const char *name, int final)
{
	if ((final && fflush(f) != 0) || ferror(f)) {
		if (errno == EPIPE)
			die("the reader of %s went away (did a later program fail or stop "
			    "reading?)", name);
		die("writing %s:", name);
	}
}

void
cli_no_operands(int argc, char **argv)
{
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
}

double
cli_double(const char *opt, const char *arg, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end != '\0' || errno != 0 || !isfinite(v))
		die_usage("%s wants a number, not '%s'", opt, arg);
	if (v < lo || v > hi)
		die_usage("%s must be between %g and %g, not %s", opt, lo, hi, arg);
	return v;
}

long long
cli_int(const char *opt, const char *arg, long long lo, long long hi)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (end == arg || *end != '\0' || errno != 0)
		die_usage("%s wants a whole number, not '%s'", opt, arg);
	if (v < lo || v > hi)
		die_usage("%s must be between %lld and %lld, not %s", opt, lo, hi, arg);
	return v;
}

void
cli_band(const char *opt, const char *arg, double *lo, double *hi)
{
	char what[64], first[64];
	const char *comma = strchr(arg, ',');

	if (comma == NULL)
		die_usage("%s wants LO,HI (e.g. 0.05,0.95)", opt);
	snprintf(first, sizeof first, "%.*s", (int)(comma - arg), arg);
	snprintf(what, sizeof what, "%s LO", opt);
	*lo = cli_double(what, first, 0, 1);
	snprintf(what, sizeof what, "%s HI", opt);
	*hi = cli_double(what, comma + 1, 0, 1);
	if (*lo >= *hi)
		die_usage("%s wants LO < HI", opt);
}

int
cli_choice(const char *word, const char *choices)
{
	size_t len = strlen(word);
	const char *p = choices;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == len && strncmp(p, word, len) == 0)
			return 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}
