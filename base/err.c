#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* Sanitizer builds: see leave(). */
#if defined(__SANITIZE_ADDRESS__)
#define PSFLOW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PSFLOW_ASAN 1
#endif
#endif

static const char *prog = "psflow";
static jmp_buf *jump_to;

void
err_set_jump(jmp_buf *jump)
{
	jump_to = jump;
}

void
err_set_prog(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');
	prog = slash ? slash + 1 : argv0;
}

const char *
err_prog(void)
{
	return prog;
}

static void
vreport(const char *fmt, va_list ap)
{
	int saved = errno;
	size_t len = strlen(fmt);

	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	if (len > 0 && fmt[len - 1] == ':')
		fprintf(stderr, " %s", strerror(saved));
	fputc('\n', stderr);
}

/* A refusal ends the process: what the program still holds then is freed
 * by the kernel, not leaked. LeakSanitizer runs as an exit handler and would
 * report each such block, so under ASan an error exit skips the handlers
 * (after flushing every stream); a run that succeeds is still checked for
 * leaks, which is what leak checking is for. */
_Noreturn static void
leave(int code)
{
#ifdef PSFLOW_ASAN
	fflush(NULL);
	_exit(code);
#else
	exit(code);
#endif
}

void
die(const char *fmt, ...)
{
	va_list ap;

	if (jump_to)
		longjmp(*jump_to, EXIT_DATA);
	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	leave(EXIT_DATA);
}

void
die_usage(const char *fmt, ...)
{
	va_list ap;

	if (jump_to)
		longjmp(*jump_to, EXIT_USAGE);
	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: try '%s --help'\n", prog, prog);
	leave(EXIT_USAGE);
}

void
err_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
}
