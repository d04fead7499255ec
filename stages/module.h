/* module — a stage (an estimator or a maker of data) as one descriptor.
 *
 * A stage module owns its whole contract: its name (the program's and its
 * recipe entry's), its options, its kernel parameters (a struct of its own,
 * kept apart from the role overrides -t/-y/--ps/-x, which go to
 * stage_roles), its recipe entry written and read side by side, the roles
 * it reads and the columns it adds, its run over the stream, and, for boot,
 * its replay on resampled rows (replay.h). filters/NAME.c is one call,
 * stage_main(&NAME_module, argc, argv); boot looks recipe entries up by
 * name with stage_module_find() and calls the module's recipe_read and
 * replay, so the replay engine names no stage.
 *
 * Adding an option to a stage touches its module (its option table, the
 * option's case, recipe_write and recipe_read, and replay if it changes the
 * numbers) and PROTOCOL.md's recipe entry for it.
 *
 * Ownership (the rule for all of psflow: see base/README.md): params are
 * the module's, allocated by the caller with params_size bytes, set by
 * defaults() then option() or recipe_read(), and released with
 * params_free() (which frees what recipe_read allocated inside them, never
 * the block itself). Strings from the command line are borrowed from argv. */
#ifndef PSFLOW_MODULE_H
#define PSFLOW_MODULE_H

#include <getopt.h>
#include <stddef.h>

#include <msgpack.h>

#include "cli.h"
#include "cmdline.h"
#include "stream.h"

/* Role overrides from the command line; NULL keeps the head's. */
typedef struct {
	const char *treatment, *outcome, *ps, *covariates;
} stage_roles;

/* The role overrides a stage takes (stage_module.role_options); stage_main
 * parses them for it: -t/--treatment, -y/--outcome, --ps, -x/--covariates. */
enum {
	ROLE_TREATMENT = 1 << 0,
	ROLE_OUTCOME = 1 << 1,
	ROLE_PS = 1 << 2,
	ROLE_COVARIATES = 1 << 3,
};

struct replay_ops; /* replay.h */

typedef struct stage_module {
	const char *name;
	const char *usage;             /* --help, ending with an example */
	const char *shortopts;         /* its own short options, getopt's syntax */
	const struct option *longopts; /* its own long options, { NULL } last */
	unsigned role_options;         /* ROLE_*: the roles it reads, each of which
					  the command line may override */
	int all_rows;                  /* it sees the rows outside the common
					  support too (stage.h): fitps, boot */
	size_t params_size;
	void (*defaults)(void *params);
	/* One of its options (the val of its longopts, or a short one); a bad
	 * value is a usage error (die_usage: this is the stage layer). */
	void (*option)(void *params, int opt, const char *arg);
	/* After the last option: checks of options against each other. */
	void (*finish)(void *params, const stage_roles *roles);
	/* The recipe entry after its "stage" key: every option that changes
	 * the numbers, and the roles as they are in h. */
	void (*recipe_write)(const void *params, const stream_head *h, mpseq *entry);
	/* The params back from an entry recipe_write made. Returns 0, or -1
	 * with the problem in why (the entry is corrupt or from another
	 * version); never exits. */
	int (*recipe_read)(void *params, const msgpack_object *entry, char *why,
	    size_t whylen);
	void (*params_free)(void *params); /* NULL: nothing inside to free */
	/* The columns it adds, into names[0..max): returns how many. */
	int (*adds)(const void *params, const char **names, int max);
	/* Runs the stage over the stream; exits on error. */
	void (*run)(const void *params, const stage_roles *roles, const cli_common *cli);
	/* How boot recomputes its estimates; NULL: it makes none (gen,
	 * balance) or, with not_replayed set, cannot be replayed at all. */
	const struct replay_ops *replay;
	const char *not_replayed;
	/* The options that make params again where they differ from defaults
	 * (the block defaults() sets), as words of a command line a colleague
	 * can rerun (report); the roles are stage_command_line's. Returns 0, or
	 * -1 when the entry cannot be rerun from its options alone (a saved
	 * model that is inline in the recipe but not a file). NULL: no options
	 * change its numbers. */
	int (*command)(const void *params, const void *defaults, cmdline *cmd);
	/* The operands after the options (boot --merge's files), one by one;
	 * NULL: the stage takes none (an operand is a usage error). */
	void (*operand)(void *params, const char *arg);
} stage_module;

/* The modules psflow has, for boot's replay and the programs. NULL when
 * `name` is none of them. */
const stage_module *stage_module_find(const char *name);
/* The i-th of them (from 0), NULL past the last. */
const stage_module *stage_module_at(int i);

/* A stage program's main: parses the module's options with the stream
 * options every program shares, then runs it. */
int stage_main(const stage_module *m, int argc, char **argv);

/* m's recipe entry ("stage": name, then recipe_write's keys) into entry
 * (a new map: free it), or added to h. */
void stage_recipe_entry(const stage_module *m, const void *params, const stream_head *h,
    mpseq *entry);
void stage_add_recipe(const stage_module *m, const void *params, stream_head *h);

/* Dies when `have` has a column m adds ("did NAME run twice?", then hint
 * when given). */
void stage_check_new_columns(const stage_module *m, const void *params,
    const table *have, const char *hint);
/* The columns m adds (as f64), added to rows and to schema; dies when the
 * stream has one already ("did NAME run twice?", then hint when given).
 * Returns the first added column's index in rows (they are consecutive). */
int stage_claim_columns(const stage_module *m, const void *params, table *rows,
    table *schema, const char *hint);

/* The recipe entries as a shell pipeline, stage after stage (" \\\n  | "
 * between them): each entry's program, its options (its module's command)
 * and the roles (-t, -y, --ps, -x) that entry was made with where they
 * differ from the ones the stream already had. Returns how many entries
 * could not be written whole: a stage no module knows (a foreign one,
 * written as its name), a corrupt entry, a command that returned -1; the
 * first such problem is in why. */
int stage_command_line(const msgpack_object *const *entries, int n, cmdline *cmd,
    char *why, size_t whylen);

/* The recipe's shared keys: the roles an entry was made with. */
void recipe_write_roles(mpseq *entry, const stream_head *h);

/* Reading an entry: each returns 0, or -1 with why set (naming the stage
 * and key) when the key is there but of the wrong kind. A missing key
 * leaves *out as it was (the default) unless said otherwise. */
/* Is v a whole number in [lo, hi]? (A recipe's counts and seeds are
 * doubles on the wire; one past a type's range converts to nothing defined.) */
int recipe_whole(double v, double lo, double hi);
int recipe_get_number(const msgpack_object *e, const char *stage, const char *key,
    double *out, char *why, size_t whylen);
int recipe_get_bool(const msgpack_object *e, const char *stage, const char *key,
    int *out, char *why, size_t whylen);
/* A string, allocated (free it); *out is NULL when the key is missing or nil. */
int recipe_get_str(const msgpack_object *e, const char *stage, const char *key,
    char **out, char *why, size_t whylen);

#endif
