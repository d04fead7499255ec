/* peak — this machine's rates for make bench's floor: memory read
 * bandwidth (a sum over 1 GiB, past every cache) and multiply-adds per
 * second (independent chains in L1, as wide as the compiler makes them),
 * each the best of five, on one core. Prints "GB/s GFLOP/s".
 * Built by tools/bench/run.sh with -O3 -march=native (a measurement of
 * the machine, not part of psflow). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int
main(void)
{
	size_t n = (size_t)1 << 27, m = 4096;
	double *a = malloc(n * sizeof *a), *x = malloc(m * sizeof *x), best_bw = 0, best_fl = 0;
	volatile double sink = 0;

	if (a == NULL || x == NULL)
		return 1;
	for (size_t i = 0; i < n; i++)
		a[i] = (double)(i & 7);
	for (size_t i = 0; i < m; i++)
		x[i] = 1e-9 * (double)i;
	for (int rep = 0; rep < 5; rep++) {
		double s[8] = { 0 }, t = now();

		for (size_t i = 0; i < n; i += 8)
			for (int j = 0; j < 8; j++)
				s[j] += a[i + j];
		t = now() - t;
		sink += s[0] + s[7];
		if ((double)(n * sizeof *a) / t / 1e9 > best_bw)
			best_bw = (double)(n * sizeof *a) / t / 1e9;
	}
	for (int rep = 0; rep < 5; rep++) {
		double acc[32] = { 0 }, t = now();
		size_t iters = 20000;

		/* 32 chains: y = y * 0.999999 + x, 2 flops each */
		for (size_t it = 0; it < iters; it++)
			for (size_t i = 0; i < m; i += 32)
				for (int j = 0; j < 32; j++)
					acc[j] = acc[j] * 0.999999 + x[i + j];
		t = now() - t;
		sink += acc[0] + acc[31];
		if (2.0 * (double)iters * (double)m / t / 1e9 > best_fl)
			best_fl = 2.0 * (double)iters * (double)m / t / 1e9;
	}
	printf("%.2f %.2f\n", best_bw, best_fl);
	free(a), free(x);
	return sink == 12345.678 ? 1 : 0;
}
