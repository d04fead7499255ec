/* bootci: the normal quantile, R's type-7 quantile, and the three intervals
 * on a small set of replicates, by hand. */
#include "bootci.h"
#include "check.h"
#include "quantile.h"

int
main(void)
{
	const double v[5] = { 1, 2, 3, 4, 10 };

	CHECK_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-12, "z(0.975) = 1.95996");
	CHECK_NEAR(normal_quantile(0.5), 0, 1e-12, "z(0.5) = 0");
	CHECK_NEAR(normal_quantile(0.001), -3.090232306167813, 1e-10, "z(0.001) in the tail");
	CHECK_NEAR(normal_cdf(normal_quantile(0.3)), 0.3, 1e-14, "Phi(z(p)) = p");
	/* type 7: h = (n-1) q; v[floor h] + frac * (v[ceil h] - v[floor h]) */
	CHECK_NEAR(quantile_sorted(v, 5, 0.5), 3, 1e-12, "median of 1 2 3 4 10 is 3");
	CHECK_NEAR(quantile_sorted(v, 5, 0.9), 4 + 0.6 * 6, 1e-12, "0.9 quantile: h = 3.6 -> 7.6");
	CHECK_NEAR(quantile_sorted(v, 5, 0.025), 1 + 0.1 * 1, 1e-12, "0.025 quantile: h = 0.1 -> 1.1");
	CHECK_NEAR(quantile_sorted(v, 5, 1), 10, 1e-12, "the 1 quantile is the maximum");
	{
		/* replicates 1 2 3 4 10: mean 4, SD sqrt(50 / 4) */
		double ci[2], sd = sqrt(12.5), z = normal_quantile(0.95);

		bootci_interval(BOOTCI_PERCENTILE, 0.8, v, 5, 3, NULL, 0, 0, ci);
		/* 0.1 and 0.9 quantiles: h = 0.4 -> 1.4, h = 3.6 -> 7.6 */
		CHECK(fabs(ci[0] - 1.4) < 1e-12 && fabs(ci[1] - 7.6) < 1e-12,
		    "percentile 80%: the 0.1 and 0.9 quantiles, 1.4 and 7.6");
		bootci_interval(BOOTCI_NORMAL, 0.9, v, 5, 3, NULL, 0, 0, ci);
		CHECK(fabs(ci[0] - (3 - z * sd)) < 1e-12 && fabs(ci[1] - (3 + z * sd)) < 1e-12,
		    "normal 90%: the estimate 3 +- z(0.95) SD, SD = sqrt(12.5)");
	}
	{
		/* BCa with a symmetric jackknife (acceleration 0) and the estimate
		 * at the median (z0 = 0) is the percentile interval */
		const double jack[4] = { 1, 2, 3, 4 }; /* strided by 2: 1, 3 */
		double ci[2], pc[2];

		bootci_interval(BOOTCI_PERCENTILE, 0.8, v, 5, 3, NULL, 0, 0, pc);
		bootci_interval(BOOTCI_BCA, 0.8, v, 5, 3, jack, 2, 2, ci);
		CHECK(fabs(ci[0] - pc[0]) < 1e-12 && fabs(ci[1] - pc[1]) < 1e-12,
		    "BCa with z0 = 0 and a = 0 is the percentile interval");
		/* estimate 2.5: two replicates below (a tie would count half), so
		 * z0 = z(2/5); a = 0 */
		{
			double z0 = normal_quantile(0.4), za = normal_quantile(0.1);

			bootci_interval(BOOTCI_BCA, 0.8, v, 5, 2.5, jack, 2, 2, ci);
			CHECK(fabs(ci[0] - quantile_sorted(v, 5, normal_cdf(2 * z0 + za))) < 1e-12 &&
			    fabs(ci[1] - quantile_sorted(v, 5, normal_cdf(2 * z0 - za))) < 1e-12,
			    "BCa: bias correction z0 = z(2/5) moves both ends down");
		}
		/* a skewed jackknife 0, 0, 3 (mean 1; d = 1, 1, -2): a = (1 + 1 - 8)
		 * / (6 * 6^1.5) */
		{
			const double skew[3] = { 0, 0, 3 };
			double a = -6 / (6 * pow(6, 1.5)), za = normal_quantile(0.1);

			bootci_interval(BOOTCI_BCA, 0.8, v, 5, 3, skew, 1, 3, ci);
			CHECK(fabs(ci[0] - quantile_sorted(v, 5, normal_cdf(za / (1 - a * za)))) < 1e-12 &&
			    fabs(ci[1] - quantile_sorted(v, 5, normal_cdf(-za / (1 + a * za)))) < 1e-12,
			    "BCa: acceleration from the jackknife's skewness");
		}
	}
	CHECK(bootci_name(BOOTCI_BCA)[0] == 'b' && bootci_name(BOOTCI_NORMAL)[0] == 'n',
	    "method names: bca, normal");
	CHECK_DONE();
}
