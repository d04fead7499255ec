/* ipw — inverse-probability weights and the normalised (Hajek) effect.
 *
 * Weights, for treatment t and propensity e:
 *   ate  t/e + (1-t)/(1-e)        att  t + (1-t) e/(1-e)
 *   atc  t (1-e)/e + (1-t)        ato  t (1-e) + (1-t) e   (overlap)
 * The effect is the difference of the weighted outcome means of the two
 * groups, each normalised by its own sum of weights. Its standard error
 * linearises each mean with the weights held fixed:
 *   var(mean_g) = sum_g w_i^2 (y_i - mean_g)^2 / (sum_g w_i)^2
 * which ignores that the propensities were estimated (boot's intervals
 * include that).
 *
 * Ownership: every array is the caller's; accumulators and summaries are
 * values. (rule: base/README.md) */
#ifndef PSFLOW_IPW_H
#define PSFLOW_IPW_H

#include <stddef.h>
#include <stdint.h>

typedef enum { EST_ATE, EST_ATT, EST_ATC, EST_ATO, EST_COUNT } estimand;

const char *estimand_name(estimand e);
int estimand_parse(const char *name, estimand *e); /* 0 ok, -1 unknown */

/* The weight of one unit; infinite when e is 0 or 1 and the unit needs 1/e
 * or 1/(1-e). Every estimand's weight is (a + b e) / (c + d e) with a, b,
 * c, d in {-1, 0, 1}, so one branch-free form gives exactly the textbook
 * values (1/e, 1/(1-e), e/(1-e), (1-e)/e, 1-e, e, 1: adding 0 and dividing
 * by 1 change no bit). Inline: boot weighs every cell of every replicate.
 * e must be a real estimand (not EST_COUNT). */
static const double ipw_form[EST_COUNT][2][4] = {
	/*            control            treated */
	[EST_ATE] = { { 1, 0, 1, -1 }, { 1, 0, 0, 1 } },  /* 1/(1-e), 1/e */
	[EST_ATT] = { { 0, 1, 1, -1 }, { 1, 0, 1, 0 } },  /* e/(1-e), 1 */
	[EST_ATC] = { { 1, 0, 1, 0 }, { 1, -1, 0, 1 } },  /* 1, (1-e)/e */
	[EST_ATO] = { { 0, 1, 1, 0 }, { 1, -1, 1, 0 } },  /* e, 1-e */
};

static inline double
ipw_weight(estimand e, int treated, double ps)
{
	const double *f = ipw_form[e][treated != 0];

	return (f[0] + f[1] * ps) / (f[2] + f[3] * ps);
}

typedef struct {
	double estimate, se;
	double mean[2];   /* weighted outcome mean: [0] controls, [1] treated */
	double sum_w[2];
	double ess[2];    /* (sum w)^2 / sum w^2 */
	double max_w[2];
	size_t n[2];      /* units in each group */
	size_t zero_w[2]; /* of them with weight 0 */
} ipw_summary;

/* Returns 0, or -1 when a group's weights sum to 0 (nothing to compare). */
int ipw_effect(const double *w, const uint8_t *t, const double *y, size_t n,
    ipw_summary *s);

/* The same, a batch at a time: sums kept per group (outcomes shifted by the
 * group's first value, so the variance sums do not cancel), finished into
 * the summary at the end. ipw_effect() is init, one add, finish. */
typedef struct {
	double sum_w[2], sum_wy[2], sum_w2[2], sum_w2d[2], sum_w2d2[2];
	double shift[2], max_w[2];
	size_t n[2], zero_w[2];
	int shifted[2];
} ipw_accum;

void ipw_accum_init(ipw_accum *a);
void ipw_accum_add(ipw_accum *a, const double *w, const uint8_t *t, const double *y,
    size_t n);
int ipw_accum_finish(const ipw_accum *a, ipw_summary *s);

/* w[i] = ipw_weight(e, t[i], ps[i]) for the n units; returns 0, or -1 when
 * a weight is infinite. */
int ipw_weights(estimand e, const uint8_t *t, const double *ps, size_t n, double *w);

/* The effect alone, on cells of units with one treatment and weight:
 * count[i] units whose outcomes sum to ysum[i], each of weight w[i] (w
 * NULL: 1, the naive difference in means). boot's replicates. Returns 0,
 * or -1 when a group's weights sum to 0. */
int ipw_estimate_cells(const double *w, const uint8_t *t, const double *count,
    const double *ysum, size_t n, double *estimate);

/* ipw_weights then ipw_estimate_cells for k <= IPW_FORMED_MAX weightings
 * in one pass over the cells, with the same bits, the weights never
 * stored: e[q] an estimand, or (e[0] only) EST_COUNT for weights of 1 (the
 * naive difference, made without a division). k >= 1, each estimand once. boot's replicates, where the cells are read once for all of
 * weight's estimates instead of twice for each. status[q]: 0, or
 * IPW_INFINITE_WEIGHT (estimate[q] NaN) when a weight is infinite, or
 * IPW_ZERO_WEIGHT when a group's weights sum to 0. ps must be in [0, 1]. */
enum { IPW_FORMED_MAX = EST_COUNT + 1, IPW_ZERO_WEIGHT = -1, IPW_INFINITE_WEIGHT = -2 };
void ipw_estimates_cells(const estimand *e, int k, const uint8_t *t, const double *ps,
    const double *count, const double *ysum, size_t n, double *estimate, int *status);

/* Caps each group's weights at their q-quantile (R's type 7) among its
 * units with positive weight; returns how many weights were capped. */
size_t ipw_truncate(double *w, const uint8_t *t, size_t n, double q);

/* Positivity: how many units of each group have a propensity outside the
 * band [lo, hi] (0.05 and 0.95 by default), a batch at a time. */
typedef struct {
	double lo, hi;
	double n[2], outside[2]; /* units: [0] controls, [1] treated */
} ipw_positivity;

void ipw_positivity_init(ipw_positivity *p, double lo, double hi);
/* n units (count NULL: one each, else count[i] each). */
void ipw_positivity_add(ipw_positivity *p, const uint8_t *t, const double *ps,
    const double *count, size_t n);
/* The share of group g outside the band (0 for an empty group). */
double ipw_positivity_share(const ipw_positivity *p, int g);

/* What weight does to the weights after computing them: trimming (units
 * with ps outside [trim_lo, trim_hi] get 0, when trim_hi > 0), ATE
 * stabilisation (times the share of the unit's group), truncation (each
 * group's weights capped at their truncate_q-quantile, when > 0). */
typedef struct {
	double trim_lo, trim_hi;
	int trim_auto;      /* the band from Crump et al.'s rule (ipw_resolve) */
	double truncate_q;
	int stabilize;
} ipw_opts;

/* Crump, Hotz, Imbens and Mitnik (2009, Biometrika)'s optimal trimming for
 * the ATE: the units with e outside [alpha, 1 - alpha] are left out, alpha
 * = 1/2 - sqrt(1/4 - 1/gamma) with gamma = 2 E[g | g <= gamma], g =
 * 1/(e(1-e)): the band that minimises the sample analogue of the variance
 * bound, E[g; kept] / P(kept)^2, over the cut-offs in g (0 when keeping all
 * is best: about when max g <= 2 mean g). Where discrete propensities give
 * the equation several roots, the one of least variance. Units with e of 0
 * or 1 are always left out. Over n units of one each (count NULL) or
 * count[i] each; equal g are summed as one value times its count, so rows
 * and cells of the same units give the same bits. */
double ipw_crump_alpha(const double *ps, const double *count, size_t n);
/* The options with trim_auto replaced by the band Crump's rule gives on
 * these units (trim_hi 0: none). */
ipw_opts ipw_resolve(const ipw_opts *o, const double *ps, const double *count, size_t n);

/* A common-support rule: the band of propensities whose units every later
 * stage keeps (fitps --common-support; weight --trim sets a fixed or a
 * Crump band the same way).
 *   minmax  [max(min treated, min control), min(max treated, max control)]:
 *           MatchIt's discard = "both" (a treated unit outside the
 *           controls' range, a control outside the treated units')
 *   crump   [alpha, 1 - alpha] by ipw_crump_alpha ([0, 1]: keep all)
 *   fixed   the given band */
typedef enum { SUPPORT_NONE, SUPPORT_MINMAX, SUPPORT_CRUMP, SUPPORT_FIXED } support_rule;

const char *support_rule_name(support_rule r); /* "minmax", "crump", "fixed" */
/* The band of the rule on n units (count NULL: one each, else count[i]
 * each; a cell of count 0 is no unit), into band[2]: inside is band[0] <=
 * ps <= band[1]. Returns 0, or -1 when minmax has a group without units. */
int ipw_support_band(support_rule rule, const double fixed[2], const uint8_t *t,
    const double *ps, const double *count, size_t n, double band[2]);

/* The weights of one estimand after the options, for n rows of one unit
 * each (count NULL) or count[i] units each (boot's cells; not with
 * truncation, whose quantile is over units), with the units trimmed per
 * group in trimmed[2] and capped weights in *capped. Returns 0; -1 when a
 * unit left in has an infinite weight (its row in *bad_row); -2 when asked
 * to truncate cells. The weight stage and boot's replay both call it. */
int ipw_adjusted_weights(const ipw_opts *o, estimand e, const uint8_t *t,
    const double *ps, const double *count, size_t n, double *w, size_t trimmed[2],
    size_t *capped, size_t *bad_row);

#endif
