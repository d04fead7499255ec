/* err — error reporting, exit codes and allocation for every psflow program.
 *
 * Every message is "PROG: problem[: what to do]" on stderr. Data and runtime
 * errors exit EXIT_DATA (1), bad command lines EXIT_USAGE (2). Only the
 * stage layer and the programs call die(): kernels return a status.
 *
 * Ownership: nothing is allocated; the program name is copied once. (rule: base/README.md) */
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
/* For fuzz harnesses only: while a jump is set, die() and die_usage() say
 * nothing and longjmp(*jump, EXIT_DATA or EXIT_USAGE) instead of exiting,
 * so one process can try millions of inputs. NULL restores exiting. */
#include <setjmp.h>
void err_set_jump(jmp_buf *jump);
/* Called with the program and the message before die() and die_usage()
 * exit (once): the stream layer tells the next stage that this one failed,
 * and why. */
void err_set_die_hook(void (*hook)(const char *stage, const char *message));
/* Exit EXIT_DATA saying nothing, but passing a stage's failure on through
 * the hook: an earlier stage failed, said so on the same stderr, and the
 * stages after this one must learn it too. */
_Noreturn void die_forwarding(const char *stage, const char *message);
/* Exit EXIT_DATA saying nothing: for a stage whose input pipe is empty
 * because the stage before it failed, whose message is the one to read. */
_Noreturn void die_quietly(void);
/* Print a warning and carry on. */
void err_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
