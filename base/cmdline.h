/* cmdline — a shell command line built word by word, each word quoted for
 * a POSIX shell when it needs it (report's "rerun this flow").
 *
 * Ownership: a cmdline owns its text (cmdline_free). (rule: base/README.md) */
#ifndef PSFLOW_CMDLINE_H
#define PSFLOW_CMDLINE_H

#include <stddef.h>

typedef struct {
	char *text; /* NUL-terminated; "" when empty */
	size_t len, cap;
} cmdline;

void cmdline_init(cmdline *c);
/* One word, quoted ('...') unless it is made of characters a shell takes
 * literally; a space before it unless it opens the line or follows "| ". */
void cmdline_word(cmdline *c, const char *word);
/* Text as it is (an operator: "|", a line break "\\\n  "). */
void cmdline_raw(cmdline *c, const char *text);
/* An option and its value: --name VALUE. */
void cmdline_opt(cmdline *c, const char *name, const char *value);
/* An option and a number written so that it reads back the same double
 * (%.15g when that round-trips, else %.17g). */
void cmdline_num(cmdline *c, const char *name, double value);
/* An option and two numbers so written, joined by a comma: --name A,B. */
void cmdline_num_pair(cmdline *c, const char *name, double a, double b);
void cmdline_free(cmdline *c);

#endif
