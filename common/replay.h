/* replay — recompute a flow's estimates on resampled rows, from the recipe
 * in the stream's head. The replay calls the kernels the stages call
 * (design, psfit, weight_compute, ipw, nnmatch), so a stage and its replay
 * cannot disagree; boot checks that they do not, on the full data, before
 * it trusts the plan.
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
} replay_plan;

/* Builds the plan from the head's recipe and the upstream results. Dies
 * naming the stage it cannot replay (unless fixed_ps) or when there is
 * nothing to bootstrap. */
void replay_plan_build(replay_plan *p, const stream_head *h, const rawlist *results,
    int fixed_ps);
void replay_plan_free(replay_plan *p);

typedef struct {
	size_t n;
	int p;        /* columns of X, intercept included (refit only) */
	double *X;    /* n x p, refit only */
	uint8_t *t;
	double *y;
	double *ps;   /* when not refitting */
} replay_data;

/* Checks and copies what the plan needs out of the rows (dies on bad data,
 * as the stages would). */
void replay_data_prepare(replay_data *d, const replay_plan *p, const table *rows);
void replay_data_free(replay_data *d);

/* Fits the full data once and makes every later refit start from its
 * coefficients (fewer Newton steps; the optimum is the same to the
 * tolerance). Deterministic, so every worker starts from the same place.
 * Call after the full-data check, which must start from zeros as fitps did. */
void replay_plan_warm_start(replay_plan *p, const replay_data *d);

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
replay_scratch *replay_scratch_new(const replay_plan *p, size_t n);
void replay_scratch_free(replay_scratch **s);

/* The plan's estimates on rows idx[0..m) of d (NULL idx: all n rows in
 * order), into out[0..ntargets). why (optional) gets the detail of a
 * failure. */
replicate_status replay_run(const replay_plan *p, const replay_data *d,
    const size_t *idx, size_t m, replay_scratch *s, double *out, char *why,
    size_t whylen);

#endif
