/* gendata — the synthetic opt-in studies behind `gen`: the reference study
 * and the scenarios where propensity scores break.
 *
 * Rows are made one after another from a single random stream, so the
 * values depend on the seed, the options and the row count only, not on
 * batching. Each row's own effect of opting in (its outcome probability
 * opted in minus not, other things equal) can be had beside it, so the
 * caller can state the sample's true ATE and ATT (they differ where the
 * effect varies).
 *
 *   reference          engagement_tier light/medium/heavy (.55/.30/.15),
 *                      query_confidence ~ Beta(5, 2) to 4 decimals, opt-in
 *                      .12/.35/.65 by tier, completion .35/.55/.70 by tier
 *                      + E x opt-in + U(-.05, .05): the effect is E for all
 *   realistic          tier, past_engagement_score (0-100, two decimals),
 *                      account_age_months and feature_usage_count (counts):
 *                      opt-in logistic in the three, completion rising with
 *                      score and usage; the effect is E x .5/1/1.75 by tier
 *   hidden-confounder  the reference plus a latent trait (reads the release
 *                      notes, 30% of users) that raises opt-in (log-odds
 *                      + 1.5 S) and completion (+ .15 S); the column
 *                      `motivation` only with reveal
 *   no-overlap         the reference plus account_type: admins switched the
 *                      feature on for every user of enterprise accounts (10%,
 *                      opt-in .99) and off for restricted ones (10%, .01),
 *                      whose completion differs (+/- .10)
 *   misspecified       opt-in depends on tier x query_confidence (heavy users
 *                      with complex queries, low confidence, opt in; light
 *                      ones pass), and so does completion
 *   spillover          users in workspaces (workspace_id; sizes 2 to 300,
 *                      Pareto), a workspace's culture shifts opt-in, and each
 *                      teammate's opt-in raises a user's completion: + G x
 *                      the share of the user's teammates who opted in. The
 *                      truth is the direct effect E.
 *
 * Ownership: a gendata is the caller's (gendata_new, gendata_free); the
 * table is the caller's, rows are appended to it. (rule: base/README.md) */
#ifndef PSFLOW_GENDATA_H
#define PSFLOW_GENDATA_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "table.h"

typedef enum {
	SCENARIO_REFERENCE,
	SCENARIO_REALISTIC,
	SCENARIO_HIDDEN_CONFOUNDER,
	SCENARIO_NO_OVERLAP,
	SCENARIO_MISSPECIFIED,
	SCENARIO_SPILLOVER,
	SCENARIO_COUNT
} gendata_scenario;

typedef struct {
	uint64_t rows;
	uint64_t seed;
	double effect;               /* E */
	gendata_scenario scenario;
	double confounding;          /* hidden-confounder: S (1: the default) */
	int reveal;                  /* hidden-confounder: the column motivation */
	double spillover;            /* spillover: G (0.1: the default) */
} gendata_opts;

const char *gendata_scenario_name(gendata_scenario s);
/* 0, or -1 for a name that is none of them. */
int gendata_scenario_parse(const char *name, gendata_scenario *s);

/* The roles a scenario's stream comes with. */
const char *gendata_treatment(void);
const char *gendata_outcome(void);
const char *gendata_covariates(gendata_scenario s); /* a -x spec */

typedef struct gendata gendata;

gendata *gendata_new(const gendata_opts *g);
void gendata_free(gendata *gen);
/* The scenario's columns, added to t. */
void gendata_schema(const gendata *gen, table *t);
/* Appends the next n users to t (whose columns gendata_schema made); tau,
 * when not NULL, receives each one's own effect of opting in. */
void gendata_fill(gendata *gen, table *t, size_t n, double *tau);

#endif
