/* hidden_bias: E-values against VanderWeele and Ding (2017)'s worked
 * example, Rosenbaum bounds by hand (the sign-score test's binomial tail,
 * the signed rank statistic's bound). */
#include <math.h>

#include "check.h"
#include "hidden_bias.h"

/* Rosenbaum's lead example (children of workers exposed to lead and their
 * matched controls; rbounds' psens example): blood lead levels. */
static const double lead_trt[33] = { 38, 23, 41, 18, 37, 36, 23, 62, 31, 34, 24, 14, 21,
	17, 16, 20, 15, 10, 45, 39, 22, 35, 49, 48, 44, 35, 43, 39, 34, 13, 73, 25, 27 };
static const double lead_ctrl[33] = { 16, 18, 18, 24, 19, 11, 10, 15, 16, 18, 18, 13, 19,
	10, 16, 16, 24, 13, 9, 14, 21, 19, 7, 18, 19, 12, 11, 22, 25, 16, 13, 11, 13 };

static double
lead_p(double gamma, const void *ctx)
{
	return rosenbaum_wilcoxon_p(ctx, 33, gamma);
}

static double
sign_p(double gamma, const void *ctx)
{
	const size_t *wd = ctx;

	return rosenbaum_sign_p(wd[0], wd[1], gamma);
}

int
main(void)
{
	/* VanderWeele and Ding's example: RR 3.9, CI 1.8 to 8.7: E-values 7.26
	 * and 3.0 */
	CHECK_NEAR(evalue(3.9), 3.9 + sqrt(3.9 * 2.9), 1e-12, "E-value of RR 3.9 = 7.26");
	CHECK(fabs(evalue(3.9) - 7.26) < 0.005, "  ... 7.26 as published");
	CHECK_NEAR(evalue(1.8), 3.0, 1e-12, "E-value of the CI limit 1.8 = 3.0 (1.8 + sqrt(1.44))");
	CHECK_NEAR(evalue(1 / 3.9), evalue(3.9), 1e-12, "an RR below 1 is inverted first");
	CHECK(evalue(1) == 1 && isnan(evalue(0)) && isnan(evalue(NAN)), "E-value 1 at the null; NaN without a ratio");
	/* sign-score: 8 wins of 10 discordant pairs at gamma 1: P(X >= 8),
	 * X ~ Bin(10, 1/2) = (45 + 10 + 1) / 1024 */
	CHECK_NEAR(rosenbaum_sign_p(8, 10, 1), 56.0 / 1024, 1e-15, "sign test: P(Bin(10, .5) >= 8) = 56/1024");
	/* gamma 2: p+ = 2/3: C(10,8) (2/3)^8 (1/3)^2 + 10 (2/3)^9 (1/3) + (2/3)^10 */
	CHECK_NEAR(rosenbaum_sign_p(8, 10, 2),
	    45 * pow(2.0 / 3, 8) * pow(1.0 / 3, 2) + 10 * pow(2.0 / 3, 9) / 3 + pow(2.0 / 3, 10),
	    1e-14, "sign test at Gamma 2: the Bin(10, 2/3) upper tail");
	CHECK(rosenbaum_sign_p(0, 10, 1) == 1, "no win: p = 1");
	{
		/* 80 wins of 100: significant at Gamma 1; the largest Gamma at
		 * 0.05 is where the Bin(100, G/(1+G)) tail at 80 reaches 0.05 */
		size_t wd[2] = { 80, 100 };
		int sig;
		double g = rosenbaum_gamma(sign_p, wd, 0.05, 20, &sig);

		CHECK(sig && rosenbaum_sign_p(80, 100, g) <= 0.05 &&
		    rosenbaum_sign_p(80, 100, g + 1e-5) > 0.05,
		    "the largest Gamma: p <= 0.05 there, > 0.05 just past it");
		wd[0] = 52;
		g = rosenbaum_gamma(sign_p, wd, 0.05, 20, &sig);
		CHECK(!sig && g == 1, "52 of 100: not significant even at Gamma 1");
	}
	{
		/* signed ranks: d = 1, 2, -3, 4, 0 (zero dropped): ranks 1 2 3 4,
		 * T+ = 7; at gamma 1 mean 5, var 30/4: p = 1 - Phi(2 / sqrt 7.5) */
		const double d[5] = { 1, 2, -3, 4, 0 };

		CHECK_NEAR(rosenbaum_wilcoxon_p(d, 5, 1), 0.5 * erfc(2 / sqrt(7.5) / sqrt(2)), 1e-15,
		    "Wilcoxon: T+ = 7, E = 5, Var = 7.5 at Gamma 1");
		/* gamma 3: p+ = 3/4: E = 7.5, Var = 3/16 x 30 */
		CHECK_NEAR(rosenbaum_wilcoxon_p(d, 5, 3), 0.5 * erfc(-0.5 / sqrt(30 * 3.0 / 16) / sqrt(2)),
		    1e-15, "Wilcoxon's bound at Gamma 3: E = 7.5, Var = 90/16");
		/* ties: |d| = 1, 1, 2: ranks 1.5 1.5 3 */
		CHECK_NEAR(rosenbaum_wilcoxon_p((const double[]){ 1, -1, 2 }, 3, 1),
		    0.5 * erfc((4.5 - 3) / sqrt(0.25 * (2.25 + 2.25 + 9)) / sqrt(2)), 1e-15,
		    "Wilcoxon: tied |d| share their mean rank");
	}
	{
		/* rbounds' psens on the lead data: 32 nonzero pairs, T+ = 499; the
		 * upper bounds by its formula (E = p+ sum r, Var = p+ p- sum r^2),
		 * computed independently in Python: 4.25 gives 0.0441, 5 0.0694 */
		double d[33], g;
		int sig;

		for (int i = 0; i < 33; i++)
			d[i] = lead_trt[i] - lead_ctrl[i];
		CHECK_NEAR(rosenbaum_wilcoxon_p(d, 33, 1), 5.530801535773642e-06, 1e-15,
		    "lead example: p = 5.5e-6 at Gamma 1");
		CHECK_NEAR(rosenbaum_wilcoxon_p(d, 33, 2), 0.0017717042841824849, 1e-15,
		    "lead example: 0.0018 at Gamma 2");
		CHECK_NEAR(rosenbaum_wilcoxon_p(d, 33, 4), 0.03665836101600833, 1e-15,
		    "lead example: 0.0367 at Gamma 4");
		CHECK_NEAR(rosenbaum_wilcoxon_p(d, 33, 4.25), 0.044144250247839065, 1e-15,
		    "lead example: 0.0441 at Gamma 4.25");
		g = rosenbaum_gamma(lead_p, d, 0.05, 20, &sig);
		CHECK(sig && g > 4.25 && g < 5 && rosenbaum_wilcoxon_p(d, 33, g) <= 0.05,
		    "lead example: significant at 0.05 up to a Gamma between 4.25 and 5");
	}
	CHECK_DONE();
}
