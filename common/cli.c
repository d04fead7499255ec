#include "cli.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "err.h"
#include "stream.h"

/* Stages allocate and free batch-sized buffers over and over (boot: per
 * replicate). glibc would map each large one afresh and hand it back when
 * freed, and the kernel fault it in again page by page, which costs more
 * than the work under virtualisation. Keep freed memory for reuse, and
 * grow the heap 32 MB at a time (untouched, that costs no memory): the
 * kernel puts a huge page only where a whole 2 MB stretch lies inside the
 * heap (see below), which glibc's 128 kB steps rarely leave. */
static void
keep_freed_memory(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 32 << 20); /* glibc's largest */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 32 << 20);
#endif
}

/* With glibc.malloc.hugetlb=1 (see below) glibc advises huge pages for the
 * heap, but the kernel backs a 2 MB stretch with a huge page only when all
 * of it lies in the heap, and the heap starts at a random place inside its
 * first stretch. So what malloc hands out first, below that boundary, is
 * faulted in 4 kB at a time: for 50,000 rows, the first few columns, about
 * 250 faults a stage. Fill the rest of the first stretch with a block that
 * is never touched (so it costs no memory) and never freed: later blocks
 * start on a huge page. */
static void
start_heap_on_huge_page(void)
{
#ifdef __GLIBC__
	static void *filler;
	const uintptr_t stretch = (uintptr_t)1 << 21;
	/* a block no free chunk can hold comes from the top of the heap */
	void *probe = malloc(1 << 16);
	uintptr_t at = (uintptr_t)probe;
	size_t rest = (size_t)(((at + stretch - 1) & ~(stretch - 1)) - at);

	free(probe); /* back into the top */
	if (at && filler == NULL && rest > (1 << 12))
		filler = malloc(rest - 64); /* 64: room for malloc's header */
#endif
}

/* A 4 kB page fault costs about 12 us on our VMs, a 2 MB huge page about
 * 120 us: per megabyte touched, 3 ms against 0.06 ms, which for 50,000 rows
 * is more than a stage's work. Columns and batch buffers are mapped on huge
 * pages (bigmem); the rest (stage arrays, sort keys, cells) comes from
 * malloc, which glibc puts on transparent huge pages only when its tunable
 * glibc.malloc.hugetlb=1 is set, and it reads tunables from the environment
 * at start-up only. So every program, before main, sets it and starts itself
 * again, once. A user's own setting of glibc.malloc.hugetlb (0 turns this
 * off) is left alone; under valgrind or a sanitizer, which bring their own
 * allocator, nothing is done; if the exec fails, the program just runs on. */
#if defined(__GLIBC__) && defined(__linux__) && !defined(__SANITIZE_ADDRESS__)
extern char **environ;

__attribute__((constructor)) static void
restart_with_huge_pages(int argc, char **argv)
{
	const char *tun = getenv("GLIBC_TUNABLES"), *pre = getenv("LD_PRELOAD");
	const char *want = "glibc.malloc.hugetlb=1";
	char *value, self[4096];
	ssize_t len;

	/* Once only, whatever glibc makes of the variable; never in secure
	 * mode (setuid, capabilities), where glibc drops tunables. */
	if (argc < 1 || argv == NULL || getenv("PSFLOW_RESTARTED") ||
	    getauxval(AT_SECURE) || (tun && strstr(tun, "glibc.malloc.hugetlb")) ||
	    (pre && strstr(pre, "vgpreload")))
		return;
	if (tun && !*tun)
		tun = NULL;
	value = malloc((tun ? strlen(tun) + 1 : 0) + strlen(want) + 1);
	if (value == NULL)
		return;
	sprintf(value, "%s%s%s", tun ? tun : "", tun ? ":" : "", want);
	/* the binary by its own path, not /proc/self/exe: the process keeps
	 * its name (ps, top, pgrep) */
	len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len > 0 && (size_t)len < sizeof self - 1 &&
	    setenv("GLIBC_TUNABLES", value, 1) == 0 &&
	    setenv("PSFLOW_RESTARTED", "1", 1) == 0) {
		self[len] = '\0';
		execve(self, argv, environ);
	}
	free(value);
}
#endif

void
cli_common_init(cli_common *c)
{
	keep_freed_memory();
	if (getenv("PSFLOW_RESTARTED"))
		start_heap_on_huge_page();
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
	case OPT_QUIET:
		c->quiet = 1;
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
	if (!cli_common_option(c, opt, arg))
		die_usage("unknown option");
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
