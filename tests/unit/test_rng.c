/* rng: determinism, independence of streams, ranges and the Beta(5, 2) mean. */
#include "check.h"
#include "rng.h"

int
main(void)
{
	rng a, b;
	double sum = 0, lo = 1, hi = 0;
	int same = 1;
	const int n = 200000;

	rng_seed(&a, 42);
	rng_seed(&b, 42);
	for (int i = 0; i < 100; i++)
		same &= rng_next(&a) == rng_next(&b);
	CHECK(same, "same seed, same sequence");
	rng_stream(&a, 7, 0);
	rng_stream(&b, 7, 1);
	CHECK(rng_next(&a) != rng_next(&b), "streams 0 and 1 differ");
	rng_stream(&a, 7, 5);
	rng_stream(&b, 7, 5);
	CHECK(rng_next(&a) == rng_next(&b), "stream (seed, i) depends on seed and i only");
	for (int i = 0; i < n; i++) {
		double u = rng_uniform(&a);

		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
		sum += rng_beta_int(&b, 5, 2);
	}
	CHECK(lo >= 0 && hi < 1, "uniform in [0, 1)");
	/* mean 5/7, sd of the mean sqrt(10/392/n) ~ 3.6e-4 */
	CHECK_NEAR(sum / n, 5.0 / 7.0, 0.002, "Beta(5,2) mean is 5/7");
	{
		int counts[3] = { 0 };

		for (int i = 0; i < 30000; i++)
			counts[rng_below(&a, 3)]++;
		CHECK(counts[0] > 9500 && counts[1] > 9500 && counts[2] > 9500,
		    "rng_below(3) hits every value about evenly");
	}
	CHECK_DONE();
}
