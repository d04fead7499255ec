/* err — error reporting, exit codes and allocation for every psflow program.
 *
 * Every message is "PROG: problem[: what to do]" on stderr. Data and runtime
 * errors exit EXIT_DATA (1), bad command lines EXIT_USAGE (2). The xmalloc
 * family never returns NULL: running out of memory is a runtime error. */
#ifndef PSFLOW_ERR_H
#define PSFLOW_ERR_H

#include <stddef.h>

enum { EXIT_OK = 0, EXIT_DATA = 1, EXIT_USAGE = 2 };

/* Set once from main (argv[0]'s basename); used as the message prefix. */
void err_set_prog(const char *argv0);
const char *err_prog(void);

/* Print and exit EXIT_DATA. A format ending in ':' appends strerror(errno). */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print and exit EXIT_USAGE, pointing the user at --help. */
_Noreturn void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a warning and carry on. */
void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Array allocation with the multiplication checked for overflow. */
void *xreallocarray(void *p, size_t count, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
