/* keygen — a CURVE key pair for psflow's ZeroMQ links, as czmq's zcert
 * writes them: NAME.key (the public certificate, to hand to peers) and
 * NAME.key_secret (mode 0600, never to leave this host).
 *
 * Contract: writes the two files and prints the public key (Z85) on stdout;
 * never overwrites a file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "curve.h"
#include "err.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: keygen [--dir DIR] NAME\n"
    "\n"
    "Makes a CURVE key pair for encrypted, authenticated ZeroMQ links and writes\n"
    "NAME.key (the public certificate: give it to the peers, who put it in their\n"
    "--curve-allow directory or name it with --curve-server) and NAME.key_secret\n"
    "(mode 0600: this side's --curve-key). Prints the public key. Existing files\n"
    "are never overwritten.\n"
    "\n"
    "  --dir DIR          write the files in DIR (default: the current directory)\n"
    "  --version          the version of psflow this program is part of\n"
    "  -h, --help         this help\n"
    "\n"
    "example (host A binds, host B connects):\n"
    "  A$ psflow keygen a; B$ psflow keygen b   # then copy a.key to B, b.key to A\n"
    "  A$ gen -n 1000 --out @tcp://*:5555 --curve-key a.key_secret --curve-allow allowed/\n"
    "  B$ mpcat --in '>tcp://A:5555' --curve-key b.key_secret --curve-server a.key\n";

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	char why[512], *base;
	curve_cert c;
	int opt;

	err_set_prog(argv[0]);
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == 'd')
			dir = optarg;
		else if (opt == 'h' || opt == OPT_VERSION) {
			cli_common cli;

			cli_common_init(&cli);
			cli_other_option(&cli, opt, optarg, usage_text);
		} else
			die_usage("unknown option");
	}
	if (optind != argc - 1)
		die_usage("give one NAME (the files are NAME.key and NAME.key_secret)");
	if (argv[optind][0] == '\0' || strchr(argv[optind], '/'))
		die_usage("NAME is a plain name (use --dir for the directory), not '%s'",
		    argv[optind]);
	base = xmalloc((dir ? strlen(dir) + 1 : 0) + strlen(argv[optind]) + sizeof ".key");
	sprintf(base, "%s%s%s.key", dir ? dir : "", dir ? "/" : "", argv[optind]);
	if (curve_cert_new(&c, why, sizeof why) != 0 || curve_cert_save(&c, base, why, sizeof why) != 0)
		die("%s", why);
	printf("%s\n", c.public_key);
	explicit_bzero(&c, sizeof c);
	free(base);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("writing stdout:");
	return EXIT_OK;
}
