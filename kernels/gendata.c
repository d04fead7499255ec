#include "gendata.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Levels in sorted order, as csv2mp would infer them from the CSV. */
static char *const tier_levels[] = { "heavy", "light", "medium" };
enum { HEAVY, LIGHT, MEDIUM };

static const double tier_share[] = { [LIGHT] = 0.55, [MEDIUM] = 0.30, [HEAVY] = 0.15 };
static const double opt_in_rate[] = { [LIGHT] = 0.12, [MEDIUM] = 0.35, [HEAVY] = 0.65 };
static const double base_completion[] = { [LIGHT] = 0.35, [MEDIUM] = 0.55, [HEAVY] = 0.70 };
static const double noise_halfwidth = 0.05;

/* no-overlap: accounts whose admins switched the feature on for everyone
 * (enterprise, 10%) or off (restricted, 10%): opt-in .99 and .01 */
static char *const account_levels[] = { "enterprise", "restricted", "standard" };
enum { ENTERPRISE, RESTRICTED, STANDARD };
static const double account_opt_in[] = { [ENTERPRISE] = 0.99, [RESTRICTED] = 0.01 };
static const double account_outcome[] = { [ENTERPRISE] = 0.10, [RESTRICTED] = -0.10 };

/* realistic: engagement score by tier, and the effect's share by tier */
static const double score_mean[] = { [LIGHT] = 35, [MEDIUM] = 55, [HEAVY] = 75 };
static const double effect_share[] = { [LIGHT] = 0.5, [MEDIUM] = 1.0, [HEAVY] = 1.75 };

/* hidden-confounder: the trait's prevalence and, at S = 1, its pull on
 * opt-in (log-odds) and on completion */
static const double trait_share = 0.3, trait_opt_in = 1.5, trait_outcome = 0.15;

/* spillover: workspaces of 2 to 300 users, Pareto(2, 1.2) */
enum { WORKSPACE_MAX = 300 };
static const double culture_opt_in = 0.8;

static const char *const scenario_names[SCENARIO_COUNT] = {
	[SCENARIO_REFERENCE] = "reference",
	[SCENARIO_REALISTIC] = "realistic",
	[SCENARIO_HIDDEN_CONFOUNDER] = "hidden-confounder",
	[SCENARIO_NO_OVERLAP] = "no-overlap",
	[SCENARIO_MISSPECIFIED] = "misspecified",
	[SCENARIO_SPILLOVER] = "spillover",
};

/* One user, as every scenario makes it; a column a scenario lacks is not
 * written. */
typedef struct {
	int tier;
	double confidence, score;
	int64_t age, usage, trait, workspace, opt_in, done;
	int account;
	double tau;
} user;

/* A workspace's users, made together (an outcome needs the teammates'
 * opt-ins), then handed out one by one. */
typedef struct {
	user member[WORKSPACE_MAX];
	int size, next;
	int64_t id;
} workspace;

struct gendata {
	gendata_opts o;
	rng r;
	uint64_t made;
	workspace ws;
	/* the columns of the table gendata_schema made, or -1 */
	int c_id, c_workspace, c_tier, c_account, c_score, c_age, c_usage, c_opt_in,
	    c_confidence, c_done, c_trait;
};

const char *
gendata_scenario_name(gendata_scenario s)
{
	return s >= 0 && s < SCENARIO_COUNT ? scenario_names[s] : "?";
}

int
gendata_scenario_parse(const char *name, gendata_scenario *s)
{
	for (int i = 0; i < SCENARIO_COUNT; i++)
		if (strcmp(name, scenario_names[i]) == 0) {
			*s = (gendata_scenario)i;
			return 0;
		}
	return -1;
}

const char *
gendata_treatment(void)
{
	return "opt_in_agent_mode";
}

const char *
gendata_outcome(void)
{
	return "task_completed";
}

const char *
gendata_covariates(gendata_scenario s)
{
	return s == SCENARIO_REALISTIC ?
	    "engagement_tier,past_engagement_score,account_age_months,feature_usage_count" :
	    s == SCENARIO_NO_OVERLAP ? "engagement_tier,query_confidence,account_type" :
	    "engagement_tier,query_confidence";
}

gendata *
gendata_new(const gendata_opts *g)
{
	gendata *gen = xcalloc(1, sizeof *gen);

	gen->o = *g;
	rng_seed(&gen->r, g->seed);
	return gen;
}

void
gendata_free(gendata *gen)
{
	free(gen);
}

static int
add(table *t, const char *name, coltype type, char *const *levels, int nlevels)
{
	return table_add_column(t, name, type, levels, nlevels);
}

void
gendata_schema(const gendata *cgen, table *t)
{
	gendata *gen = (gendata *)cgen; /* records where its columns are */
	gendata_scenario s = gen->o.scenario;

	gen->c_workspace = gen->c_score = gen->c_age = gen->c_usage = gen->c_confidence =
	    gen->c_trait = gen->c_account = -1;
	gen->c_id = add(t, "user_id", COL_I64, NULL, 0);
	if (s == SCENARIO_SPILLOVER)
		gen->c_workspace = add(t, "workspace_id", COL_I64, NULL, 0);
	gen->c_tier = add(t, "engagement_tier", COL_CAT, tier_levels, 3);
	if (s == SCENARIO_NO_OVERLAP)
		gen->c_account = add(t, "account_type", COL_CAT, account_levels, 3);
	if (s == SCENARIO_REALISTIC) {
		gen->c_score = add(t, "past_engagement_score", COL_F64, NULL, 0);
		gen->c_age = add(t, "account_age_months", COL_I64, NULL, 0);
		gen->c_usage = add(t, "feature_usage_count", COL_I64, NULL, 0);
	}
	gen->c_opt_in = add(t, "opt_in_agent_mode", COL_I64, NULL, 0);
	if (s != SCENARIO_REALISTIC)
		gen->c_confidence = add(t, "query_confidence", COL_F64, NULL, 0);
	gen->c_done = add(t, "task_completed", COL_I64, NULL, 0);
	if (s == SCENARIO_HIDDEN_CONFOUNDER && gen->o.reveal)
		gen->c_trait = add(t, "motivation", COL_I64, NULL, 0);
}

static double
clip(double p)
{
	return fmin(0.99, fmax(0.01, p));
}

static double
sigmoid(double x)
{
	return 1 / (1 + exp(-x));
}

static double
logit(double p)
{
	return log(p / (1 - p));
}

static int
draw_tier(rng *r)
{
	double u = rng_uniform(r);

	return u < tier_share[LIGHT] ? LIGHT :
	    u < tier_share[LIGHT] + tier_share[MEDIUM] ? MEDIUM : HEAVY;
}

static double
draw_confidence(rng *r)
{
	return round(rng_beta_int(r, 5, 2) * 1e4) / 1e4;
}

/* Completion's probability: base + effect x opt-in + jitter, clipped to
 * [.01, .99] (summed in that order: the reference stream keeps its bits). */
static inline double
completion(double base, double effect, int64_t opt_in, double jitter)
{
	return clip(base + effect * (double)opt_in + jitter);
}

/* What opting in adds to that probability, after the clip. */
static inline double
own_effect(double base, double effect, double jitter)
{
	return completion(base, effect, 1, jitter) - completion(base, effect, 0, jitter);
}

static void
outcome(rng *r, user *u, double base, double jitter, double effect)
{
	u->tau = own_effect(base, effect, jitter);
	u->done = rng_uniform(r) < completion(base, effect, u->opt_in, jitter);
}

static double
noise(rng *r)
{
	return noise_halfwidth * (2 * rng_uniform(r) - 1);
}

static void
no_overlap_user(gendata *gen, user *u)
{
	rng *r = &gen->r;
	double a;

	u->tier = draw_tier(r);
	u->confidence = draw_confidence(r);
	a = rng_uniform(r);
	u->account = a < 0.1 ? ENTERPRISE : a < 0.2 ? RESTRICTED : STANDARD;
	u->opt_in = rng_uniform(r) < (u->account == STANDARD ? opt_in_rate[u->tier] :
	    account_opt_in[u->account]);
	outcome(r, u, base_completion[u->tier] + (u->account == STANDARD ? 0 :
	    account_outcome[u->account]), noise(r), gen->o.effect);
}

static void
realistic_user(gendata *gen, user *u)
{
	rng *r = &gen->r;
	double p0;

	u->tier = draw_tier(r);
	u->score = round(fmin(100, fmax(0, score_mean[u->tier] + 12 * rng_normal(r))) * 100) / 100;
	u->age = 1 + (int64_t)rng_poisson(r, 4 + 0.15 * u->score);
	u->usage = (int64_t)rng_poisson(r, exp(0.3 + 0.025 * u->score));
	u->opt_in = rng_uniform(r) < sigmoid(-4.2 + 0.045 * u->score + 0.02 * (double)u->age +
	    0.04 * (double)u->usage);
	p0 = base_completion[u->tier] + 0.003 * (u->score - 50) + 0.004 * ((double)u->usage - 6);
	outcome(r, u, p0, noise(r), gen->o.effect * effect_share[u->tier]);
}

static void
hidden_confounder_user(gendata *gen, user *u)
{
	rng *r = &gen->r;
	double s = gen->o.confounding, shift;

	u->tier = draw_tier(r);
	u->confidence = draw_confidence(r);
	u->trait = rng_uniform(r) < trait_share;
	shift = (double)u->trait - trait_share;
	u->opt_in = rng_uniform(r) < sigmoid(logit(opt_in_rate[u->tier]) + s * trait_opt_in * shift);
	outcome(r, u, base_completion[u->tier] + s * trait_outcome * shift, noise(r),
	    gen->o.effect);
}

static void
misspecified_user(gendata *gen, user *u)
{
	rng *r = &gen->r;
	/* complexity: low confidence; its pull has opposite signs by tier */
	double c, sign, logodds;

	u->tier = draw_tier(r);
	u->confidence = draw_confidence(r);
	c = 0.7 - u->confidence;
	sign = u->tier == HEAVY ? 1 : u->tier == LIGHT ? -1 : 0;
	logodds = u->tier == HEAVY ? 0.4 + 10 * c : u->tier == LIGHT ? -2.0 - 10 * c : -0.6;
	u->opt_in = rng_uniform(r) < sigmoid(logodds);
	outcome(r, u, base_completion[u->tier] + 0.5 * c * sign, noise(r), gen->o.effect);
}

/* The next workspace: its size (at most the rows still to make), culture,
 * members and, once every member's opt-in is known, their outcomes. */
static void
next_workspace(gendata *gen)
{
	rng *r = &gen->r;
	workspace *w = &gen->ws;
	uint64_t left = gen->o.rows - gen->made;
	double size = floor(2 * pow(1.0 - rng_uniform(r), -1 / 1.2)), culture;
	int treated = 0;

	if (size > WORKSPACE_MAX)
		size = WORKSPACE_MAX;
	w->size = (int)((uint64_t)size < left ? (uint64_t)size : left);
	if (w->size < 1)
		w->size = 1;
	w->next = 0;
	culture = rng_normal(r);
	for (int i = 0; i < w->size; i++) {
		user *u = &w->member[i];

		memset(u, 0, sizeof *u);
		u->workspace = w->id;
		u->tier = draw_tier(r);
		u->confidence = draw_confidence(r);
		u->opt_in = rng_uniform(r) < sigmoid(logit(opt_in_rate[u->tier]) +
		    culture_opt_in * culture);
		treated += (int)u->opt_in;
	}
	for (int i = 0; i < w->size; i++) {
		user *u = &w->member[i];
		double share = w->size > 1 ?
		    (double)(treated - u->opt_in) / (double)(w->size - 1) : 0;

		outcome(r, u, base_completion[u->tier] + gen->o.spillover * share, noise(r),
		    gen->o.effect);
	}
	w->id++;
}

static void
next_user(gendata *gen, user *u)
{
	memset(u, 0, sizeof *u);
	switch (gen->o.scenario) {
	case SCENARIO_NO_OVERLAP: no_overlap_user(gen, u); break;
	case SCENARIO_REALISTIC: realistic_user(gen, u); break;
	case SCENARIO_HIDDEN_CONFOUNDER: hidden_confounder_user(gen, u); break;
	case SCENARIO_MISSPECIFIED: misspecified_user(gen, u); break;
	case SCENARIO_SPILLOVER:
		if (gen->ws.next == gen->ws.size)
			next_workspace(gen);
		*u = gen->ws.member[gen->ws.next++];
		break;
	case SCENARIO_REFERENCE: /* fill_reference: straight into the columns */
	case SCENARIO_COUNT: break;
	}
}

static void
put_i64(table *t, int c, size_t row, int64_t v)
{
	if (c >= 0)
		((int64_t *)t->cols[c].data)[row] = v;
}

static void
put_f64(table *t, int c, size_t row, double v)
{
	if (c >= 0)
		((double *)t->cols[c].data)[row] = v;
}

/* The reference study straight into its columns: the generic path's user
 * record and per-column branches cost half again as much, and gen streams
 * millions of these. Its draws in their order since before the scenarios:
 * tier, confidence, opt-in, jitter, completion. */
static void
fill_reference(gendata *gen, table *t, size_t at, size_t n, double *tau)
{
	int64_t *id = (int64_t *)t->cols[gen->c_id].data + at;
	int32_t *tier = (int32_t *)t->cols[gen->c_tier].data + at;
	int64_t *opt_in = (int64_t *)t->cols[gen->c_opt_in].data + at;
	double *conf = (double *)t->cols[gen->c_confidence].data + at;
	int64_t *done = (int64_t *)t->cols[gen->c_done].data + at;
	rng *r = &gen->r;

	for (size_t i = 0; i < n; i++) {
		int k = draw_tier(r);
		double jitter, p;

		id[i] = (int64_t)(gen->made + i);
		tier[i] = k;
		conf[i] = draw_confidence(r);
		opt_in[i] = rng_uniform(r) < opt_in_rate[k];
		jitter = noise(r);
		p = completion(base_completion[k], gen->o.effect, opt_in[i], jitter);
		done[i] = rng_uniform(r) < p;
		if (tau)
			tau[i] = own_effect(base_completion[k], gen->o.effect, jitter);
	}
	gen->made += n;
}

void
gendata_fill(gendata *gen, table *t, size_t n, double *tau)
{
	size_t at = t->nrows;

	table_set_rows(t, at + n);
	if (gen->o.scenario == SCENARIO_REFERENCE) {
		fill_reference(gen, t, at, n, tau);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		size_t row = at + i;
		user u;

		next_user(gen, &u);
		put_i64(t, gen->c_id, row, (int64_t)gen->made);
		put_i64(t, gen->c_workspace, row, u.workspace);
		((int32_t *)t->cols[gen->c_tier].data)[row] = u.tier;
		if (gen->c_account >= 0)
			((int32_t *)t->cols[gen->c_account].data)[row] = u.account;
		put_f64(t, gen->c_score, row, u.score);
		put_i64(t, gen->c_age, row, u.age);
		put_i64(t, gen->c_usage, row, u.usage);
		put_i64(t, gen->c_opt_in, row, u.opt_in);
		put_f64(t, gen->c_confidence, row, u.confidence);
		put_i64(t, gen->c_done, row, u.done);
		put_i64(t, gen->c_trait, row, u.trait);
		if (tau)
			tau[i] = u.tau;
		gen->made++;
	}
}
