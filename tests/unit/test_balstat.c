/* balstat and tally: SMD, variance ratio and weighted KS by hand, from a
 * tally filled in two batches; tally edge cases (-0, an indicator, growth).
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
	const double w2[5] = { 1, 1, 2, 3, 1 };
	const uint8_t t[5] = { 1, 1, 1, 0, 0 };
	const double *ws[3] = { NULL, w, w2 };
	tally tl;
	balstat b;
	double den;

	/* in two batches: the tally does not depend on where batches end */
	tally_init(&tl, 3);
	tally_add(&tl, x, t, ws, 2);
	{
		const double *rest[3] = { NULL, w + 2, w2 + 2 };

		tally_add(&tl, x + 2, t + 2, rest, 3);
	}
	CHECK(tl.nvalues == 4, "four distinct values (2 twice)");
	tally_sort(&tl);
	den = balstat_sd_denominator(&tl, SD_POOLED, BALSTAT_POPULATION);
	CHECK_NEAR(den, sqrt(5.0 / 6), 1e-12, "pooled SD from population variances");
	CHECK_NEAR(balstat_sd_denominator(&tl, SD_TREATED, BALSTAT_POPULATION), sqrt(2.0 / 3), 1e-12,
	    "treated SD");
	CHECK_NEAR(balstat_sd_denominator(&tl, SD_CONTROL, BALSTAT_POPULATION), 1, 1e-12, "control SD");
	/* sample variances: treated 1, 2, 3 -> 1; controls 2, 4 -> 2 */
	CHECK_NEAR(balstat_sd_denominator(&tl, SD_POOLED, BALSTAT_SAMPLE), sqrt(1.5), 1e-12,
	    "pooled SD from sample variances: sqrt((1 + 2) / 2)");
	CHECK_NEAR(balstat_sd_denominator(&tl, SD_TREATED, BALSTAT_SAMPLE), 1, 1e-12,
	    "treated sample SD 1");
	{
		/* weighted sample variance, cov.wt's unbiased form: treated w 1,1,2
		 * (S 4, S2 6): 11/16 * 4 / (4 - 6/4) = 1.1; controls w 1,1 (S 2, S2
		 * 2): 1 * 2 / (2 - 1) = 2; ratio 0.55 */
		const double sum_w2[2] = { 2, 6 };
		balstat bs;

		balstat_compute(&tl, 1, 1, BALSTAT_SAMPLE, sum_w2, &bs);
		CHECK_NEAR(bs.var_ratio, 0.55, 1e-12, "weighted sample variance ratio 1.1 / 2");
		CHECK(!bs.binary, "1 2 3 4 is not binary");
		balstat_compute(&tl, 0, 1, BALSTAT_SAMPLE, NULL, &bs);
		CHECK_NEAR(bs.var_ratio, 0.5, 1e-12, "unweighted: sample variances 1 / 2");
	}
	balstat_compute(&tl, 0, den, BALSTAT_POPULATION, NULL, &b);
	CHECK_NEAR(b.mean_t, 2, 1e-12, "raw treated mean");
	CHECK_NEAR(b.mean_c, 3, 1e-12, "raw control mean");
	CHECK_NEAR(b.smd, -1 / sqrt(5.0 / 6), 1e-12, "raw SMD");
	CHECK_NEAR(b.var_ratio, 2.0 / 3, 1e-12, "raw variance ratio");
	/* unweighted KS: x=1: 1/3-0; x=2: 2/3-1/2; x=3: 1-1/2 = 1/2 */
	CHECK_NEAR(b.ks, 0.5, 1e-12, "raw KS");
	balstat_compute(&tl, 1, den, BALSTAT_POPULATION, NULL, &b);
	CHECK_NEAR(b.smd, (9.0 / 4 - 3) / sqrt(5.0 / 6), 1e-12, "weighted SMD");
	CHECK_NEAR(b.var_ratio, (11.0 / 16) / 1, 1e-12, "weighted variance ratio");
	CHECK_NEAR(b.ks, 0.5, 1e-12, "weighted KS");
	/* controls weighted 3:1 -> at x=2 F_c = 3/4, F_t = 1/2 -> 1/4;
	 * x=1: 1/4; x=3: 1 - 3/4 = 1/4 */
	balstat_compute(&tl, 2, den, BALSTAT_POPULATION, NULL, &b);
	CHECK_NEAR(b.ks, 0.25, 1e-12, "weighted KS with unequal control weights");

	/* the indicator x == 2: treated 0,1,0 -> mean 1/3, var 2/9; controls
	 * 1,0 -> mean 1/2, var 1/4; pooled sd sqrt((2/9 + 1/4)/2) */
	{
		tally ind;
		double d;

		tally_indicator(&tl, 2, &ind);
		CHECK(ind.nvalues == 2, "an indicator has two values");
		tally_sort(&ind);
		d = balstat_sd_denominator(&ind, SD_POOLED, BALSTAT_POPULATION);
		CHECK_NEAR(d, sqrt((2.0 / 9 + 0.25) / 2), 1e-12, "indicator's pooled SD");
		balstat_compute(&ind, 0, d, BALSTAT_POPULATION, NULL, &b);
		CHECK_NEAR(b.smd, (1.0 / 3 - 0.5) / d, 1e-12, "indicator's raw SMD");
		/* F at 0: treated 2/3, controls 1/2 */
		CHECK_NEAR(b.ks, 1.0 / 6, 1e-12, "indicator's raw KS");
		/* a binary covariate keeps p(1 - p) and has no variance ratio */
		CHECK(balstat_binary(&ind), "an indicator is binary");
		CHECK_NEAR(balstat_sd_denominator(&ind, SD_POOLED, BALSTAT_SAMPLE), d, 1e-15,
		    "a binary covariate's SD is sqrt(p(1 - p)) with sample variances too");
		balstat_compute(&ind, 0, d, BALSTAT_SAMPLE, NULL, &b);
		CHECK(isnan(b.var_ratio), "no variance ratio for a binary covariate");
		tally_free(&ind);
	}
	tally_free(&tl);

	/* -0 and 0 are one value, as they compare equal */
	{
		const double z[2] = { -0.0, 0.0 };
		const uint8_t g[2] = { 0, 1 };
		const double *raw[1] = { NULL };

		tally_init(&tl, 1);
		tally_add(&tl, z, g, raw, 2);
		CHECK(tl.nvalues == 1, "-0 and 0 are one value");
		tally_sort(&tl);
		balstat_compute(&tl, 0, 1, BALSTAT_POPULATION, NULL, &b);
		CHECK(b.ks == 0, "KS 0 between -0 and 0");
		tally_free(&tl);
	}

	/* many values (the hash grows): controls 0..999, treated 500..1499.
	 * Means differ by 500; each variance (1000^2 - 1)/12; KS 1/2 (at 499
	 * the controls' CDF is 1/2, the treated's 0). */
	{
		enum { N = 2000 };
		double v[N];
		uint8_t g[N];
		const double *raw[1] = { NULL };

		for (int i = 0; i < N; i++) {
			g[i] = i >= 1000;
			v[i] = g[i] ? i - 500 : i;
		}
		tally_init(&tl, 1);
		tally_add(&tl, v, g, raw, N);
		CHECK(tl.nvalues == 1500, "1500 distinct values");
		tally_sort(&tl);
		{
			double sd = sqrt((1000.0 * 1000 - 1) / 12);

			CHECK_NEAR(balstat_sd_denominator(&tl, SD_POOLED, BALSTAT_POPULATION), sd, 1e-9,
			    "SD of 1000 consecutive integers");
			balstat_compute(&tl, 0, sd, BALSTAT_POPULATION, NULL, &b);
			CHECK_NEAR(b.smd, 500 / sd, 1e-12, "SMD over 1500 values");
			CHECK_NEAR(b.var_ratio, 1, 1e-12, "equal variances");
			CHECK_NEAR(b.ks, 0.5, 1e-12, "KS over 1500 values");
		}
		tally_free(&tl);
	}
	CHECK_DONE();
}
