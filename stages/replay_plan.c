/* replay_plan — a replay's plan from the recipe in a stream's head: each
 * entry looked up by name among psflow's modules (registry.c), read with
 * its module's recipe_read, and the upstream estimates the modules
 * recompute. The engine that runs a plan is replay.c. */
#include "replay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mpo.h"
#include "xalloc.h"

/* The roles an entry was made with (the recipe's shared keys): a later
 * entry's override an earlier one's. */
static void
take_roles(replay_plan *p, const msgpack_object *e)
{
	static const char *const keys[] = { "treatment", "outcome", "ps" };
	char **dst[] = { &p->treatment, &p->outcome, &p->ps };

	for (int k = 0; k < 3; k++) {
		char *v = mpo_strdup(mpo_get(e, keys[k]));

		if (v) {
			free(*dst[k]);
			*dst[k] = v;
		}
	}
}

static void
skip(replay_plan *p, const char *stage)
{
	p->skipped = xreallocarray(p->skipped, (size_t)p->nskipped + 1, sizeof *p->skipped);
	p->skipped[p->nskipped++] = xstrdup(stage);
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* A step of the module m, from its recipe entry e (entry i + 1). */
static void
add_step(replay_plan *p, const stage_module *m, const msgpack_object *e,
    const stream_head *h, int fixed_ps, int i)
{
	replay_step *st;
	char why[512];

	p->steps = xreallocarray(p->steps, (size_t)p->nsteps + 1, sizeof *p->steps);
	st = &p->steps[p->nsteps++];
	st->module = m;
	st->params = xcalloc(1, m->params_size);
	if (m->recipe_read(st->params, e, why, sizeof why) != 0)
		die("recipe entry %d (%s) cannot be replayed: %s", i + 1, m->name, why);
	if (m->replay->ps) {
		int refits;

		if (m->replay->ps->prepare(st->params, h, fixed_ps, &refits, &p->ps_source,
		    why, sizeof why) != 0)
			die("recipe entry %d (%s) cannot be replayed: %s", i + 1, m->name, why);
		p->ps_step = refits ? p->nsteps - 1 : -1;
	}
}

void
replay_plan_from_recipe(replay_plan *p, const stream_head *h, int fixed_ps)
{
	memset(p, 0, sizeof *p);
	p->ps_step = -1;
	p->ps_source = "fixed: the stream's propensities";
	if (fixed_ps)
		p->ps_source = "fixed: the stream's propensities (--fixed-ps)";
	p->treatment = dup_or_null(h->treatment);
	p->outcome = dup_or_null(h->outcome);
	p->ps = dup_or_null(h->ps);
	p->support = dup_or_null(h->support);
	msgpack_unpacked_init(&p->entry);
	for (int i = 0; i < h->nrecipe; i++) {
		const msgpack_object *e;
		const stage_module *m;
		char *stage;

		msgpack_unpacked_destroy(&p->entry);
		mpraw_unpack(&h->recipe[i], &p->entry);
		e = &p->entry.data;
		stage = p->entry_stage = mpo_strdup(mpo_get(e, "stage"));
		if (stage == NULL)
			die("recipe entry %d has no stage name: cannot replay it", i + 1);
		m = stage_module_find(stage);
		if (m && m->not_replayed)
			die("%s", m->not_replayed);
		if (m && m->replay) {
			take_roles(p, e);
			add_step(p, m, e, h, fixed_ps, i);
		} else if (m || fixed_ps)
			skip(p, stage); /* makes data or no estimate: nothing to replay */
		else
			die("boot cannot replay the stage '%s': it is not one of psflow's, "
			    "so its numbers cannot be recomputed on resampled data. Use "
			    "boot --fixed-ps to take the propensities in the stream as they "
			    "are (the intervals then ignore the propensity model's own "
			    "uncertainty)", stage);
		free(stage);
		p->entry_stage = NULL;
	}
	msgpack_unpacked_destroy(&p->entry);
	msgpack_unpacked_init(&p->entry);
}

static void
add_target(replay_plan *p, int step, int id, int result, const msgpack_object *r)
{
	replay_target *t;

	p->targets = xreallocarray(p->targets, (size_t)p->ntargets + 1, sizeof *p->targets);
	t = &p->targets[p->ntargets++];
	t->step = step;
	t->id = id;
	t->result = result;
	t->name = mpo_strdup(mpo_get(r, "name"));
	if (mpo_number(mpo_get(r, "estimate"), &t->estimate) != 0)
		t->estimate = NAN;
}

/* The last step of the stage that made result r, and its id for it. */
static int
target_of(const replay_plan *p, const msgpack_object *r, const char *name, int *id)
{
	for (int s = p->nsteps - 1; s >= 0; s--) {
		const stage_module *m = p->steps[s].module;

		if (mpo_is_str(mpo_get(r, "stage"), m->name)) {
			*id = m->replay->target ? m->replay->target(p->steps[s].params, name) : -1;
			return *id >= 0 ? s : -1;
		}
	}
	return -1;
}

/* Is result r (named name) of the plan's outcome? A result of one of
 * several outcomes says which ("outcome"); one without is the role's. A
 * later outcome's name, NAME.OUTCOME, is cut to NAME, the step's own. */
static int
of_outcome(const replay_plan *p, const msgpack_object *r, char *name)
{
	char *outcome = mpo_strdup(mpo_get(r, "outcome"));
	size_t n, m;
	int ours;

	if (outcome == NULL)
		return 1;
	ours = p->outcome && strcmp(outcome, p->outcome) == 0;
	n = strlen(name), m = strlen(outcome);
	if (ours && n > m + 1 && name[n - m - 1] == '.' && strcmp(name + n - m, outcome) == 0)
		name[n - m - 1] = '\0';
	free(outcome);
	return ours;
}

void
replay_plan_set_outcome(replay_plan *p, const char *outcome)
{
	free(p->outcome);
	p->outcome = xstrdup(outcome);
	replay_plan_option(p, "outcome", outcome);
}

void
replay_plan_add_targets(replay_plan *p, const rawlist *results)
{
	for (int i = 0; i < results->n; i++) {
		msgpack_unpacked u;
		const msgpack_object *r;
		char *name;
		int step, id;

		mpraw_unpack(&results->items[i], &u);
		r = &u.data;
		name = mpo_strdup(mpo_get(r, "name"));
		if (name && mpo_get(r, "estimate") && of_outcome(p, r, name) &&
		    (step = target_of(p, r, name, &id)) >= 0)
			add_target(p, step, id, i, r);
		free(name);
		msgpack_unpacked_destroy(&u);
	}
	if (p->ntargets == 0) {
		char names[256] = "";
		const stage_module *m;

		/* the stages whose estimates boot recomputes, from the registry */
		for (int i = 0; (m = stage_module_at(i)) != NULL; i++)
			if (m->replay && m->replay->estimate)
				snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
				    names[0] ? " or " : "", m->name);
		die("nothing to bootstrap: the stream has no estimate from %s (run boot "
		    "after them)", names);
	}
	if (p->ps_step < 0 && p->ps == NULL)
		die("no propensity column in the stream to hold fixed");
}

void
replay_plan_build(replay_plan *p, const stream_head *h, const rawlist *results,
    int fixed_ps)
{
	replay_plan_from_recipe(p, h, fixed_ps);
	replay_plan_add_targets(p, results);
}

void
replay_plan_option(replay_plan *p, const char *name, const char *value)
{
	for (int k = 0; k < p->nsteps; k++) {
		const replay_step *st = &p->steps[k];

		if (st->module->replay && st->module->replay->option)
			st->module->replay->option(st->params, name, value);
	}
}

const char *
replay_plan_method(const replay_plan *p, int k)
{
	const replay_target *t = &p->targets[k];
	const replay_step *st = &p->steps[t->step];

	return st->module->replay->method ? st->module->replay->method(st->params, t->id) : NULL;
}

int
replay_plan_reads(const replay_plan *p, const char *column)
{
	if ((p->treatment && strcmp(column, p->treatment) == 0) ||
	    (p->outcome && strcmp(column, p->outcome) == 0) ||
	    (p->ps && strcmp(column, p->ps) == 0) ||
	    (p->support && strcmp(column, p->support) == 0))
		return 1;
	if (p->ps_step >= 0) {
		const replay_step *st = &p->steps[p->ps_step];

		if (st->module->replay->ps->reads(st->params, column))
			return 1;
	}
	for (int k = 0; k < p->nsteps; k++) {
		const replay_step *st = &p->steps[k];

		if (st->module->replay && st->module->replay->reads &&
		    st->module->replay->reads(st->params, column))
			return 1;
	}
	return 0;
}

void
replay_plan_free(replay_plan *p)
{
	free(p->entry_stage);
	if (p->entry.zone)
		msgpack_unpacked_destroy(&p->entry);
	for (int s = 0; s < p->nsteps; s++) {
		if (p->steps[s].module->params_free)
			p->steps[s].module->params_free(p->steps[s].params);
		free(p->steps[s].params);
	}
	free(p->steps);
	free(p->treatment);
	free(p->outcome);
	free(p->support);
	free(p->ps);
	for (int i = 0; i < p->ntargets; i++)
		free(p->targets[i].name);
	free(p->targets);
	for (int i = 0; i < p->nskipped; i++)
		free(p->skipped[i]);
	free(p->skipped);
	memset(p, 0, sizeof *p);
}

