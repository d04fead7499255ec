/* ipw: weights and the Hajek effect on five rows, by hand.
 *
 * rows (t, ps, y): (1, .5, 1) (1, .8, 0) (0, .2, 0) (0, .5, 1) (0, .75, 1)
 * ATE weights: 2, 1.25 | 1.25, 2, 4
 *   treated mean = (2*1 + 1.25*0) / 3.25 = 8/13
 *   control mean = (1.25*0 + 2*1 + 4*1) / 7.25 = 24/29
 * ATT weights: 1, 1 | .25, 1, 3 -> treated 1/2, control 4/4.25 = 16/17
 * ATO weights: .5, .2 | .2, .5, .75 -> treated .5/.7, control 1.25/1.45 */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ipw.h"

int
main(void)
{
	const uint8_t t[5] = { 1, 1, 0, 0, 0 };
	const double ps[5] = { .5, .8, .2, .5, .75 }, y[5] = { 1, 0, 0, 1, 1 };
	double w[5];
	ipw_summary s;

	for (int i = 0; i < 5; i++)
		w[i] = ipw_weight(EST_ATE, t[i], ps[i]);
	CHECK_NEAR(w[0] + w[1] + w[2] + w[3] + w[4], 2 + 1.25 + 1.25 + 2 + 4, 1e-12,
	    "ATE weights 1/e and 1/(1-e)");
	CHECK(ipw_effect(w, t, y, 5, &s) == 0, "ATE effect computes");
	CHECK_NEAR(s.estimate, 8.0 / 13 - 24.0 / 29, 1e-12, "ATE = 8/13 - 24/29");
	CHECK_NEAR(s.ess[1], 3.25 * 3.25 / (4 + 1.5625), 1e-12, "ESS treated = (sum w)^2 / sum w^2");
	CHECK_NEAR(s.max_w[0], 4, 1e-12, "largest control weight 4");
	{
		/* var = sum w^2 (y - m)^2 / (sum w)^2 per group */
		double m1 = 8.0 / 13, m0 = 24.0 / 29;
		double v1 = (4 * (1 - m1) * (1 - m1) + 1.5625 * m1 * m1) / (3.25 * 3.25);
		double v0 = (1.5625 * m0 * m0 + 4 * (1 - m0) * (1 - m0) + 16 * (1 - m0) * (1 - m0)) /
		    (7.25 * 7.25);

		CHECK_NEAR(s.se, sqrt(v1 + v0), 1e-12, "linearised SE");
	}
	for (int i = 0; i < 5; i++)
		w[i] = ipw_weight(EST_ATT, t[i], ps[i]);
	ipw_effect(w, t, y, 5, &s);
	CHECK_NEAR(s.estimate, 0.5 - 4 / 4.25, 1e-12, "ATT = 1/2 - 16/17");
	for (int i = 0; i < 5; i++)
		w[i] = ipw_weight(EST_ATO, t[i], ps[i]);
	ipw_effect(w, t, y, 5, &s);
	CHECK_NEAR(s.estimate, .5 / .7 - 1.25 / 1.45, 1e-12, "ATO (overlap weights)");
	for (int i = 0; i < 5; i++)
		w[i] = ipw_weight(EST_ATC, t[i], ps[i]);
	CHECK_NEAR(w[0], 1, 1e-12, "ATC weight of a treated unit is (1-e)/e");
	CHECK(isinf(ipw_weight(EST_ATE, 1, 0.0)), "ps 0 gives an infinite ATE weight");
	{
		double ww[6] = { 1, 2, 3, 4, 100, 5 };
		const uint8_t tt[6] = { 1, 1, 1, 1, 1, 0 };

		/* treated 1,2,3,4,100: 0.75-quantile (type 7) = 4 -> 100 capped */
		CHECK(ipw_truncate(ww, tt, 6, 0.75) == 1 && ww[4] == 4 && ww[5] == 5,
		    "truncation caps at the group's quantile");
	}
	{
		double zero[5] = { 0, 0, 1, 1, 1 };

		CHECK(ipw_effect(zero, t, y, 5, &s) == -1, "all treated weights 0 is refused");
	}
	{
		/* cells: 2 treated units (y sum 1) of weight 2, 1 treated (y 1) of
		 * weight 1; 3 controls (y sum 1) of weight 1:
		 * (2*1 + 1*1)/(2*2 + 1) - 1/3 = 3/5 - 1/3 = 4/15; naive 2/3 - 1/3 */
		const double w[3] = { 2, 1, 1 }, count[3] = { 2, 1, 3 }, ysum[3] = { 1, 1, 1 };
		const uint8_t tc[3] = { 1, 1, 0 };
		double est;

		CHECK(ipw_estimate_cells(w, tc, count, ysum, 3, &est) == 0 &&
		    fabs(est - 4.0 / 15) < 1e-12, "cells: Hajek effect 4/15");
		CHECK(ipw_estimate_cells(NULL, tc, count, ysum, 3, &est) == 0 &&
		    fabs(est - 1.0 / 3) < 1e-12, "cells, no weights: difference in means 1/3");
		CHECK(ipw_estimate_cells(w, tc, (const double[3]){ 2, 1, 0 }, ysum, 3, &est) != 0,
		    "cells: no control units is refused");
	}
	{
		/* several weightings in one pass, by hand: ATE weights treated 2, 4
		 * and controls 2, 4/3, so treated (2 + 8) / (2 + 8) = 1, controls
		 * 2 / (4 + 4/3) = 3/8, ATE 5/8; ATT controls 1, 1/3: 1 / (2 + 1/3)
		 * = 3/7, ATT 4/7; naive 3/3 - 1/3 = 2/3 */
		const uint8_t tc[4] = { 1, 0, 1, 0 };
		const double ps[4] = { 0.5, 0.5, 0.25, 0.25 }, count[4] = { 1, 2, 2, 1 };
		const double ysum[4] = { 1, 1, 2, 0 };
		const estimand e[3] = { EST_COUNT, EST_ATE, EST_ATT };
		double est[3];
		int st[3];

		ipw_estimates_cells(e, 3, tc, ps, count, ysum, 4, est, st);
		CHECK(st[0] == 0 && st[1] == 0 && st[2] == 0 && fabs(est[0] - 2.0 / 3) < 1e-12 &&
		    fabs(est[1] - 5.0 / 8) < 1e-12 && fabs(est[2] - 4.0 / 7) < 1e-12,
		    "estimates in one pass: naive 2/3, ATE 5/8, ATT 4/7");
	}
	{
		/* the same bits as ipw_weights then ipw_estimate_cells, for every
		 * estimand, with and without the naive one first, over a length
		 * with a tail (1003 = 125 blocks of 8 and 3) */
		enum { N = 1003 };
		static uint8_t tc[N];
		static double ps[N], count[N], ysum[N], w[N];
		unsigned x = 12345;
		int same = 1;

		for (int i = 0; i < N; i++) {
			x = x * 1103515245u + 12345u;
			tc[i] = (x >> 16) & 1;
			ps[i] = 0.02 + 0.96 * ((x >> 8) & 0xffff) / 65535.0;
			count[i] = (double)((x >> 4) % 4);
			ysum[i] = count[i] * ((x >> 20) % 3) / 2;
		}
		for (int naive = 0; naive <= 1; naive++) {
			estimand e[IPW_FORMED_MAX];
			double est[IPW_FORMED_MAX], want;
			int st[IPW_FORMED_MAX], k = 0;

			if (naive)
				e[k++] = EST_COUNT;
			for (int q = 0; q < EST_COUNT; q++)
				e[k++] = (estimand)q;
			ipw_estimates_cells(e, k, tc, ps, count, ysum, N, est, st);
			for (int q = 0; q < k; q++) {
				if (e[q] == EST_COUNT)
					ipw_estimate_cells(NULL, tc, count, ysum, N, &want);
				else {
					ipw_weights(e[q], tc, ps, N, w);
					ipw_estimate_cells(w, tc, count, ysum, N, &want);
				}
				same = same && st[q] == 0 && memcmp(&est[q], &want, sizeof want) == 0;
			}
			/* one estimand alone and two: other loops, the same bits */
			for (int kk = 1; kk <= 2; kk++) {
				ipw_estimates_cells(e + naive, kk, tc, ps, count, ysum, N, est, st);
				ipw_weights(e[naive + kk - 1], tc, ps, N, w);
				ipw_estimate_cells(w, tc, count, ysum, N, &want);
				same = same && st[kk - 1] == 0 &&
				    memcmp(&est[kk - 1], &want, sizeof want) == 0;
			}
		}
		CHECK(same, "estimates in one pass: the bits of weights then estimate, each k");
	}
	{
		/* a control of propensity 1: infinite ATT and ATE weights, no ATC
		 * one; no controls with units: every estimate refused for zero
		 * weight */
		const uint8_t tc[3] = { 1, 0, 0 };
		const double ps[3] = { 0.5, 1, 0.5 }, count[3] = { 1, 1, 1 };
		const double ysum[3] = { 1, 0, 1 };
		const estimand e[4] = { EST_COUNT, EST_ATE, EST_ATT, EST_ATC };
		double est[4];
		int st[4];

		ipw_estimates_cells(e, 4, tc, ps, count, ysum, 3, est, st);
		CHECK(st[0] == 0 && fabs(est[0] - 0.5) < 1e-12 && st[1] == IPW_INFINITE_WEIGHT &&
		    st[2] == IPW_INFINITE_WEIGHT && isnan(est[2]) && st[3] == 0 &&
		    fabs(est[3] - 0.5) < 1e-12,
		    "estimates in one pass: an infinite weight refuses only its estimand");
		ipw_estimates_cells(e, 4, tc, ps, (const double[3]){ 1, 0, 0 }, ysum, 3, est, st);
		CHECK(st[0] == IPW_ZERO_WEIGHT && st[1] == IPW_INFINITE_WEIGHT &&
		    st[3] == IPW_ZERO_WEIGHT, "estimates in one pass: no control units is refused");
	}
	{
		/* the one branch-free form gives the textbook weights bit for bit */
		int same = 1;

		for (int i = 0; i <= 1000; i++) {
			double e = i / 1000.0;
			const double want[EST_COUNT][2] = {
				[EST_ATE] = { 1 / (1 - e), 1 / e },
				[EST_ATT] = { e / (1 - e), 1 },
				[EST_ATC] = { 1, (1 - e) / e },
				[EST_ATO] = { e, 1 - e },
			};

			for (int est = 0; est < EST_COUNT; est++)
				for (int g = 0; g < 2; g++) {
					double got = ipw_weight((estimand)est, g, e);

					same &= memcmp(&got, &want[est][g], sizeof got) == 0;
				}
		}
		CHECK(same, "ipw_weight: every estimand and group, e = 0, .001, ..., 1, bit for bit");
	}
	{
		/* ipw_adjusted_weights: ps (.5 .005 .2 .9 0), t (1 1 0 0 1) */
		const double ps5[5] = { .5, .005, .2, .9, 0 };
		const uint8_t t5[5] = { 1, 1, 0, 0, 1 };
		const double count5[5] = { 2, 1, 3, 1, 1 };
		ipw_opts o = { 0 };
		double w5[5];
		size_t trimmed[2], capped, bad = 99;

		CHECK(ipw_adjusted_weights(&o, EST_ATE, t5, ps5, NULL, 5, w5, trimmed, &capped,
		    &bad) == -1 && bad == 4, "ipw_adjusted_weights: ps 0 of a treated unit: row 4");
		o.trim_lo = 0.01, o.trim_hi = 0.99;
		CHECK(ipw_adjusted_weights(&o, EST_ATE, t5, ps5, count5, 5, w5, trimmed, &capped,
		    &bad) == 0 && w5[1] == 0 && w5[4] == 0 && trimmed[1] == 2 && trimmed[0] == 0,
		    "ipw_adjusted_weights --trim: rows 1 and 4 get 0, two treated units counted");
		CHECK(w5[0] == 2 && w5[2] == 1.25 && fabs(w5[3] - 10) < 1e-12,
		    "ipw_adjusted_weights: ATE weights 1/e, 1/(1-e)");
		o.stabilize = 1;
		/* share treated over units: (2 + 1 + 1) / 8 = 1/2 */
		CHECK(ipw_adjusted_weights(&o, EST_ATE, t5, ps5, count5, 5, w5, trimmed, &capped,
		    &bad) == 0 && w5[0] == 1 && w5[2] == 0.625,
		    "ipw_adjusted_weights --stabilize: times the group's share of units");
		o.truncate_q = 0.9;
		CHECK(ipw_adjusted_weights(&o, EST_ATE, t5, ps5, count5, 5, w5, trimmed, &capped,
		    &bad) == -2, "ipw_adjusted_weights: truncation on cells is refused (-2)");
	}
	{
		/* Crump's rule by hand: ps .5 .5 .5 .1 .02, g = 4 4 4 11.11 51.02.
		 * Keeping the k smallest, sum g / units^2: 12/9 = 1.33, 23.11/16 =
		 * 1.44, 74.13/25 = 2.97: keep the three 4s; gamma = 2 x mean = 8,
		 * alpha = 1/2 - sqrt(1/4 - 1/8) */
		const double ps[5] = { .5, .1, .5, .02, .5 };
		const double cells[3] = { .5, .1, .02 }, count[3] = { 3, 1, 1 };
		const double mild[4] = { .3, .4, .5, .6 };
		double a = ipw_crump_alpha(ps, NULL, 5);
		ipw_opts o = { .trim_auto = 1 }, r;

		CHECK(fabs(a - (0.5 - sqrt(0.125))) < 1e-15, "Crump: alpha = 1/2 - sqrt(1/8) by hand");
		CHECK(ipw_crump_alpha(cells, count, 3) == a,
		    "Crump: the same units as cells with counts give the same bits");
		CHECK(ipw_crump_alpha(mild, NULL, 4) == 0,
		    "Crump: ps .3 .4 .5 .6 (max g < 2 mean g): nothing trimmed");
		r = ipw_resolve(&o, ps, NULL, 5);
		CHECK(!r.trim_auto && r.trim_lo == a && r.trim_hi == 1 - a,
		    "ipw_resolve: --trim auto becomes the band [alpha, 1 - alpha]");
		CHECK(ipw_crump_alpha((const double[]){ .5, .5, 1, .4 }, NULL, 4) > 0,
		    "Crump: a propensity of 1 is always left out");
	}
	{
		/* positivity: band [.05, .95]; treated ps .5 .97 (1 of 2 out),
		 * controls .01 .2 .3 with counts 2 1 1 (2 of 4 out) */
		ipw_positivity p;
		const uint8_t t[5] = { 1, 1, 0, 0, 0 };
		const double ps[5] = { .5, .97, .01, .2, .3 }, count[5] = { 1, 1, 2, 1, 1 };

		ipw_positivity_init(&p, 0.05, 0.95);
		ipw_positivity_add(&p, t, ps, count, 5);
		CHECK(ipw_positivity_share(&p, 1) == 0.5 && ipw_positivity_share(&p, 0) == 0.5,
		    "positivity: the share of each group's units outside the band");
	}
	CHECK_DONE();
}
