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

static void (*die_hook)(const char *stage, const char *message);

void
err_set_die_hook(void (*hook)(const char *stage, const char *message))
{
	die_hook = hook;
}

/* The message (with strerror for a format ending in ':') on stderr, and
 * to the hook before an error exit. */
static void
vreport(const char *fmt, va_list ap, int fatal)
{
	int saved = errno;
	size_t len = strlen(fmt);
	char text[2048];
	int n = vsnprintf(text, sizeof text, fmt, ap);

	if (n >= 0 && len > 0 && fmt[len - 1] == ':' && (size_t)n < sizeof text)
		snprintf(text + n, sizeof text - (size_t)n, " %s", strerror(saved));
	fflush(stdout);
	fprintf(stderr, "%s: %s\n", prog, text);
	if (fatal && die_hook) {
		void (*hook)(const char *, const char *) = die_hook;

		die_hook = NULL; /* (a hook that dies does not loop) */
		hook(prog, text);
	}
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
	vreport(fmt, ap, 1);
	va_end(ap);
	leave(EXIT_DATA);
}

void
die_forwarding(const char *stage, const char *message)
{
	if (jump_to)
		longjmp(*jump_to, EXIT_DATA);
	if (die_hook) {
		void (*hook)(const char *, const char *) = die_hook;

		die_hook = NULL;
		hook(stage, message);
	}
	leave(EXIT_DATA);
}

void
die_quietly(void)
{
	if (jump_to)
		longjmp(*jump_to, EXIT_DATA);
	leave(EXIT_DATA);
}

void
die_usage(const char *fmt, ...)
{
	va_list ap;

	if (jump_to)
		longjmp(*jump_to, EXIT_USAGE);
	va_start(ap, fmt);
	vreport(fmt, ap, 1);
	va_end(ap);
	fprintf(stderr, "%s: try '%s --help'\n", prog, prog);
	leave(EXIT_USAGE);
}

void
err_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap, 0);
	va_end(ap);
}
