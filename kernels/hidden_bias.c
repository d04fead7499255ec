#include "hidden_bias.h"

#include <math.h>
#include <stdlib.h>

#include "keyed.h"
#include "xalloc.h"

double
evalue(double rr)
{
	if (!(rr > 0) || !isfinite(rr))
		return NAN;
	if (rr < 1)
		rr = 1 / rr;
	return rr + sqrt(rr * (rr - 1));
}

/* log C(n, k) */
static double
log_choose(double n, double k)
{
	return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}

double
rosenbaum_sign_p(size_t wins, size_t discordant, double gamma)
{
	double p = gamma / (1 + gamma), tail = 0;

	if (wins == 0)
		return 1;
	/* the upper tail, P(X >= wins), summed from its far end: in a tail
	 * the smallest terms come first */
	for (size_t k = discordant + 1; k-- > wins;)
		tail += exp(log_choose((double)discordant, (double)k) + (double)k * log(p) +
		    (double)(discordant - k) * log1p(-p));
	return fmin(1, tail);
}

double
rosenbaum_wilcoxon_p(const double *d, size_t n, double gamma)
{
	keyed *k = xreallocarray(NULL, n + 1, sizeof *k);
	double p = gamma / (1 + gamma), t = 0, sum_r = 0, sum_r2 = 0, mean, var;
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (d[i] != 0)
			k[m++] = (keyed){ fabs(d[i]), i };
	keyed_sort(k, m);
	for (size_t i = 0; i < m;) {
		size_t j = i;
		double rank;

		while (j < m && k[j].key == k[i].key)
			j++;
		rank = ((double)i + 1 + (double)j) / 2; /* mean of ranks i+1 .. j */
		for (size_t s = i; s < j; s++) {
			if (d[k[s].index] > 0)
				t += rank;
			sum_r += rank;
			sum_r2 += rank * rank;
		}
		i = j;
	}
	free(k);
	if (m == 0)
		return 1;
	mean = p * sum_r;
	var = p * (1 - p) * sum_r2;
	return 0.5 * erfc((t - mean) / sqrt(var) / sqrt(2));
}

double
rosenbaum_gamma(double (*pf)(double gamma, const void *ctx), const void *ctx, double alpha,
    double gamma_max, int *significant)
{
	double lo = 1, hi = gamma_max;

	*significant = pf(1, ctx) <= alpha;
	if (!*significant)
		return 1;
	if (pf(gamma_max, ctx) <= alpha)
		return gamma_max;
	while (hi - lo > 1e-6) {
		double mid = (lo + hi) / 2;

		if (pf(mid, ctx) <= alpha)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}
