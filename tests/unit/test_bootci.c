/* boot's interval helpers: the normal quantile and R's type-7 quantile. */
#include "check.h"
#include "quantile.h"
#include "bootci.h"

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
	CHECK_DONE();
}
