/* replay — recompute a flow's estimates on resampled rows, from the recipe
 * in the stream's head. The replay calls the kernels the stages call
 * (design, psfit, weight_compute, ipw, nnmatch), so a stage and its replay
 * cannot disagree; boot checks that they do not, on the full data, while
 * its first replicates run, and stops if they do.
 *
 * Ownership: a plan owns its design, strings and targets; replay_data owns
 * its arrays; scratch is per thread. Nothing here exits on a bad resample:
 * replay_run() reports it. */
#ifndef PSFLOW_REPLAY_H
#define PSFLOW_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "design.h"
#include "logit.h"
#include "psfit.h"
#include "rng.h"
#include "stage.h"
#include "stage_match.h"
#include "stage_weight.h"

typedef enum { TARGET_NAIVE, TARGET_IPW, TARGET_MATCH } target_kind;

typedef struct {
	target_kind kind;
	estimand e;       /* TARGET_IPW */
	int result;       /* index of the upstream result it fills */
	char *name;       /* that result's name */
	double estimate;  /* the upstream estimate */
} replay_target;

typedef struct {
	int refit;              /* refit the logistic model; else use the stream's ps */
	const char *ps_source;  /* how the propensities are had, for the result */
	design d;
	logit_opts logit;
	char *treatment, *outcome, *ps;
	int has_weight, has_match;
	weight_opts w;
	match_opts m;
	replay_target *targets;
	int ntargets;
	char **skipped;         /* stages in the recipe that are not replayed */
	int nskipped;
	double *warm;           /* the full data's coefficients: each refit starts there */
	double *warm_mu;        /* and the groups' fitted probabilities there */
	psfit_witnesses *witnesses; /* groups that spare a refit its separation check */
} replay_plan;

/* Builds the plan from the head's recipe and the upstream results. Dies
 * naming the stage it cannot replay (unless fixed_ps) or when there is
 * nothing to bootstrap. */
void replay_plan_build(replay_plan *p, const stream_head *h, const rawlist *results,
    int fixed_ps);
/* The same in two steps, for a reader that wants the plan before the rows:
 * from the recipe (dies as above on a stage it cannot replay), then the
 * estimates to bootstrap from the results. */
void replay_plan_from_recipe(replay_plan *p, const stream_head *h, int fixed_ps);
void replay_plan_add_targets(replay_plan *p, const rawlist *results);
/* Does the replay read this column (a role, or a covariate it refits on)? */
int replay_plan_reads(const replay_plan *p, const char *column);
void replay_plan_free(replay_plan *p);

/* The rows as boot uses them: grouped, rows with equal covariates (or equal
 * propensities, when those are held fixed) in one group, and ordered by
 * group. A replicate is a list of ordered rows, drawn with replacement. */
/* An ordered row's cell (2g + t: group g's units with treatment t) and
 * outcome: all a replicate reads of a row it draws, in one cache line. */
typedef struct {
	double y;
	uint32_t cell;
} replay_row;

/* The same for a 0/1 outcome in four bytes, 2 * cell + y: with the cells'
 * tallies in eight, what the draws touch stays in a core's own cache. */
#define REPLAY_BIT_ROW(cell, y) (2 * (uint32_t)(cell) + (uint32_t)(y))

typedef struct {
	size_t n;          /* rows */
	uint8_t *t;        /* n, in group order */
	double *y;         /* n, in group order */
	uint32_t *group;   /* n: each ordered row's group, nondecreasing */
	size_t *pos;       /* n: where stream row i is in the order */
	size_t ngroups;
	int p;             /* refit: columns of X, intercept included */
	double *X;         /* refit: the groups' covariates, ngroups x p, column-major */
	double *ps;        /* the groups' propensities in the stream (fixed, or
			      refit: what the full data's refit must give) */
	/* n: what a drawn row adds, in one place; one of the two */
	uint32_t *bit_row; /* a 0/1 outcome: REPLAY_BIT_ROW(cell, y) */
	replay_row *row;   /* any other outcome */
} replay_data;

/* Checks and copies what the plan needs out of the rows (dies on bad data,
 * as the stages would). */
void replay_data_prepare(replay_data *d, const replay_plan *p, const table *rows);
void replay_data_free(replay_data *d);

/* Fits the full data once and makes every later refit start from its
 * coefficients and fitted probabilities (fewer Newton steps, and no exp in
 * the first; the optimum is the same to the tolerance), renumbers the
 * groups in order of their propensity, and finds the groups that witness
 * against separation (see psfit_witnesses). Deterministic, so every worker
 * starts from the same place. */
void replay_plan_warm_start(replay_plan *p, replay_data *d);

/* The plan as the full-data check replays it: every refit from zeros, as
 * fitps did (shares p's memory; do not free). */
replay_plan replay_plan_cold(const replay_plan *p);

typedef enum {
	REPLICATE_OK,
	REPLICATE_NO_TREATED,
	REPLICATE_NO_CONTROLS,
	REPLICATE_FIT_FAILED,
	REPLICATE_INFINITE_WEIGHT,
	REPLICATE_ZERO_WEIGHT,
	REPLICATE_NO_MATCH,
	REPLICATE_REASONS
} replicate_status;

const char *replicate_reason(replicate_status s);

typedef struct replay_scratch replay_scratch;
replay_scratch *replay_scratch_new(const replay_data *d);
void replay_scratch_free(replay_scratch **s);

/* Which ordered rows a replicate has, a row once for each time it is
 * there: n rows drawn with replacement (rng_below(d->n), from a copy of
 * the stream *draws: the draws are not stored, and each is summed as soon
 * as made), or the rows list[0..n), or (all zero) every row once, the
 * full data. */
typedef struct {
	const rng *draws;
	const uint32_t *list;
	size_t n;
} replay_rows;

/* The plan's estimates on a replicate's rows into out[0..ntargets). why
 * (optional) gets the detail of a failure.
 *
 * The model is fitted on the groups with their counts of units and treated
 * units; weights and matches are computed on cells (a group's controls, a
 * group's treated units) with their counts and outcome sums. The numbers
 * are those of the rows one by one, as the stages compute them. Two
 * options need the rows themselves and are given them, in stream order:
 * weight --truncate (a quantile over units) and any matching but k = 1 with
 * replacement and all ties (matches depend on row order). */
replicate_status replay_run(const replay_plan *p, const replay_data *d,
    const replay_rows *rows, replay_scratch *s, double *out, char *why, size_t whylen);

#endif
