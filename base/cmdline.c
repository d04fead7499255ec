/* cmdline — see cmdline.h. */
#include "cmdline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void
cmdline_init(cmdline *c)
{
	c->cap = 64;
	c->len = 0;
	c->text = xmalloc(c->cap);
	c->text[0] = '\0';
}

static void
append(cmdline *c, const char *s, size_t n)
{
	if (c->len + n + 1 > c->cap) {
		while (c->len + n + 1 > c->cap)
			c->cap *= 2;
		c->text = xrealloc(c->text, c->cap);
	}
	memcpy(c->text + c->len, s, n);
	c->len += n;
	c->text[c->len] = '\0';
}

void
cmdline_raw(cmdline *c, const char *text)
{
	append(c, text, strlen(text));
}

/* Characters no POSIX shell treats specially anywhere in a word. */
static int
plain(const char *w)
{
	if (*w == '\0')
		return 0;
	for (const char *p = w; *p; p++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789_-+.,:/=@%", *p))
			return 0;
	return 1;
}

void
cmdline_word(cmdline *c, const char *word)
{
	if (c->len > 0 && c->text[c->len - 1] != ' ' && c->text[c->len - 1] != '\n')
		append(c, " ", 1);
	if (plain(word)) {
		append(c, word, strlen(word));
		return;
	}
	append(c, "'", 1);
	for (const char *p = word; *p; p++)
		if (*p == '\'')
			append(c, "'\\''", 4);
		else
			append(c, p, 1);
	append(c, "'", 1);
}

void
cmdline_opt(cmdline *c, const char *name, const char *value)
{
	cmdline_word(c, name);
	cmdline_word(c, value);
}

/* The shortest of %.15g and %.17g that reads back as x. */
static void
shortest(char *buf, size_t size, double x)
{
	snprintf(buf, size, "%.15g", x);
	if (strtod(buf, NULL) != x)
		snprintf(buf, size, "%.17g", x);
}

void
cmdline_num(cmdline *c, const char *name, double value)
{
	char buf[40];

	shortest(buf, sizeof buf, value);
	cmdline_opt(c, name, buf);
}

void
cmdline_num_pair(cmdline *c, const char *name, double a, double b)
{
	char x[40], y[40], both[84];

	shortest(x, sizeof x, a);
	shortest(y, sizeof y, b);
	snprintf(both, sizeof both, "%s,%s", x, y);
	cmdline_opt(c, name, both);
}

void
cmdline_free(cmdline *c)
{
	free(c->text);
	c->text = NULL;
	c->len = c->cap = 0;
}
