/* nnmatch — nearest-neighbour matching of treated units to controls on one
 * distance (the propensity or its logit), for the ATT.
 *
 * Each treated unit gets its k nearest controls; of controls equally far:
 * TIES_ALL takes every one tied at the k-th distance (each sharing the
 * weight), TIES_FIRST the lowest row, TIES_MATCHIT the one next to the unit
 * in MatchIt's order of all units by distance value then row (the nearer
 * side first, the smaller value on a tie: MatchIt's find_left/find_right).
 * Each of a unit's m matches carries weight 1/m. Controls beyond the
 * caliper are never matched; a treated unit with none in reach is
 * unmatched and left out. With replacement a control may serve many
 * treated units; without, as MatchIt, in k rounds of one control each:
 * treated units served greedily from the largest distance value down
 * (m.order = "largest"; equal values lowest row first) and each control
 * used once, so a short supply of controls cuts the last rounds.
 * Controls are sorted once and searched: O(n log n).
 *
 * The standard error is Abadie and Imbens' (2006) for the ATT with a
 * homoskedastic conditional variance, as R's Matching (Var.calc = 0):
 *   s2  = 1/2 sum_pairs w (tau_pair - est)^2 / sum_pairs w
 *   var = [s2 sum_controls (K_j^2 - KK_j) + sum_treated (tau_i - est)^2] / N1^2
 * K_j the sum of control j's weights, KK_j the sum of their squares.
 *
 * Ownership: arrays are borrowed and w is the caller's; an nnmatch_work is
 * the caller's, reused across calls (nnmatch_work_free). (rule: base/README.md) */
#ifndef PSFLOW_NNMATCH_H
#define PSFLOW_NNMATCH_H

#include <stddef.h>
#include <stdint.h>

#include "rowblock.h"

typedef enum { TIES_ALL, TIES_FIRST, TIES_MATCHIT } ties_rule;

typedef struct {
	int k;
	int replace;
	double caliper; /* absolute width on the distance scale; <= 0: none */
	ties_rule ties;
} nnmatch_opts;

typedef struct {
	double estimate, se;
	size_t treated_matched, treated_unmatched, controls_used;
	size_t pairs;
} nnmatch_result;

/* Working memory for nnmatch_att_cells, nnmatch_att and the AI 2016
 * adjustment, kept from call to call: boot matches every replicate, and its
 * threads should not take turns at malloc; match's adjustment reuses the
 * pages its matching touched (fresh pages cost a VM about a second a GB).
 * Start it as { 0 }; give it back with nnmatch_work_free. */
typedef struct {
	void *mem;
	size_t size;
} nnmatch_work;

void nnmatch_work_free(nnmatch_work *work);

/* d, t, y for n units; w (n) receives the match weights: 1 for a matched
 * treated unit, the sum of its shares for a control, 0 otherwise. work:
 * NULL, or memory to reuse (nnmatch_work, below). Returns 0, or -1 when no
 * treated unit could be matched. */
int nnmatch_att(const double *d, const uint8_t *t, const double *y, size_t n,
    const nnmatch_opts *o, double *w, nnmatch_result *r, nnmatch_work *work);
/* The same without replacement, with each unit's matched set into set
 * (n): the number of its treated unit in matching order, the same for the
 * treated unit and its controls, -1 for the unmatched. -2 (nothing done)
 * with replacement, where a control can serve several sets. */
int nnmatch_att_sets(const double *d, const uint8_t *t, const double *y, size_t n,
    const nnmatch_opts *o, double *w, nnmatch_result *r, int64_t *set);

/* A matching problem in full: the distance d (the score: it orders the
 * treated units, bounds the caliper, and is what is matched on unless Z is
 * given), within strata (stratum: rows match only rows of equal value,
 * MatchIt's exact; NULL: one stratum), on the Euclidean distance of Z (n x
 * q, column-major), the covariates whitened for the Mahalanobis distance
 * (nnmatch_mahalanobis), with the caliper still on d: MatchIt's mahvars.
 * On Z the search is exhaustive, O(n1 n0 q); of equally near controls the
 * lowest row comes first (TIES_ALL: all tied with the k-th). */
typedef struct {
	const double *d;
	const uint8_t *t;
	const double *y;
	size_t n;
	const int64_t *stratum;
	const double *Z;
	int q;
} nnmatch_problem;

/* The matched pairs, in the order found: control[i] serves treated[i] with
 * weight[i] (1/m for a treated unit's m controls). Owned (nnmatch_pairs_free). */
typedef struct {
	size_t *treated, *control;
	double *weight;
	size_t n;
} nnmatch_pairs;
void nnmatch_pairs_free(nnmatch_pairs *p);

/* nnmatch_att for the problem, the sets (without replacement; set may be
 * NULL, and is not touched with replacement) and the pairs (NULL: not
 * wanted) too. Returns 0, or -1 when no treated unit could be matched. */
int nnmatch_att_problem(const nnmatch_problem *pb, const nnmatch_opts *o, double *w,
    nnmatch_result *r, int64_t *set, nnmatch_pairs *pairs);

/* The Mahalanobis distance as a Euclidean one: Z (n x q, column-major) is
 * X (n x q) times the inverse of the Cholesky factor of the pooled
 * within-group covariance (each group centred on its own means; divisor
 * n - 2), as MatchIt's mahalanobis_dist. Returns 0, or -1 when the
 * covariance is singular (a constant covariate, or one a combination of
 * others). */
int nnmatch_mahalanobis(const double *X, const uint8_t *t, size_t n, int q, double *Z);

/* Abadie & Imbens (2016)'s adjustment of the ATT's variance for matching
 * on a logistic propensity estimated first (what Stata's teffects psmatch
 * reports): Var = Var_AI2006 + (d' I^-1 d - c' I^-1 c) / N with
 *   I = mean over units of e(1-e) x x'                (the logit's information)
 *   d = (1/N1) sum_i e_i(1-e_i) x_i (Y_i(1) - Y_i(0) - tau)
 *   c = (1/N1) sum_i e_i(1-e_i) [cov1_i + e_i/(1-e_i) cov0_i]
 * Y_i(w) the unit's outcome in its own group, else the mean of its m
 * nearest units of group w on the propensity; covw_i the sample covariance
 * of x and y over the l units of group w nearest to e_i. The covariates x
 * (p of them, intercept first, at most 64) come from rows(ctx, first,
 * count, X), which fills X (count x p, column-major) with the covariates
 * of rows [first, first + count): a block at a time, in the rows' order, so
 * no n x p matrix is needed; its arrays of a row each in work (NULL, or
 * the memory the matching used before it). Returns 0
 * with *adjustment; -1 when I is singular, a group has fewer than l units
 * or p is past 64; -2 when rows() failed (its context says why). */
int nnmatch_ai2016_adjustment(const double *ps, const uint8_t *t, const double *y,
    row_block_fn rows, void *ctx, size_t n, int p, int m, int l, double tau,
    double *adjustment, nnmatch_work *work);

/* k = 1 with replacement and every tie used: the match set of a treated
 * unit is the nearest block of controls with one distance value, or the two
 * nearest when they are equally far, so a block can be handled as a whole:
 * O(n log n) however many controls share a propensity, and units with the
 * same distance and treatment can come as one cell. Is o such a matching? */
int nnmatch_by_blocks(const nnmatch_opts *o);

/* Cells of units with one treatment and distance value: count[i] units
 * (NULL: one each) whose outcomes sum to ysum[i] and their squares to
 * ysq[i] (with count NULL: ysum[i]^2; with count and ysq NULL the standard
 * error is not computed, NaN). boot's resamples come this way: a row drawn
 * three times is a cell of 3 units. */
typedef struct {
	const uint8_t *t;
	const double *d, *count, *ysum, *ysq;
	size_t n;
} nnmatch_cells;


/* nnmatch_att() for a matching nnmatch_by_blocks() accepts, on cells; w[i]
 * receives the weight of each unit of cell i (w NULL: not wanted). Numbers
 * as unit by unit (counts in r in units; without ysq, as boot calls it for
 * the estimate alone, no standard error and no controls_used). work: NULL,
 * or memory to reuse. */
int nnmatch_att_cells(const nnmatch_cells *c, const nnmatch_opts *o, double *w,
    nnmatch_result *r, nnmatch_work *work);

/* The distance matching uses (ps, or its logit when on_logit) of n rows of
 * one unit each (count NULL) or count[i] units each, into d, and the
 * caliper width on that scale: caliper_sd SDs of the distance over the
 * units (MatchIt's std.caliper), 0 for none. d may be NULL when the
 * distance is ps itself (!on_logit): the caller matches on ps, and only
 * the width is made (match at a hundred million rows saves 800 MB).
 * Returns 0, -1 when a distance is not finite with the row in *bad_row,
 * or -2 for a NULL d with on_logit. */
int nnmatch_distance(int on_logit, double caliper_sd, const double *ps,
    const double *count, size_t n, double *d, double *caliper_width, size_t *bad_row);

#endif
