#include "module.h"
#include "stage.h"

#include <math.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mpo.h"
#include "xalloc.h"

/* The role overrides: the flag that lets a module take one, its option,
 * and where it goes in stage_roles. */
static const struct {
	unsigned role;
	struct option opt;
	size_t slot;
} role_longopts[] = {
	{ ROLE_TREATMENT, { "treatment", required_argument, NULL, 't' },
		offsetof(stage_roles, treatment) },
	{ ROLE_OUTCOME, { "outcome", required_argument, NULL, 'y' },
		offsetof(stage_roles, outcome) },
	{ ROLE_PS, { "ps", required_argument, NULL, OPT_ROLE_PS }, offsetof(stage_roles, ps) },
	{ ROLE_COVARIATES, { "covariates", required_argument, NULL, 'x' },
		offsetof(stage_roles, covariates) },
};
#define NROLES (sizeof role_longopts / sizeof role_longopts[0])

/* The module's long options, its role overrides, then the shared ones. */
static struct option *
all_longopts(const stage_module *m)
{
	static const struct option common[] = { CLI_COMMON_LONGOPTS, { NULL, 0, NULL, 0 } };
	size_t own = 0, shared = sizeof common / sizeof common[0], n;
	struct option *all;

	while (m->longopts && m->longopts[own].name)
		own++;
	all = xreallocarray(NULL, own + NROLES + shared, sizeof *all);
	if (own)
		memcpy(all, m->longopts, own * sizeof *all);
	n = own;
	for (size_t r = 0; r < NROLES; r++)
		if (m->role_options & role_longopts[r].role)
			all[n++] = role_longopts[r].opt;
	memcpy(all + n, common, shared * sizeof *all);
	return all;
}

/* A role override the module takes: into roles, returning 1. */
static int
role_option(const stage_module *m, stage_roles *roles, int opt, const char *arg)
{
	for (size_t r = 0; r < NROLES; r++)
		if ((m->role_options & role_longopts[r].role) && role_longopts[r].opt.val == opt) {
			*(const char **)((char *)roles + role_longopts[r].slot) = arg;
			return 1;
		}
	return 0;
}

/* Is opt one of the module's own (a short option letter or a long
 * option's val)? */
static int
own_option(const stage_module *m, int opt)
{
	if (opt > 0 && opt < 256 && opt != ':' && opt != 'h' && m->shortopts &&
	    strchr(m->shortopts, opt))
		return 1;
	for (size_t i = 0; m->longopts && m->longopts[i].name; i++)
		if (m->longopts[i].val == opt && m->longopts[i].flag == NULL)
			return 1;
	return 0;
}

int
stage_main(const stage_module *m, int argc, char **argv)
{
	struct option *longopts = all_longopts(m);
	char shortopts[64];
	void *params = xcalloc(1, m->params_size);
	stage_roles roles = { 0 };
	cli_common cli;
	int opt, len;

	err_set_prog(argv[0]);
	cli_common_init(&cli);
	/* its own short options, those of the roles it takes, and -h */
	len = snprintf(shortopts, sizeof shortopts, "%s", m->shortopts ? m->shortopts : "");
	for (size_t r = 0; r < NROLES; r++)
		if ((m->role_options & role_longopts[r].role) && role_longopts[r].opt.val < 256)
			len += snprintf(shortopts + len, sizeof shortopts - (size_t)len, "%c:",
			    role_longopts[r].opt.val);
	snprintf(shortopts + len, sizeof shortopts - (size_t)len, "h");
	if (m->defaults)
		m->defaults(params);
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (role_option(m, &roles, opt, optarg))
			continue;
		if (own_option(m, opt))
			m->option(params, opt, optarg);
		else
			cli_other_option(&cli, opt, optarg, m->usage);
	}
	if (m->operand)
		for (int i = optind; i < argc; i++)
			m->operand(params, argv[i]);
	else
		cli_no_operands(argc, argv);
	free(longopts);
	if (m->finish)
		m->finish(params, &roles);
	stage_note_treatment_option(roles.treatment);
	stage_note_support(m->all_rows);
	m->run(params, &roles, &cli);
	if (m->params_free)
		m->params_free(params);
	free(params);
	return EXIT_OK;
}

void
stage_recipe_entry(const stage_module *m, const void *params, const stream_head *h,
    mpseq *entry)
{
	mpseq_map(entry);
	mpseq_str(entry, "stage", m->name);
	m->recipe_write(params, h, entry);
}

void
stage_add_recipe(const stage_module *m, const void *params, stream_head *h)
{
	mpseq entry;

	stage_recipe_entry(m, params, h, &entry);
	stream_head_add_recipe(h, &entry);
	mpseq_free(&entry);
}

void
stage_check_new_columns(const stage_module *m, const void *params, const table *have,
    const char *hint)
{
	const char *names[16];
	int n = m->adds ? m->adds(params, names, 16) : 0;

	for (int i = 0; i < n; i++)
		if (table_find(have, names[i]) >= 0)
			die("the stream already has a column '%s' (did %s run twice?)%s%s",
			    names[i], m->name, hint ? ": " : "", hint ? hint : "");
}

int
stage_claim_columns(const stage_module *m, const void *params, table *rows,
    table *schema, const char *hint)
{
	const char *names[16];
	int n = m->adds ? m->adds(params, names, 16) : 0, first = rows->ncols;

	stage_check_new_columns(m, params, rows, hint);
	for (int i = 0; i < n; i++) {
		table_add_column(rows, names[i], COL_F64, NULL, 0);
		table_add_column(schema, names[i], COL_F64, NULL, 0);
	}
	return first;
}

/* An entry's outcomes as -y gives them: "a,b" from its "outcomes", or the
 * one outcome (v, which this takes). */
static char *
outcome_list(const msgpack_object *e, char *v)
{
	const msgpack_object *list = mpo_get(e, "outcomes");
	size_t len = 0;
	char *joined;

	if (list == NULL || list->type != MSGPACK_OBJECT_ARRAY || list->via.array.size < 2)
		return v;
	for (uint32_t i = 0; i < list->via.array.size; i++) {
		if (list->via.array.ptr[i].type != MSGPACK_OBJECT_STR)
			return v;
		len += list->via.array.ptr[i].via.str.size + 1;
	}
	joined = xmalloc(len + 1);
	joined[0] = '\0';
	for (uint32_t i = 0; i < list->via.array.size; i++) {
		const msgpack_object *s = &list->via.array.ptr[i];

		if (i)
			strcat(joined, ",");
		strncat(joined, s->via.str.ptr, s->via.str.size);
	}
	free(v);
	return joined;
}

int
stage_command_line(const msgpack_object *const *entries, int n, cmdline *cmd, char *why,
    size_t whylen)
{
	/* the role keys of recipe entries, the flag of each, its role bit */
	static const struct {
		const char *key, *flag;
		unsigned role;
	} roles[] = {
		{ "treatment", "-t", ROLE_TREATMENT }, { "outcome", "-y", ROLE_OUTCOME },
		{ "ps", "--ps", ROLE_PS }, { "covariates", "-x", ROLE_COVARIATES },
	};
	char *current[4] = { NULL, NULL, NULL, NULL }, problem[256];
	int incomplete = 0;

	why[0] = '\0';
	for (int i = 0; i < n; i++) {
		const msgpack_object *e = entries[i];
		char *name = mpo_strdup(mpo_get(e, "stage"));
		const stage_module *m = name ? stage_module_find(name) : NULL;

		if (i > 0)
			cmdline_raw(cmd, " \\\n  | ");
		cmdline_word(cmd, name ? name : "?");
		problem[0] = '\0';
		if (m == NULL)
			snprintf(problem, sizeof problem, "stage %s is not one of psflow's: "
			    "put its options back by hand", name ? name : "(unnamed)");
		else {
			void *params = xcalloc(1, m->params_size);
			void *defaults = xcalloc(1, m->params_size);

			m->defaults(params);
			m->defaults(defaults);
			if (m->recipe_read && m->recipe_read(params, e, problem, sizeof problem) != 0)
				;
			else if (m->command && m->command(params, defaults, cmd) != 0)
				snprintf(problem, sizeof problem, "%s's entry cannot be rerun from "
				    "its options alone (a saved model: give --model FILE)", name);
			if (m->params_free)
				m->params_free(params);
			free(params);
			free(defaults);
		}
		for (size_t r = 0; r < sizeof roles / sizeof *roles; r++) {
			char *v = NULL, bad[256];

			if (recipe_get_str(e, name ? name : "?", roles[r].key, &v, bad,
			    sizeof bad) != 0) {
				if (!problem[0])
					snprintf(problem, sizeof problem, "%s", bad);
				continue;
			}
			if (v == NULL)
				continue;
			if (roles[r].role == ROLE_OUTCOME)
				v = outcome_list(e, v);
			/* a role the stage takes, and that changes here: given; any
			 * role the entry names is the stream's from then on */
			if (m && (m->role_options & roles[r].role) &&
			    (current[r] == NULL || strcmp(current[r], v) != 0))
				cmdline_opt(cmd, roles[r].flag, v);
			free(current[r]);
			current[r] = v;
		}
		if (problem[0]) {
			if (incomplete++ == 0)
				snprintf(why, whylen, "%s", problem);
		}
		free(name);
	}
	for (int r = 0; r < 4; r++)
		free(current[r]);
	return incomplete;
}

void
recipe_write_roles(mpseq *entry, const stream_head *h)
{
	const stage_outcomes *o = stage_outcomes_current();

	mpseq_str(entry, "treatment", h->treatment);
	mpseq_str(entry, "outcome", h->outcome);
	mpseq_str(entry, "ps", h->ps);
	if (o && o->n > 1) { /* absent: the one outcome */
		mpseq list;

		mpseq_array(&list);
		for (int i = 0; i < o->n; i++)
			mpseq_str(&list, NULL, o->names[i]);
		mpseq_take(entry, "outcomes", &list);
	}
}

static int
wrong_kind(const char *stage, const char *key, const char *want, char *why, size_t whylen)
{
	snprintf(why, whylen, "the recipe's %s entry has a '%s' that is not %s", stage, key,
	    want);
	return -1;
}

int
recipe_whole(double v, double lo, double hi)
{
	return v >= lo && v <= hi && v == floor(v);
}

int
recipe_get_number(const msgpack_object *e, const char *stage, const char *key,
    double *out, char *why, size_t whylen)
{
	const msgpack_object *o = mpo_get(e, key);

	if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (mpo_number(o, out) != 0)
		return wrong_kind(stage, key, "a number", why, whylen);
	return 0;
}

int
recipe_get_bool(const msgpack_object *e, const char *stage, const char *key, int *out,
    char *why, size_t whylen)
{
	const msgpack_object *o = mpo_get(e, key);

	if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (o->type != MSGPACK_OBJECT_BOOLEAN)
		return wrong_kind(stage, key, "true or false", why, whylen);
	*out = o->via.boolean;
	return 0;
}

int
recipe_get_str(const msgpack_object *e, const char *stage, const char *key, char **out,
    char *why, size_t whylen)
{
	const msgpack_object *o = mpo_get(e, key);

	*out = NULL;
	if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
		return 0;
	*out = mpo_strdup(o);
	if (*out == NULL)
		return wrong_kind(stage, key, "a string", why, whylen);
	return 0;
}
