#include "replay.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "psfit.h"

static const char *reasons[REPLICATE_REASONS] = {
	"ok",
	"no treated unit in the resample",
	"no control in the resample",
	"the propensity model could not be fitted",
	"a propensity of 0 or 1 gave an infinite weight",
	"a group's weights summed to 0",
	"no treated unit could be matched",
};

const char *
replicate_reason(replicate_status s)
{
	return reasons[s];
}

static char *
get_str(const msgpack_object *entry, const char *key)
{
	return mpo_strdup(mpo_get(entry, key));
}

static double
get_num(const msgpack_object *entry, const char *key, double fallback)
{
	double x;

	return mpo_number(mpo_get(entry, key), &x) == 0 ? x : fallback;
}

static int
get_bool(const msgpack_object *entry, const char *key)
{
	const msgpack_object *o = mpo_get(entry, key);

	return o && o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean;
}

static void
set_str(char **dst, char *value)
{
	if (value) {
		free(*dst);
		*dst = value;
	}
}

static void
skip(replay_plan *p, const char *stage)
{
	p->skipped = xreallocarray(p->skipped, (size_t)p->nskipped + 1, sizeof *p->skipped);
	p->skipped[p->nskipped++] = xstrdup(stage);
}

static void
plan_fitps(replay_plan *p, const msgpack_object *e, const stream_head *h, int fixed_ps)
{
	char *spec;

	set_str(&p->ps, get_str(e, "ps"));
	if (mpo_get(e, "model")) {
		/* a saved model scores each row the same whatever the resample:
		 * its propensities are fixed */
		p->refit = 0;
		p->ps_source = "fixed: scored with a saved model";
		return;
	}
	if (fixed_ps) {
		p->refit = 0;
		p->ps_source = "fixed: the stream's propensities (--fixed-ps)";
		return;
	}
	spec = get_str(e, "covariates");
	if (spec == NULL)
		die("the recipe's fitps entry has no covariates: cannot replay it");
	design_free(&p->d);
	design_from_spec(&p->d, spec, &h->schema);
	free(spec);
	set_str(&p->treatment, get_str(e, "treatment"));
	logit_opts_default(&p->logit);
	p->logit.C = get_num(e, "l2", 0);
	p->logit.max_iter = (int)get_num(e, "max_iter", 100);
	p->logit.tol = get_num(e, "tol", 1e-10);
	p->refit = 1;
	p->ps_source = "refitted in every replicate";
}

static void
plan_weight(replay_plan *p, const msgpack_object *e)
{
	const msgpack_object *list = mpo_get(e, "estimands"), *trim = mpo_get(e, "trim");

	memset(&p->w, 0, sizeof p->w);
	for (uint32_t i = 0; list && list->type == MSGPACK_OBJECT_ARRAY &&
	    i < list->via.array.size; i++) {
		char *name = mpo_strdup(&list->via.array.ptr[i]);
		estimand est;

		if (name == NULL || estimand_parse(name, &est) != 0)
			die("the recipe's weight entry names an unknown estimand");
		p->w.estimands[est] = 1;
		free(name);
	}
	if (trim && trim->type == MSGPACK_OBJECT_ARRAY && trim->via.array.size == 2) {
		mpo_number(&trim->via.array.ptr[0], &p->w.trim_lo);
		mpo_number(&trim->via.array.ptr[1], &p->w.trim_hi);
	}
	p->w.truncate_q = get_num(e, "truncate", 0);
	p->w.stabilize = get_bool(e, "stabilize");
	set_str(&p->treatment, get_str(e, "treatment"));
	set_str(&p->outcome, get_str(e, "outcome"));
	set_str(&p->ps, get_str(e, "ps"));
	p->has_weight = 1;
}

static void
plan_match(replay_plan *p, const msgpack_object *e)
{
	char *on = get_str(e, "on"), *ties = get_str(e, "ties");

	memset(&p->m, 0, sizeof p->m);
	p->m.nn.k = (int)get_num(e, "k", 1);
	p->m.nn.replace = get_bool(e, "replace");
	p->m.caliper_sd = get_num(e, "caliper", 0);
	p->m.on_logit = on && strcmp(on, "logit") == 0;
	p->m.nn.ties = ties && strcmp(ties, "first") == 0 ? TIES_FIRST : TIES_ALL;
	free(on);
	free(ties);
	set_str(&p->treatment, get_str(e, "treatment"));
	set_str(&p->outcome, get_str(e, "outcome"));
	set_str(&p->ps, get_str(e, "ps"));
	p->has_match = 1;
}

static void
add_target(replay_plan *p, target_kind kind, estimand e, int result,
    const msgpack_object *r)
{
	replay_target *t;

	p->targets = xreallocarray(p->targets, (size_t)p->ntargets + 1, sizeof *p->targets);
	t = &p->targets[p->ntargets++];
	t->kind = kind;
	t->e = e;
	t->result = result;
	t->name = mpo_strdup(mpo_get(r, "name"));
	t->estimate = get_num(r, "estimate", NAN);
}

void
replay_plan_build(replay_plan *p, const stream_head *h, const rawlist *results,
    int fixed_ps)
{
	memset(p, 0, sizeof *p);
	p->ps_source = "fixed: the stream's propensities";
	if (fixed_ps)
		p->ps_source = "fixed: the stream's propensities (--fixed-ps)";
	set_str(&p->treatment, h->treatment ? xstrdup(h->treatment) : NULL);
	set_str(&p->outcome, h->outcome ? xstrdup(h->outcome) : NULL);
	set_str(&p->ps, h->ps ? xstrdup(h->ps) : NULL);
	for (int i = 0; i < h->nrecipe; i++) {
		msgpack_unpacked u;
		const msgpack_object *e;
		char *stage;

		mpraw_unpack(&h->recipe[i], &u);
		e = &u.data;
		stage = get_str(e, "stage");
		if (stage == NULL)
			die("recipe entry %d has no stage name: cannot replay it", i + 1);
		if (strcmp(stage, "gen") == 0 || strcmp(stage, "balance") == 0)
			skip(p, stage); /* makes data / no estimates: nothing to replay */
		else if (strcmp(stage, "fitps") == 0)
			plan_fitps(p, e, h, fixed_ps);
		else if (strcmp(stage, "weight") == 0)
			plan_weight(p, e);
		else if (strcmp(stage, "match") == 0)
			plan_match(p, e);
		else if (strcmp(stage, "boot") == 0)
			die("the stream has been through boot already");
		else if (!fixed_ps)
			die("boot cannot replay the stage '%s': it is not one of psflow's, "
			    "so its numbers cannot be recomputed on resampled data. Use "
			    "boot --fixed-ps to take the propensities in the stream as they "
			    "are (the intervals then ignore the propensity model's own "
			    "uncertainty)", stage);
		else
			skip(p, stage);
		free(stage);
		msgpack_unpacked_destroy(&u);
	}
	for (int i = 0; i < results->n; i++) {
		msgpack_unpacked u;
		const msgpack_object *r;
		char *name;
		estimand e;

		mpraw_unpack(&results->items[i], &u);
		r = &u.data;
		name = get_str(r, "name");
		if (name && mpo_get(r, "estimate")) {
			if (p->has_weight && mpo_is_str(mpo_get(r, "stage"), "weight")) {
				if (strcmp(name, "naive") == 0)
					add_target(p, TARGET_NAIVE, EST_ATE, i, r);
				else if (strncmp(name, "ipw_", 4) == 0 &&
				    estimand_parse(name + 4, &e) == 0 && p->w.estimands[e])
					add_target(p, TARGET_IPW, e, i, r);
			} else if (p->has_match && mpo_is_str(mpo_get(r, "stage"), "match") &&
			    strcmp(name, "match_att") == 0)
				add_target(p, TARGET_MATCH, EST_ATT, i, r);
		}
		free(name);
		msgpack_unpacked_destroy(&u);
	}
	if (p->ntargets == 0)
		die("nothing to bootstrap: the stream has no estimate from weight or "
		    "match (run boot after them)");
	if (!p->refit && p->ps == NULL)
		die("no propensity column in the stream to hold fixed");
}

void
replay_plan_free(replay_plan *p)
{
	design_free(&p->d);
	free(p->treatment);
	free(p->outcome);
	free(p->ps);
	for (int i = 0; i < p->ntargets; i++)
		free(p->targets[i].name);
	free(p->targets);
	for (int i = 0; i < p->nskipped; i++)
		free(p->skipped[i]);
	free(p->skipped);
	free(p->warm);
	memset(p, 0, sizeof *p);
}

void
replay_data_prepare(replay_data *d, const replay_plan *p, const table *rows)
{
	size_t n = rows->nrows;

	memset(d, 0, sizeof *d);
	d->n = n;
	d->t = xmalloc(n + 1);
	d->y = xreallocarray(NULL, n + 1, sizeof *d->y);
	stage_treatment(&rows->cols[stage_numeric_column(rows,
	    stage_role(p->treatment, "treatment", "-t"), "treatment", "-t")], n, d->t);
	stage_finite(&rows->cols[stage_numeric_column(rows,
	    stage_role(p->outcome, "outcome", "-y"), "outcome", "-y")], n, d->y, "outcome");
	if (p->refit) {
		d->p = p->d.nterms + 1;
		d->X = xreallocarray(NULL, n + 1, (size_t)d->p * sizeof *d->X);
		design_matrix(&p->d, rows, n, d->X);
	} else {
		d->ps = xreallocarray(NULL, n + 1, sizeof *d->ps);
		stage_ps(&rows->cols[stage_numeric_column(rows, p->ps, "propensity", "--ps")],
		    n, d->ps);
	}
}

void
replay_data_free(replay_data *d)
{
	free(d->X);
	free(d->t);
	free(d->y);
	free(d->ps);
	memset(d, 0, sizeof *d);
}

void
replay_plan_warm_start(replay_plan *p, const replay_data *d)
{
	logit_fit fit;
	double *ps;
	char why[512];

	if (!p->refit)
		return;
	ps = xreallocarray(NULL, d->n + 1, sizeof *ps);
	p->logit.start = NULL;
	if (psfit_fit(&p->d, d->X, d->t, d->n, &p->logit, &fit, ps, why, sizeof why) == 0) {
		p->warm = fit.beta;
		fit.beta = NULL;
		p->logit.start = p->warm;
		p->logit.plain_newton = 1;
	}
	logit_fit_free(&fit);
	free(ps);
}

struct replay_scratch {
	double *X, *y, *ps, *w, *dist, *ones;
	uint8_t *t;
};

replay_scratch *
replay_scratch_new(const replay_plan *p, size_t n)
{
	replay_scratch *s = xcalloc(1, sizeof *s);
	size_t cols = (size_t)p->d.nterms + 1;

	if (p->refit)
		s->X = xreallocarray(NULL, n + 1, cols * sizeof *s->X);
	s->y = xreallocarray(NULL, n + 1, sizeof *s->y);
	s->ps = xreallocarray(NULL, n + 1, sizeof *s->ps);
	s->w = xreallocarray(NULL, n + 1, sizeof *s->w);
	s->dist = xreallocarray(NULL, n + 1, sizeof *s->dist);
	s->ones = xreallocarray(NULL, n + 1, sizeof *s->ones);
	s->t = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s->ones[i] = 1;
	return s;
}

void
replay_scratch_free(replay_scratch **sp)
{
	replay_scratch *s = *sp;

	if (s == NULL)
		return;
	free(s->X);
	free(s->y);
	free(s->ps);
	free(s->w);
	free(s->dist);
	free(s->ones);
	free(s->t);
	free(s);
	*sp = NULL;
}

static replicate_status
fail(replicate_status st, char *why, size_t whylen, const char *detail)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", detail ? detail : replicate_reason(st));
	return st;
}

replicate_status
replay_run(const replay_plan *p, const replay_data *d, const size_t *idx, size_t m,
    replay_scratch *s, double *out, char *why, size_t whylen)
{
	size_t treated = 0, cols = (size_t)d->p;
	char detail[512];

	for (size_t r = 0; r < m; r++) {
		size_t i = idx ? idx[r] : r;

		s->t[r] = d->t[i];
		s->y[r] = d->y[i];
		treated += d->t[i];
		if (p->refit)
			memcpy(s->X + r * cols, d->X + i * cols, cols * sizeof *s->X);
		else
			s->ps[r] = d->ps[i];
	}
	if (treated == 0)
		return fail(REPLICATE_NO_TREATED, why, whylen, NULL);
	if (treated == m)
		return fail(REPLICATE_NO_CONTROLS, why, whylen, NULL);
	if (p->refit) {
		logit_fit fit;
		int rc = psfit_fit(&p->d, s->X, s->t, m, &p->logit, &fit, s->ps, detail,
		    sizeof detail);

		logit_fit_free(&fit);
		if (rc != 0)
			return fail(REPLICATE_FIT_FAILED, why, whylen, detail);
	}
	for (int k = 0; k < p->ntargets; k++) {
		const replay_target *t = &p->targets[k];
		ipw_summary sum;
		nnmatch_result mr;
		size_t trimmed[2], capped, bad;
		nnmatch_opts nn;

		switch (t->kind) {
		case TARGET_NAIVE:
			ipw_effect(s->ones, s->t, s->y, m, &sum);
			out[k] = sum.estimate;
			break;
		case TARGET_IPW:
			if (weight_compute(&p->w, t->e, s->t, s->ps, m, s->w, trimmed, &capped,
			    &bad) != 0)
				return fail(REPLICATE_INFINITE_WEIGHT, why, whylen, NULL);
			if (ipw_effect(s->w, s->t, s->y, m, &sum) != 0)
				return fail(REPLICATE_ZERO_WEIGHT, why, whylen, NULL);
			out[k] = sum.estimate;
			break;
		case TARGET_MATCH:
			nn = p->m.nn;
			if (match_distance(&p->m, s->ps, m, s->dist, &nn.caliper, &bad) != 0)
				return fail(REPLICATE_INFINITE_WEIGHT, why, whylen, NULL);
			if (nnmatch_att(s->dist, s->t, s->y, m, &nn, s->w, &mr) != 0)
				return fail(REPLICATE_NO_MATCH, why, whylen, NULL);
			out[k] = mr.estimate;
			break;
		}
	}
	return REPLICATE_OK;
}
