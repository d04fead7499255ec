/* nnmatch: matching with ties, caliper and without replacement, by hand.
 *
 * controls (d, y): c0 (.25, 0)  c1 (.5, 1)  c2 (.5, 0)  c3 (1, 1)
 * treated  (d, y): t0 (.5, 1)  t1 (.75, 1)  t2 (1.0625, 0)
 * (distances exactly representable in binary, so that the three-way tie
 * of t1 is a tie: .7 - .5 and .9 - .7 would not be equal)
 * ties all, k = 1:
 *   t0 -> c1, c2 (both at 0): tau = 1 - 1/2 = 1/2
 *   t1 -> c1, c2 at .25 and c3 at .25 (all tie): tau = 1 - 2/3 = 1/3
 *   t2 -> c3 (.0625): tau = 0 - 1 = -1
 *   ATT = (1/2 + 1/3 - 1) / 3 = -1/18
 *   w: c0 0, c1 1/2 + 1/3, c2 1/2 + 1/3, c3 1/3 + 1
 * Cells: the same units as (t, d) cells with counts and outcome sums give
 * the same estimate and standard error as the rows one by one (t0 twice and
 * c1, c2 merged into one cell of 2). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "nnmatch.h"

/* A model matrix held whole (n x p, column-major), handed out by blocks as
 * nnmatch_ai2016_adjustment takes it; fail: refuse (as a missing value). */
typedef struct {
	const double *X;
	size_t n;
	int p, fail;
} fixed_rows;

static int
rows_of(void *ctx, size_t first, size_t count, double *X)
{
	const fixed_rows *f = ctx;

	if (f->fail)
		return 1;
	for (int a = 0; a < f->p; a++)
		for (size_t i = 0; i < count; i++)
			X[(size_t)a * count + i] = f->X[(size_t)a * f->n + first + i];
	return 0;
}

int
main(void)
{
	/* rows: c0 c1 c2 c3 t0 t1 t2 */
	const double y[7] = { 0, 1, 0, 1, 1, 1, 0 };
	const uint8_t t[7] = { 0, 0, 0, 0, 1, 1, 1 };
	nnmatch_opts o = { .k = 1, .replace = 1, .caliper = 0, .ties = TIES_ALL };
	nnmatch_result r;
	double w[7];

	const double d[7] = { .25, .5, .5, 1.0, .5, .75, 1.0625 };

	CHECK(nnmatch_att(d, t, y, 7, &o, w, &r, NULL) == 0, "matches");
	CHECK_NEAR(r.estimate, -1.0 / 18, 1e-12, "ATT with all ties = -1/18");
	CHECK_NEAR(w[1], 0.5 + 1.0 / 3, 1e-12, "c1 weight = 1/2 + 1/3");
	CHECK_NEAR(w[3], 1.0 / 3 + 1, 1e-12, "c3 weight = 1/3 + 1");
	CHECK(w[0] == 0 && w[4] == 1, "unused control 0, matched treated 1");
	CHECK(r.treated_matched == 3 && r.controls_used == 3 && r.pairs == 6,
	    "3 treated matched, 3 controls used, 6 pairs");
	{
		/* AI variance by hand: est = -1/18;
		 * pairs (w, tau): t0: (1/2, 1) (1/2, 0); t1: (1/3, 0) (1/3, 1) (1/3, 0);
		 * t2: (1, -1). s2 = 1/2 sum w (tau - est)^2 / 3.
		 * K: c1 5/6, c2 5/6, c3 4/3; KK: c1 1/4+1/9, c2 1/4+1/9, c3 1/9+1 */
		double e = -1.0 / 18, s2, vc, vt;

		s2 = 0.5 * (0.5 * pow(1 - e, 2) + 0.5 * pow(0 - e, 2) +
		    (2.0 / 3) * pow(0 - e, 2) + (1.0 / 3) * pow(1 - e, 2) + pow(-1 - e, 2)) / 3;
		vc = 2 * (25.0 / 36 - (0.25 + 1.0 / 9)) + (16.0 / 9 - (1.0 / 9 + 1));
		vt = pow(0.5 - e, 2) + pow(1.0 / 3 - e, 2) + pow(-1 - e, 2);
		CHECK_NEAR(r.se, sqrt((s2 * vc + vt) / 9), 1e-12, "Abadie-Imbens SE by hand");
	}
	o.ties = TIES_FIRST;
	nnmatch_att(d, t, y, 7, &o, w, &r, NULL);
	/* t0 -> c1 (lower row of the tie), t1 -> c1 (tie .25 on both sides,
	 * lower row), t2 -> c3: ATT = ((1-1) + (1-1) + (0-1)) / 3 */
	CHECK_NEAR(r.estimate, -1.0 / 3, 1e-12, "ties first: lowest row wins");
	o.ties = TIES_ALL;
	o.caliper = 0.1;
	nnmatch_att(d, t, y, 7, &o, w, &r, NULL);
	CHECK(r.treated_matched == 2 && r.treated_unmatched == 1 && w[5] == 0,
	    "caliper .1 leaves t1 (nearest at .25) unmatched");
	o.caliper = 0.01;
	CHECK(nnmatch_att((const double[]){ .1, .2, .8, .9 }, (const uint8_t[]){ 0, 0, 1, 1 },
	    y, 4, &o, w, &r, NULL) == -1, "no control within the caliper: -1");
	o = (nnmatch_opts){ .k = 1, .replace = 0, .ties = TIES_FIRST };
	nnmatch_att(d, t, y, 7, &o, w, &r, NULL);
	/* greedy from the largest: t2 (1.0625) -> c3; t1 (.75) -> c1 (tie with
	 * c2 at .25, lower row); t0 (.5) -> c2 */
	CHECK(w[3] == 1 && w[1] == 1 && w[2] == 1 && w[0] == 0,
	    "without replacement each control serves once");
	CHECK_NEAR(r.estimate, ((0 - 1) + (1 - 1) + (1 - 0)) / 3.0, 1e-12,
	    "without replacement: ATT 0");
	{
		/* more treated than controls without replacement: the rest unmatched */
		double ww[3];

		nnmatch_att((const double[]){ .5, .4, .6 }, (const uint8_t[]){ 0, 1, 1 },
		    (const double[]){ 0, 1, 1 }, 3, &o, ww, &r, NULL);
		CHECK(r.treated_matched == 1 && r.treated_unmatched == 1,
		    "one control, two treated: one unmatched");
	}
	{
		/* no two controls at one value. t0 (.3125) is as far from c0 (.125) as from
		 * c1 (.5), so both serve it, a half each; t1 (.6875) has c2 (.75) */
		const double d3[5] = { .125, .5, .75, .3125, .6875 }, y3[5] = { 0, 1, 0, 1, 1 };
		const uint8_t t3[5] = { 0, 0, 0, 1, 1 };
		/* the same, with two tied controls no treated unit is near (at
		 * .9375): none of the numbers move */
		const double d5[7] = { .125, .5, .75, .3125, .6875, .9375, .9375 };
		const double y5[7] = { 0, 1, 0, 1, 1, 1, 0 };
		const uint8_t t5[7] = { 0, 0, 0, 1, 1, 0, 0 };
		double w3[5], w5[7];
		nnmatch_result r3, r5;

		o = (nnmatch_opts){ .k = 1, .replace = 1, .caliper = 0, .ties = TIES_ALL };
		CHECK(nnmatch_att(d3, t3, y3, 5, &o, w3, &r3, NULL) == 0 &&
		    nnmatch_att(d5, t5, y5, 7, &o, w5, &r5, NULL) == 0,
		    "controls at distinct values, and with a tie: both match");
		CHECK_NEAR(r3.estimate, ((1 - .5) + (1 - 0)) / 2, 1e-15,
		    "  ... ATT (1 - (0 + 1)/2 + 1 - 0) / 2 = 3/4");
		CHECK(w3[0] == .5 && w3[1] == .5 && w3[2] == 1 && w3[3] == 1 && w3[4] == 1,
		    "  ... weights a half for c0 and c1, 1 for c2 and the treated");
		CHECK(r3.controls_used == 3 && r3.pairs == 3 && r3.treated_matched == 2,
		    "  ... 3 controls used, 3 pairs, 2 treated matched");
		CHECK(r3.estimate == r5.estimate && r3.se == r5.se && isfinite(r3.se) &&
		    memcmp(w3, w5, sizeof w3) == 0 && w5[5] == 0 && w5[6] == 0 &&
		    r3.controls_used == r5.controls_used,
		    "  ... the same bits with far tied controls, weights 0 for them");
	}
	{
		/* units: the seven rows plus a second copy of t0, as cells */
		const double dr[8] = { .25, .5, .5, 1.0, .5, .75, 1.0625, .5 };
		const double yr[8] = { 0, 1, 0, 1, 1, 1, 0, 1 };
		const uint8_t tr[8] = { 0, 0, 0, 0, 1, 1, 1, 1 };
		/* cells: c0; c1+c2; c3; t0 x2; t1; t2; and an empty one */
		const uint8_t tc[7] = { 0, 0, 0, 1, 1, 1, 0 };
		const double dc[7] = { .25, .5, 1.0, .5, .75, 1.0625, .6 };
		const double count[7] = { 1, 2, 1, 2, 1, 1, 0 };
		const double ysum[7] = { 0, 1, 1, 2, 1, 0, 0 };
		const double ysq[7] = { 0, 1, 1, 2, 1, 0, 0 };
		nnmatch_cells cells = { tc, dc, count, ysum, ysq, 7 };
		nnmatch_result rr, rc;

		o = (nnmatch_opts){ .k = 1, .replace = 1, .caliper = 0, .ties = TIES_ALL };
		double wr[8], wc[7];

		CHECK(nnmatch_att(dr, tr, yr, 8, &o, wr, &rr, NULL) == 0 &&
		    nnmatch_att_cells(&cells, &o, wc, &rc, NULL) == 0, "rows and cells both match");
		CHECK_NEAR(rc.estimate, rr.estimate, 1e-12, "cells: the rows' estimate");
		CHECK_NEAR(rc.se, rr.se, 1e-12, "cells: the rows' standard error");
		CHECK(rc.treated_matched == 4 && rc.controls_used == 3 && rr.controls_used == 3 &&
		    rc.pairs == rr.pairs,
		    "cells: counts in units (4 treated, 3 controls used)");
		CHECK_NEAR(wc[1], wr[1], 1e-12, "cells: a control cell's weight is its units'");
		cells.ysq = NULL;
		CHECK(nnmatch_att_cells(&cells, &o, wc, &rc, NULL) == 0 && isnan(rc.se) &&
		    fabs(rc.estimate - rr.estimate) < 1e-12,
		    "cells without ysq: the estimate, and no standard error");
		CHECK(nnmatch_att_cells(&cells, &o, NULL, &rc, NULL) == 0 &&
		    fabs(rc.estimate - rr.estimate) < 1e-12,
		    "cells without weights wanted (w NULL): the estimate");

		/* the same cells already in order of distance and none empty (as
		 * boot's mostly come: taken as they are, not sorted), the tie at
		 * .5 with the control cell first and then the treated one first,
		 * in working memory kept from call to call */
		{
			const uint8_t t_ctl_first[6] = { 0, 0, 1, 1, 0, 1 };
			const uint8_t t_trt_first[6] = { 0, 1, 0, 1, 0, 1 };
			const double d6[6] = { .25, .5, .5, .75, 1.0, 1.0625 };
			const double c_ctl[6] = { 1, 2, 2, 1, 1, 1 }, y_ctl[6] = { 0, 1, 2, 1, 1, 0 };
			const double c_trt[6] = { 1, 2, 2, 1, 1, 1 }, y_trt[6] = { 0, 2, 1, 1, 1, 0 };
			const double q_ctl[6] = { 0, 1, 2, 1, 1, 0 }, q_trt[6] = { 0, 2, 1, 1, 1, 0 };
			nnmatch_cells a = { t_ctl_first, d6, c_ctl, y_ctl, q_ctl, 6 };
			nnmatch_cells b = { t_trt_first, d6, c_trt, y_trt, q_trt, 6 };
			nnmatch_work work = { 0 };
			nnmatch_result ra, rb;
			double wa[6], wb[6];

			CHECK(nnmatch_att_cells(&a, &o, wa, &ra, &work) == 0 &&
			    nnmatch_att_cells(&b, &o, wb, &rb, &work) == 0,
			    "cells in order, kept working memory: both match");
			CHECK(fabs(ra.estimate - rr.estimate) < 1e-12 &&
			    fabs(rb.estimate - rr.estimate) < 1e-12 &&
			    fabs(ra.se - rr.se) < 1e-12 && fabs(rb.se - rr.se) < 1e-12,
			    "  ... the rows' estimate and standard error, either tie order");
			CHECK(ra.treated_matched == 4 && rb.treated_matched == 4 &&
			    ra.controls_used == 3 && rb.controls_used == 3,
			    "  ... the rows' counts");
			CHECK(fabs(wa[1] - wr[1]) < 1e-12 && fabs(wb[2] - wr[1]) < 1e-12 &&
			    fabs(wa[4] - wr[3]) < 1e-12 && fabs(wb[4] - wr[3]) < 1e-12,
			    "  ... the control cells' weights");
			nnmatch_work_free(&work);
		}
	}
	{
		/* nnmatch_att collapses rows that share treatment and distance into
		 * cells when there are few such pairs (here 6 among 400 rows): the
		 * same numbers as the rows one by one (nnmatch_att_cells, one cell
		 * per row), and the same weight for every row */
		enum { N = 400 };
		const double level[3] = { .2, .35, .6 };
		double dn[N], yn[N], wa[N], wb[N];
		uint8_t tn[N];
		nnmatch_cells rows = { tn, dn, NULL, yn, NULL, N };
		nnmatch_result ra, rb;
		int same_w = 1;

		o = (nnmatch_opts){ .k = 1, .replace = 1, .caliper = 0, .ties = TIES_ALL };
		for (int i = 0; i < N; i++) {
			tn[i] = (uint8_t)(i % 3 == 0 || i % 7 == 0);
			dn[i] = level[(i / 5) % 3] + (tn[i] && i % 2 ? 0.01 : 0);
			yn[i] = (i * 37 % 11) / 10.0 + tn[i];
		}
		CHECK(nnmatch_att(dn, tn, yn, N, &o, wa, &ra, NULL) == 0 &&
		    nnmatch_att_cells(&rows, &o, wb, &rb, NULL) == 0, "collapsed rows match");
		CHECK_NEAR(ra.estimate, rb.estimate, 1e-12, "collapsed: the rows' estimate");
		CHECK_NEAR(ra.se, rb.se, 1e-12, "collapsed: the rows' standard error");
		CHECK(ra.treated_matched == rb.treated_matched &&
		    ra.controls_used == rb.controls_used && ra.pairs == rb.pairs,
		    "collapsed: the rows' counts");
		for (int i = 0; i < N; i++)
			same_w &= fabs(wa[i] - wb[i]) < 1e-12;
		CHECK(same_w, "collapsed: every row's weight");
	}
	{
		/* nnmatch_distance: ps .5, .2, .8 with counts 2, 1, 1 (4 units).
		 * On the logit: 0, -log 4, log 4; mean over units 0; SD over
		 * units sqrt((2 log^2 4) / 3); caliper 0.5 SDs of that. */
		const double ps[3] = { .5, .2, .8 }, count[3] = { 2, 1, 1 };
		double dd[3], width = -1, l4 = log(4);
		size_t bad = 99;

		CHECK(nnmatch_distance(1, 0.5, ps, count, 3, dd, &width, &bad) == 0 &&
		    dd[0] == 0 && fabs(dd[1] + l4) < 1e-15 && fabs(dd[2] - l4) < 1e-15,
		    "nnmatch_distance: logit of .5, .2, .8 is 0, -log 4, log 4");
		CHECK_NEAR(width, 0.5 * sqrt(2 * l4 * l4 / 3), 1e-15,
		    "nnmatch_distance: caliper 0.5 SD over units, counts weighing");
		CHECK(nnmatch_distance(0, 0, ps, NULL, 3, dd, &width, &bad) == 0 && width == 0 &&
		    dd[1] == .2, "nnmatch_distance: on ps, no caliper: width 0");
		CHECK(nnmatch_distance(1, 0, (const double[]){ .3, 1 }, NULL, 2, dd, &width,
		    &bad) == -1 && bad == 1, "nnmatch_distance: ps 1 has no logit: row 1");
	}
	{
		/* MatchIt's rounds without replacement: t0 (d .875) and t1 (.75),
		 * controls c0 (.8125, y 1) and c1 (.5, y 0), k = 2. Round 1: t0
		 * (largest first) takes c0, t1 takes c1; round 2: none is left. All
		 * K at once would give t0 both and leave t1 unmatched. */
		const double d2[4] = { .875, .75, .8125, .5 }, y2[4] = { 1, 1, 1, 0 };
		const uint8_t t2[4] = { 1, 1, 0, 0 };
		int64_t set[4];
		nnmatch_opts no = { .k = 2, .replace = 0, .ties = TIES_FIRST };

		CHECK(nnmatch_att_sets(d2, t2, y2, 4, &no, w, &r, set) == 0 &&
		    r.treated_matched == 2 && r.treated_unmatched == 0,
		    "no replacement, k 2: rounds give every treated unit a first control");
		CHECK(set[0] == 0 && set[2] == 0 && set[1] == 1 && set[3] == 1,
		    "  ... t0 with c0 (set 0), t1 with c1 (set 1)");
		CHECK_NEAR(r.estimate, ((1 - 1) + (1 - 0)) / 2.0, 1e-15, "  ... ATT (0 + 1) / 2");
	}
	{
		/* equal scores among the treated: the lowest row is served first
		 * (R's order(decreasing = TRUE)); one control for two */
		const double d2[3] = { .5, .5, .5 }, y2[3] = { 1, 0, 0 };
		const uint8_t t2[3] = { 1, 1, 0 };
		int64_t set[3];
		nnmatch_opts no = { .k = 1, .replace = 0, .ties = TIES_FIRST };

		CHECK(nnmatch_att_sets(d2, t2, y2, 3, &no, w, &r, set) == 0 && set[0] == 0 &&
		    set[2] == 0 && set[1] == -1 && w[0] == 1 && w[1] == 0,
		    "treated units with equal scores: row 0 before row 1");
	}
	{
		/* the ties rules: treated t at .5 (row 2) between c0, c1 at .25
		 * (rows 0, 1; y 0, 1) and c3 at .75 (row 3, y 1), all .25 away.
		 * first: the lowest row, c0; matchit: the left side first, and on
		 * it the control next to t in the order by score then row, c1;
		 * all: the three, each 1/3 */
		const double d2[4] = { .25, .25, .5, .75 }, y2[4] = { 0, 1, 1, 1 };
		const uint8_t t2[4] = { 0, 0, 1, 0 };
		nnmatch_opts ro = { .k = 1, .replace = 1, .ties = TIES_FIRST };

		CHECK(nnmatch_att(d2, t2, y2, 4, &ro, w, &r, NULL) == 0 && w[0] == 1 && w[1] == 0 &&
		    w[3] == 0 && r.estimate == 1, "--ties first: the lowest row (c0)");
		ro.ties = TIES_MATCHIT;
		CHECK(nnmatch_att(d2, t2, y2, 4, &ro, w, &r, NULL) == 0 && w[0] == 0 && w[1] == 1 &&
		    w[3] == 0 && r.estimate == 0, "--ties matchit: next to it on the left (c1)");
		ro.k = 2;
		CHECK(nnmatch_att(d2, t2, y2, 4, &ro, w, &r, NULL) == 0 && w[0] == 0.5 && w[1] == 0.5 &&
		    w[3] == 0, "--ties matchit, k 2: then the next on the left (c0), not c3");
		ro = (nnmatch_opts){ .k = 1, .replace = 1, .ties = TIES_ALL };
		CHECK(nnmatch_att(d2, t2, y2, 4, &ro, w, &r, NULL) == 0 && fabs(w[0] - 1.0 / 3) < 1e-15 &&
		    fabs(w[3] - 1.0 / 3) < 1e-15, "--ties all: the three, a third each");
	}
	{
		/* Abadie & Imbens (2016), intercept only (x = 1: every covariance
		 * 0, so c = 0): four units at ps 1/2 (f = 1/4), treated y 1, 3,
		 * controls y 0, 2; m = 1 takes the other group's lowest row. Y(1) -
		 * Y(0): 1 - 0, 3 - 0, 1 - 0, 1 - 2; with tau 2, d = (1/2)(1/4)(-1 + 1
		 * - 1 - 3) = -1/2, I = 1/4: adjustment (d^2 / I) / N = 1/4 */
		const double ps4[4] = { .5, .5, .5, .5 }, y4[4] = { 1, 3, 0, 2 };
		const double x4[4] = { 1, 1, 1, 1 };
		const uint8_t t4[4] = { 1, 1, 0, 0 };
		double adj = -1;
		fixed_rows fx = { x4, 4, 1, 0 };

		CHECK(nnmatch_ai2016_adjustment(ps4, t4, y4, rows_of, &fx, 4, 1, 1, 2, 2, &adj, NULL) == 0 &&
		    fabs(adj - 0.25) < 1e-15, "AI 2016 adjustment by hand: d^2 / I / N = 1/4");
		CHECK(nnmatch_ai2016_adjustment(ps4, t4, y4, rows_of, &fx, 4, 1, 1, 3, 2, &adj, NULL) == -1,
		    "AI 2016: fewer than l units in a group is refused");
		fx.fail = 1;
		CHECK(nnmatch_ai2016_adjustment(ps4, t4, y4, rows_of, &fx, 4, 1, 1, 2, 2, &adj, NULL) == -2,
		    "AI 2016: covariates that cannot be built: -2");
	}
	{
		/* with covariates (so c is not 0), against the definition computed
		 * directly in numpy (each unit's neighbours found by sorting all
		 * distances; np.cov per unit; np.linalg.solve): ten units with
		 * distinct distances, x = (1, x1, x2), m = 1, l = 3, tau = 1.25 */
		const double ps[10] = { .12, .31, .46, .22, .635, .72, .18, .56, .385, .83 };
		const double y[10] = { 1, 2.5, .5, 3, 4, 2, 1.5, 3.5, 0, 5 };
		const double X[30] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
			2, 1, 4, 3, 5, 1.5, 2.5, .5, 3.5, 4.5,
			0, 1, 1, 0, 1, 0, 0, 1, 1, 1 };
		const uint8_t t[10] = { 0, 1, 0, 0, 1, 1, 0, 1, 0, 1 };
		double adj = 0;
		fixed_rows fx = { X, 10, 3, 0 };

		CHECK(nnmatch_ai2016_adjustment(ps, t, y, rows_of, &fx, 10, 3, 1, 3, 1.25, &adj, NULL) == 0 &&
		    fabs(adj - -0.13279663308849582) < 1e-14,
		    "AI 2016 adjustment with two covariates: numpy's -0.1327966330885");
		{ /* in memory a matching has filled with its own numbers */
			nnmatch_work work = { 0 };
			nnmatch_opts one = { .k = 1, .replace = 1, .ties = TIES_ALL };
			nnmatch_result mr;
			double dw[40], yw[40], ww[40], again = 0;
			uint8_t tw[40];

			for (int i = 0; i < 40; i++)
				dw[i] = 0.3 + i * 0.01, yw[i] = i % 7, tw[i] = i % 3 == 0;
			nnmatch_att(dw, tw, yw, 40, &one, ww, &mr, &work);
			memset(work.mem, 0x5a, work.size);
			CHECK(nnmatch_ai2016_adjustment(ps, t, y, rows_of, &fx, 10, 3, 1, 3, 1.25,
			    &again, &work) == 0 && again == adj,
			    "AI 2016 adjustment in a matching's work memory: the same bits");
			nnmatch_work_free(&work);
		}
	}
	CHECK_DONE();
}
