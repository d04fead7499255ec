/* balstat: SMD, variance ratio and weighted KS by hand.
 *
 * treated x: 1, 2, 3 (w 1, 1, 2); controls x: 2, 4 (w 1, 1)
 * unweighted: mean_t 2, var_t 2/3; mean_c 3, var_c 1 -> pooled sd
 *   sqrt((2/3 + 1) / 2) = sqrt(5/6); raw SMD = (2 - 3)/sqrt(5/6)
 * weighted: mean_t (1 + 2 + 6)/4 = 9/4 -> SMD (9/4 - 3)/sqrt(5/6)
 * weighted var_t = (1*(5/4)^2 + 1*(1/4)^2 + 2*(3/4)^2)/4 = 11/16
 * KS weighted: at x=1 F_t = 1/4, F_c = 0 -> .25; at x=2 F_t 1/2,
 *   F_c 1/2 -> 0; at x=3 F_t 1, F_c 1/2 -> .5; at 4: 0. KS = 1/2. */
#include <math.h>

#include "balstat.h"
#include "check.h"

int
main(void)
{
	const double x[5] = { 1, 2, 3, 2, 4 }, w[5] = { 1, 1, 2, 1, 1 };
	const uint8_t t[5] = { 1, 1, 1, 0, 0 };
	keyed order[5];
	balstat b;
	double den = balstat_sd_denominator(x, t, 5, SD_POOLED);

	CHECK_NEAR(den, sqrt(5.0 / 6), 1e-12, "pooled SD from population variances");
	CHECK_NEAR(balstat_sd_denominator(x, t, 5, SD_TREATED), sqrt(2.0 / 3), 1e-12,
	    "treated SD");
	balstat_order(x, 5, order);
	balstat_compute(x, t, NULL, 5, den, order, &b);
	CHECK_NEAR(b.smd, -1 / sqrt(5.0 / 6), 1e-12, "raw SMD");
	CHECK_NEAR(b.var_ratio, 2.0 / 3, 1e-12, "raw variance ratio");
	/* unweighted KS: x=1: 1/3-0; x=2: 2/3-1/2; x=3: 1-1/2 = 1/2 */
	CHECK_NEAR(b.ks, 0.5, 1e-12, "raw KS");
	balstat_compute(x, t, w, 5, den, order, &b);
	CHECK_NEAR(b.smd, (9.0 / 4 - 3) / sqrt(5.0 / 6), 1e-12, "weighted SMD");
	CHECK_NEAR(b.var_ratio, (11.0 / 16) / 1, 1e-12, "weighted variance ratio");
	CHECK_NEAR(b.ks, 0.5, 1e-12, "weighted KS");
	{
		const double w2[5] = { 1, 1, 2, 3, 1 };

		/* controls weighted 3:1 -> at x=2 F_c = 3/4, F_t = 1/2 -> 1/4;
		 * x=1: 1/4; x=3: 1 - 3/4 = 1/4 */
		balstat_compute(x, t, w2, 5, den, order, &b);
		CHECK_NEAR(b.ks, 0.25, 1e-12, "weighted KS with unequal control weights");
	}
	CHECK_DONE();
}
