/* ipwvar: the M-estimation sandwich SE, by hand where it has a closed form,
 * and a sharing ipwvar (the logit block summed by another) bit for bit
 * against one with its own sums.
 *
 * An intercept-only model on six rows (t, y): (1, 1) (1, 0) (1, 1) (0, 0)
 * (0, 1) (0, 0), e = 1/2 for every unit. The ATE's Hajek means are then the
 * groups' plain means, 2/3 and 1/3, whatever e is, so estimating e adds
 * nothing (the cross terms sum y - mu over a group: 0) and
 *   Var = sum_1 (y - 2/3)^2 / 3^2 + sum_0 (y - 1/3)^2 / 3^2
 *       = (2/9) / 3 + (2/9) / 3 = 4/27.
 * Each unit its own cluster: the same sums times G / (G - 1) = 6/5. */
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "ipwvar.h"
#include "rng.h"

int
main(void)
{
	const uint8_t t[6] = { 1, 1, 1, 0, 0, 0 };
	const double y[6] = { 1, 0, 1, 0, 1, 0 }, e[6] = { .5, .5, .5, .5, .5, .5 };
	const double X[6] = { 1, 1, 1, 1, 1, 1 }, w[6] = { 2, 2, 2, 2, 2, 2 };
	const int64_t own[6] = { 10, 11, 12, 13, 14, 15 };
	double se = NAN, se_cl = NAN;
	size_t clusters;
	ipwvar *v = ipwvar_new(EST_ATE, 1), *vc = ipwvar_new(EST_ATE, 1);

	ipwvar_add(v, X, 6, t, e, y, w, NULL, NULL);
	CHECK(ipwvar_se(v, NULL, 0, 0, &se, &clusters) == 0, "intercept-only ATE: an SE");
	CHECK_NEAR(se, sqrt(4.0 / 27), 1e-14, "intercept-only ATE: SE^2 = 4/27 (the means' own)");
	CHECK(clusters == 6, "unclustered: each unit counted");
	ipwvar_add(vc, X, 6, t, e, y, w, NULL, own);
	CHECK(ipwvar_se(vc, NULL, 0, 1, &se_cl, &clusters) == 0 && clusters == 6,
	    "six clusters of one unit");
	CHECK_NEAR(se_cl * se_cl, 4.0 / 27 * 6 / 5, 1e-14, "clusters of one: SE^2 times G/(G-1)");
	ipwvar_free(v), ipwvar_free(vc);
	{
		/* three columns, two batches, ATE and ATT: each estimand sharing
		 * the first's logit block equals it with sums of its own, bit for
		 * bit; a weight not the formula's (trimmed) on the way */
		enum { N = 500, P = 3 };
		static double Xr[P * N], er[N], yr[N], wa[N], wt[N];
		static uint8_t tr[N];
		ipwvar *ate = ipwvar_new(EST_ATE, P), *att_own = ipwvar_new(EST_ATT, P);
		ipwvar *att_shared = ipwvar_new_sharing(EST_ATT, ate);
		double se_own = NAN, se_shared = NAN, se_ate = NAN;
		rng r;

		rng_seed(&r, 7);
		for (int i = 0; i < N; i++) {
			Xr[i] = 1;
			Xr[N + i] = rng_uniform(&r) * 2 - 1;
			Xr[2 * N + i] = rng_uniform(&r);
			er[i] = 0.2 + 0.6 * rng_uniform(&r);
			tr[i] = rng_uniform(&r) < er[i];
			yr[i] = Xr[N + i] + tr[i] + rng_uniform(&r);
			wa[i] = tr[i] ? 1 / er[i] : 1 / (1 - er[i]);
			wt[i] = tr[i] ? 1 : er[i] / (1 - er[i]);
		}
		wa[3] = 0; /* trimmed */
		for (int half = 0; half < 2; half++) {
			/* two batches of N / 2 rows: each its own column-major block */
			static double Xb[P * N / 2];
			size_t from = (size_t)half * N / 2, m = N / 2;

			for (int k = 0; k < P; k++)
				for (size_t i = 0; i < m; i++)
					Xb[k * m + i] = Xr[k * N + from + i];
			ipwvar_add(ate, Xb, m, tr + from, er + from, yr + from, wa + from, NULL, NULL);
			ipwvar_add(att_own, Xb, m, tr + from, er + from, yr + from, wt + from, NULL,
			    NULL);
			ipwvar_add(att_shared, Xb, m, tr + from, er + from, yr + from, wt + from, NULL,
			    NULL);
		}
		CHECK(ipwvar_se(att_own, NULL, 0, 0, &se_own, &clusters) == 0 &&
		    ipwvar_se(att_shared, NULL, 0, 0, &se_shared, &clusters) == 0,
		    "ATT: an SE with its own logit block and with a shared one");
		CHECK(se_own == se_shared && se_own > 0, "a shared logit block: the same SE, bit for bit");
		CHECK(ipwvar_se(ate, NULL, 0, 0, &se_ate, &clusters) == 0 && se_ate != se_own,
		    "the block's owner keeps its own estimand's SE");
		ipwvar_free(att_shared), ipwvar_free(att_own), ipwvar_free(ate);
	}
	CHECK_DONE();
}
