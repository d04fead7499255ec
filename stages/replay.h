/* replay — recompute a flow's estimates on resampled rows, from the recipe
 * in the stream's head. The engine here names no stage: it looks each
 * recipe entry up by name (stage_module_find), reads it with the module's
 * recipe_read and calls the module's replay ops (below), which call the
 * kernels the stages call, so a stage and its replay cannot disagree; boot
 * checks that they do not, on the full data, while its first replicates
 * run, and stops if they do.
 *
 * What the engine does: rows with equal covariates (or equal propensities,
 * when those are held fixed) form a group; a group's controls and its
 * treated units are two cells. A replicate is a list of rows drawn with
 * replacement; the engine sums its draws into the cells, has the step that
 * makes propensities (at most one: fitps) fit them on the groups, and asks
 * each estimate's step for its number on the cells, or on the rows
 * themselves for an estimator that needs them (replay_view_units).
 *
 * Ownership: a plan owns its steps' params (and what their replay keeps in
 * them), strings and targets; replay_data owns its arrays; scratch is per
 * thread, and so is each step's own scratch in it. Nothing here exits on a
 * bad resample: replay_run() reports it. */
#ifndef PSFLOW_REPLAY_H
#define PSFLOW_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "module.h"
#include "rng.h"
#include "stage.h"

typedef enum {
	REPLICATE_OK,
	REPLICATE_NO_TREATED,
	REPLICATE_NO_CONTROLS,
	REPLICATE_FIT_FAILED,
	REPLICATE_INFINITE_WEIGHT,
	REPLICATE_ZERO_WEIGHT,
	REPLICATE_NO_MATCH,
	REPLICATE_OUTCOME_FAILED,
	REPLICATE_NO_SUPPORT,
	REPLICATE_REASONS
} replicate_status;

const char *replicate_reason(replicate_status s);

/* What a replicate's estimates are computed on. */

/* The groups, as the propensity step fits them: X (n x p, column-major,
 * intercept first) and, per group, units and treated units drawn. */
typedef struct {
	const double *X;
	size_t n;
	int p;
	const double *units, *treated;
} replay_groups;

/* The replicate's cells with units (a group's controls, a group's treated
 * units), in group order: treatment, propensity, units and outcome sum;
 * w and d are n doubles of room for the step to use. */
typedef struct {
	const uint8_t *t;
	const double *ps, *count, *ysum;
	size_t n;
	double *w, *d;
} replay_cells;

/* The replicate's rows in stream order, each copy of a drawn row a row;
 * row[i] is unit i's row in the stream (what a step's own per-row data,
 * kept by its prepare_rows, is indexed by). */
typedef struct {
	const uint8_t *t;
	const double *y, *ps;
	size_t n;
	double *w, *d;
	const size_t *row;
} replay_units;

typedef struct replay_view replay_view;
const replay_cells *replay_view_cells(replay_view *v);
/* Made on the first call of a replicate (it costs a pass over the rows):
 * the rows inside the common support as the steps before this one set it
 * on the replicate. */
const replay_units *replay_view_units(replay_view *v);
/* How many times the replicate has each stream row, whatever the support
 * (boot --matching weighted holds the full data's matching, and with it
 * the full data's support, fixed): stream row i count[pos[i]] times. */
typedef struct {
	const uint32_t *count;
	const size_t *pos;
	size_t n;
} replay_counts;
const replay_counts *replay_view_counts(replay_view *v);
/* The calling step's own memory in this thread, NULL at first; the step's
 * scratch_free gives it back when the thread's scratch goes. */
void **replay_view_scratch(replay_view *v);
/* Which replicate this is in the thread (a number that changes with each
 * replay_run), for a step that keeps what its targets share. */
uint64_t replay_view_replicate(const replay_view *v);

/* A step that makes the propensities (fitps). */
typedef struct {
	/* After recipe_read: does the replay refit (1) or take the stream's
	 * propensities as fixed (0)? ps_source, when set, says how they are
	 * had, for the result (else the plan's default stands). Returns -1
	 * with why when the entry cannot be replayed. */
	int (*prepare)(void *params, const stream_head *h, int fixed_ps, int *refits,
	    const char **ps_source, char *why, size_t whylen);
	/* What rows of one group share: the columns of X (intercept first). */
	int (*columns)(const void *params);
	int (*matrix)(const void *params, const table *rows, double *X, char *why,
	    size_t whylen);
	/* Does the refit read this column? */
	int (*reads)(const void *params, const char *column);
	/* The warm start: a fit of the full data's groups into mu (per group),
	 * kept inside params; then, after the engine has renumbered the groups
	 * (mu with them), warm_keep takes mu and makes every later fit start
	 * there. */
	int (*warm_fit)(void *params, const replay_groups *g, double *mu);
	void (*warm_keep)(void *params, const replay_groups *g, double *mu);
	/* A replicate's fit into ps (per group); cold: from zeros, as the
	 * stage did (the full-data check). */
	int (*fit)(const void *params, const replay_groups *g, int cold, double *ps,
	    char *why, size_t whylen);
} replay_ps_ops;

typedef struct replay_ops {
	const replay_ps_ops *ps; /* NULL: the step uses propensities */
	/* A step that reads columns beyond the roles (match --exact, its
	 * covariates for the Mahalanobis distance): does it read this one (so
	 * that boot keeps it)? And, once, the whole stream's rows in stream
	 * order, from which it keeps what it needs per row inside its params
	 * (freed by params_free); inside[i] says whether row i is inside the
	 * stream's common support (NULL: no support, every row is), which is
	 * where the stage itself ran. Returns -1 with why on bad data. NULL:
	 * none. */
	int (*reads)(const void *params, const char *column);
	int (*prepare_rows)(void *params, const table *rows, const uint8_t *inside, char *why,
	    size_t whylen);
	/* A boot option the step's replay heeds (replay_plan_option), before
	 * prepare_rows; and how a target is resampled, for its result (NULL, or
	 * a NULL answer: the stage's computation redone on each resample). */
	void (*option)(void *params, const char *name, const char *value);
	const char *(*method)(const void *params, int target);
	/* Which of the step's results (by name) it recomputes: its own id for
	 * it (>= 0), or -1. */
	int (*target)(const void *params, const char *result_name);
	replicate_status (*estimate)(const void *params, int target, replay_view *v,
	    double *out);
	/* A step that sets the common support for the steps after it (fitps
	 * --common-support, weight --trim): the band of propensities kept, on
	 * this replicate's cells (as the steps before it left them) into
	 * band. Returns 1 when it sets one, 0 when it sets none, -1 when it
	 * cannot (a group without units). NULL: none. */
	int (*support)(const void *params, replay_view *v, double band[2]);
	void (*scratch_free)(void *scratch);
} replay_ops;

typedef struct {
	const stage_module *module;
	void *params;
} replay_step;

typedef struct {
	int step;         /* the step that recomputes it */
	int id;           /* the step's own name for it */
	int result;       /* index of the upstream result it fills */
	char *name;       /* that result's name */
	double estimate;  /* the upstream estimate */
} replay_target;

typedef struct {
	replay_step *steps;
	int nsteps;
	int ps_step;            /* the step that refits the propensities; -1: fixed */
	const char *ps_source;  /* how the propensities are had, for the result */
	unsigned needs;         /* the roles the replayed steps read (NEEDS_*) */
	char *treatment, *outcome, *ps;
	char *support;          /* the stream's common support column, or NULL */
	replay_target *targets;
	int ntargets;
	char **skipped;         /* stages in the recipe that are not replayed */
	int nskipped;
	int cold;               /* refits from zeros (replay_plan_cold) */
	/* the recipe entry being read: held here, so that a refusal (die)
	 * loses nothing where die does not exit (fuzzing) */
	msgpack_unpacked entry;
	char *entry_stage;
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
/* The plan for another of several outcomes (weight, match, aipw -y a,b):
 * its outcome role, and the steps told so (option "outcome"). Before
 * replay_plan_add_targets, which then takes that outcome's results. */
void replay_plan_set_outcome(replay_plan *p, const char *outcome);
/* Passes a boot option (name, value) to every step that takes it. */
void replay_plan_option(replay_plan *p, const char *name, const char *value);
/* How target k is resampled: its step's method, or NULL (refitted). */
const char *replay_plan_method(const replay_plan *p, int k);
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

typedef struct replay_scratch replay_scratch;
replay_scratch *replay_scratch_new(const replay_plan *p, const replay_data *d);
void replay_scratch_free(replay_scratch *s);

/* Which ordered rows a replicate has, a row once for each time it is
 * there: n rows drawn with replacement from a copy of the stream *draws
 * (made again wherever they are needed: first how many fall in each slice
 * of 2048 ordered rows, one multinomial draw, then each slice's offsets,
 * so the same stream gives the same rows to every reader), or the rows
 * list[0..n), or (all zero) every row once, the full data. */
typedef struct {
	const rng *draws;
	const uint32_t *list;
	size_t n;
} replay_rows;

/* The plan's estimates on a replicate's rows into out[0..ntargets). why
 * (optional) gets the detail of a failure. The numbers are those of the
 * rows one by one, as the stages compute them. */
replicate_status replay_run(const replay_plan *p, const replay_data *d,
    const replay_rows *rows, replay_scratch *s, double *out, char *why, size_t whylen);

#endif
