/* logit: fits checked by hand.
 *
 * 1. One binary covariate: the MLE reproduces the two groups' log-odds.
 *    x=0: 1 of 4 treated -> b0 = log(1/3); x=1: 3 of 4 -> b0 + b1 = log(3),
 *    so b1 = log 9. SE of b1 = sqrt(1/1 + 1/3 + 1/3 + 1/1) = sqrt(8/3).
 * 2. With the L2 penalty (C = 1) the gradient vanishes at the optimum:
 *    sum (y - p) = 0 for the intercept, sum (y - p) x = b1 for x.
 * 3. The AUC of a perfect score is 1; with a tie across groups, 1/2 per tie.
 * 4. Grouped rows (x=0: 4 units, 1 treated; x=1: 4 units, 3 treated) give
 *    the same fit as the 8 units one by one.
 * 6. Models of 1 to 26 columns (each small model has a pass of its own;
 *    larger ones share one, and beyond 24 columns its sums leave the stack):
 *    one-hot levels, 4 units each, 1 to 3 treated: the MLE fits each
 *    level's treated share.
 * 5. The fitted probabilities are 1/(1 + e^-eta) to 2 ulp across eta in
 *    [-40, 40] and stay in [0, 1] beyond, on a row count that is not a
 *    multiple of the lane width. */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "logit.h"

/* A row_block_fn over a column-major matrix (the intercept column left
 * unwritten, as a kernel may), failing for the block that holds fail_at. */
struct from_matrix {
	const double *X;
	size_t n;
	int p;
	size_t fail_at;
	_Atomic int failed;
};

static int
rows_from_matrix(void *ctx, size_t first, size_t count, double *X)
{
	struct from_matrix *m = ctx;

	if (m->fail_at >= first && m->fail_at < first + count) {
		m->failed = 1;
		return -1;
	}
	for (int k = 1; k < m->p; k++)
		memcpy(X + (size_t)k * count, m->X + (size_t)k * m->n + first,
		    count * sizeof *X);
	return 0;
}

int
main(void)
{
	/* column-major: the intercept column, then x */
	const double X[2 * 8] = { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1 };
	const uint8_t y[8] = { 1, 0, 0, 0, 1, 1, 1, 0 };
	const logit_data data = { .X = X, .n = 8, .p = 2, .y = y };
	logit_opts o;
	logit_fit fit;
	double ps[8], mu[8], g0 = 0, g1 = 0;

	logit_opts_default(&o);
	CHECK(logit_fit_newton(&data, &o, &fit, mu) == LOGIT_OK, "MLE converges");
	CHECK_NEAR(fit.beta[0], log(1.0 / 3), 1e-9, "intercept = log(1/3)");
	CHECK_NEAR(fit.beta[1], log(9.0), 1e-9, "slope = log 9");
	CHECK_NEAR(fit.se[1], sqrt(8.0 / 3), 1e-7, "SE of the slope = sqrt(8/3)");
	CHECK_NEAR(fit.loglik, 4 * (0.25 * log(0.25) + 0.75 * log(0.75)) * 2, 1e-9,
	    "log-likelihood = 8 (1/4 log 1/4 + 3/4 log 3/4)");
	logit_predict(X, 8, 2, fit.beta, ps);
	CHECK_NEAR(ps[0], 0.25, 1e-9, "fitted p at x=0 is 1/4");
	CHECK_NEAR(ps[7], 0.75, 1e-9, "fitted p at x=1 is 3/4");
	CHECK(mu[0] == ps[0] && mu[7] == ps[7], "the fit's mu are logit_predict's values");
	{
		const double Xg[2 * 2] = { 1, 1, 0, 1 }, trials[2] = { 4, 4 }, succ[2] = { 1, 3 };
		const logit_data grouped = { .X = Xg, .n = 2, .p = 2, .trials = trials,
			.succ = succ };
		logit_fit gf;
		double gmu[2];

		CHECK(logit_fit_newton(&grouped, &o, &gf, gmu) == LOGIT_OK, "grouped MLE converges");
		CHECK_NEAR(gf.beta[0], fit.beta[0], 1e-12, "grouped: same intercept");
		CHECK_NEAR(gf.beta[1], fit.beta[1], 1e-12, "grouped: same slope");
		CHECK_NEAR(gf.se[1], fit.se[1], 1e-12, "grouped: same SE");
		CHECK_NEAR(gf.loglik, fit.loglik, 1e-12, "grouped: same log-likelihood");
		CHECK_NEAR(gmu[1], 0.75, 1e-9, "grouped: fitted p of the x=1 group is 3/4");
		logit_fit_free(&gf);
	}
	{
		/* a warm start at the optimum with its probabilities: no step */
		logit_opts w = o;
		logit_fit wf;
		double wmu[8];

		w.start = fit.beta;
		w.start_mu = mu;
		w.plain_newton = 1;
		CHECK(logit_fit_newton(&data, &w, &wf, wmu) == LOGIT_OK && wf.iterations == 0,
		    "a warm start at the optimum converges with no step");
		CHECK(wmu[3] == mu[3], "and hands back the starting probabilities");
		logit_fit_free(&wf);
	}
	{
		/* A warm start far off: the passes after steps over 1e-3 write no
		 * probabilities; with a tolerance that ends the fit after such a
		 * pass they are made at the end, the values of a pass. */
		const double far[2] = { fit.beta[0] + 0.5, fit.beta[1] - 0.5 };
		double far_mu[8], wmu[8], want[8];
		logit_opts w = o;
		logit_fit wf;
		int same = 1;

		logit_predict(X, 8, 2, far, far_mu);
		w.start = far;
		w.start_mu = far_mu;
		w.plain_newton = 1;
		w.tol = 0.05;
		CHECK(logit_fit_newton(&data, &w, &wf, wmu) == LOGIT_OK && wf.iterations == 1,
		    "a warm start 0.5 off, tol 0.05: one step of over 1e-3, then converged");
		logit_predict(X, 8, 2, wf.beta, want);
		for (int i = 0; i < 8; i++)
			same &= wmu[i] == want[i];
		CHECK(same, "  ... and its probabilities are logit_predict's at the coefficients, bit for bit");
		logit_fit_free(&wf);
	}
	{
		/* A warm start 0.02 off, plain: after a step under 1e-4 the
		 * Hessian is kept and the pass sums the gradient alone (a chord
		 * step), and once the last steps predict the next under tol /
		 * 100 the pass that would show it is skipped. The coefficients
		 * and probabilities are those of the full fit from the same
		 * start to 1e-12 (a chord step is off by the Hessian's change
		 * times itself), in as many steps; the standard errors come
		 * from the Hessian of a point a step or two back, up to 1e-4
		 * away (CHORD_STEP), so they agree to about that, and not to the
		 * last bit (they would, were every pass a full one). */
		const double near[2] = { fit.beta[0] + 0.02, fit.beta[1] - 0.02 };
		double near_mu[8], pmu[8], fmu[8], worst = 0;
		logit_opts w = o, full = o;
		logit_fit pf, ff;

		logit_predict(X, 8, 2, near, near_mu);
		w.start = full.start = near;
		w.start_mu = near_mu;
		w.plain_newton = 1;
		CHECK(logit_fit_newton(&data, &w, &pf, pmu) == LOGIT_OK &&
		    logit_fit_newton(&data, &full, &ff, fmu) == LOGIT_OK &&
		    pf.iterations == ff.iterations, "a warm start 0.02 off: the plain fit takes the full fit's steps");
		for (int k = 0; k < 2; k++)
			worst = fmax(worst, fabs(pf.beta[k] - ff.beta[k]) / fabs(ff.beta[k]));
		for (int i = 0; i < 8; i++)
			worst = fmax(worst, fabs(pmu[i] - fmu[i]) / fmu[i]);
		CHECK(worst < 1e-12, "  ... to the same coefficients and probabilities, to 1e-12");
		CHECK(pf.se[1] != ff.se[1] && fabs(pf.se[1] / ff.se[1] - 1) < 1e-4,
		    "  ... the SE from an earlier Hessian, to 1e-4");
		logit_predict(X, 8, 2, pf.beta, near_mu);
		worst = 0;
		for (int i = 0; i < 8; i++)
			worst = fmax(worst, fabs(pmu[i] - near_mu[i]));
		CHECK(worst == 0, "  ... its probabilities logit_predict's at its coefficients, bit for bit");
		logit_fit_free(&pf);
		logit_fit_free(&ff);
	}
	{
		/* The information at the optimum: w = 3/16 in every row, so
		 * sum w = 3/2 and the x = 1 rows' 3/4; its inverse's [1][1] is
		 * the slope's variance, 8/3. Then a warm start 0.02 off given
		 * that matrix: its first step a chord step from it, the fit
		 * ends at the full fit's optimum to 1e-10. */
		double info[4], near_mu[8], pmu[8], fmu[8], worst = 0;
		const double near[2] = { fit.beta[0] + 0.02, fit.beta[1] - 0.02 };
		logit_opts w = o, full = o;
		logit_fit pf, ff;

		logit_hessian(&data, mu, info);
		CHECK_NEAR(info[0], 1.5, 1e-12, "information at the optimum: sum of w = 3/2");
		CHECK(info[1] == info[2], "  ... symmetric, both triangles");
		CHECK_NEAR(info[3], 0.75, 1e-12, "  ... the x = 1 rows' sum of w = 3/4");
		CHECK_NEAR(info[0] / (info[0] * info[3] - info[1] * info[2]), 8.0 / 3, 1e-9,
		    "  ... its inverse's [1][1] is the slope's variance, 8/3");
		logit_predict(X, 8, 2, near, near_mu);
		w.start = full.start = near;
		w.start_mu = near_mu;
		w.start_hessian = info;
		w.plain_newton = 1;
		CHECK(logit_fit_newton(&data, &w, &pf, pmu) == LOGIT_OK &&
		    logit_fit_newton(&data, &full, &ff, fmu) == LOGIT_OK,
		    "a warm start 0.02 off with a Hessian given converges");
		for (int k = 0; k < 2; k++)
			worst = fmax(worst, fabs(pf.beta[k] - ff.beta[k]) / fabs(ff.beta[k]));
		CHECK(worst < 1e-10, "  ... to the full fit's optimum, to 1e-10");
		logit_fit_free(&pf);
		logit_fit_free(&ff);
		memset(info, 0, sizeof info);
		CHECK(logit_fit_newton(&data, &w, &pf, pmu) == LOGIT_SINGULAR,
		    "  ... and a given Hessian of zeros fails the first solve: the first step is made from it");
		logit_fit_free(&pf);
	}
	logit_fit_free(&fit);

	o.C = 1;
	CHECK(logit_fit_newton(&data, &o, &fit, mu) == LOGIT_OK, "L2 fit converges");
	logit_predict(X, 8, 2, fit.beta, ps);
	for (int i = 0; i < 8; i++) {
		g0 += y[i] - ps[i];
		g1 += (y[i] - ps[i]) * X[8 + i];
	}
	CHECK_NEAR(g0, 0, 1e-9, "L2: intercept not penalised, its score is 0");
	CHECK_NEAR(g1, fit.beta[1], 1e-9, "L2: score of x equals b1 / C");
	CHECK(fit.beta[1] < log(9.0) && fit.beta[1] > 0, "L2 shrinks the slope");
	logit_fit_free(&fit);

	{
		const double perfect[4] = { 0.1, 0.2, 0.8, 0.9 }, tied[4] = { 0.5, 0.5, 0.5, 0.9 };
		const uint8_t yy[4] = { 0, 0, 1, 1 };

		CHECK_NEAR(auc(perfect, yy, 4), 1.0, 1e-12, "AUC of a perfect score is 1");
		/* pairs (t, c): (0.5 vs 0.5) x2 ties -> 1/2 each; 0.9 beats both */
		CHECK_NEAR(auc(tied, yy, 4), (0.5 + 0.5 + 1 + 1) / 4, 1e-12, "AUC counts ties as 1/2");
	}
	{
		/* against every (treated, control) pair counted by hand, on scores
		 * with many ties (a tenth of the values) and enough rows for the
		 * radix sort (64 or more) */
		enum { NA = 3000 };
		static double sc[NA];
		static uint8_t ya[NA];
		double wins = 0, pairs = 0;
		uint64_t s = 12345;

		for (int i = 0; i < NA; i++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			ya[i] = (uint8_t)(s >> 63);
			sc[i] = (double)((s >> 20) % 300) / 300 + 0.2 * ya[i];
			if (i == 7)
				sc[i] = -0.0; /* -0 ties with the +0 values */
		}
		for (int i = 0; i < NA; i++)
			for (int j = 0; ya[i] && j < NA; j++)
				if (!ya[j]) {
					wins += sc[i] > sc[j] ? 1 : sc[i] == sc[j] ? 0.5 : 0;
					pairs++;
				}
		CHECK_NEAR(auc(sc, ya, NA), wins / pairs, 1e-13, "AUC with ties equals the pairs' count");
		{
			double as_one;

			ya[0] = 1;
			as_one = auc(sc, ya, NA);
			ya[0] = 2;
			CHECK(auc(sc, ya, NA) == as_one, "AUC reads a group flag of 2 as treated");
		}
		memset(ya, 0, sizeof ya);
		CHECK(isnan(auc(sc, ya, NA)), "AUC without treated units is NaN");
	}
	{
		/* separated data: x perfectly predicts y -> no convergence */
		const double Xs[2 * 4] = { 1, 1, 1, 1, 0, 0, 1, 1 };
		const uint8_t ys[4] = { 0, 0, 1, 1 };
		double mus[4];

		logit_opts_default(&o);
		o.max_iter = 30;
		CHECK(logit_fit_newton(&(logit_data){ .X = Xs, .n = 4, .p = 2, .y = ys }, &o,
		    &fit, mus) != LOGIT_OK, "separated data do not converge");
		logit_fit_free(&fit);
	}
	{
		/* 2x2 system solved by Cholesky: [4 2; 2 3] x = [2; 1] -> x = [1/2, 0] */
		double A[4] = { 4, 2, 2, 3 }, b[2] = { 2, 1 }, inv[4];

		CHECK(cholesky_solve(A, b, 2, inv) == 0, "Cholesky of an SPD matrix");
		CHECK_NEAR(b[0], 0.5, 1e-12, "solution x0 = 1/2");
		CHECK_NEAR(b[1], 0.0, 1e-12, "solution x1 = 0");
		CHECK_NEAR(inv[0], 3.0 / 8, 1e-12, "inverse [0][0] = 3/8");
		CHECK_NEAR(inv[1], -2.0 / 8, 1e-12, "inverse [0][1] = -1/4");
	}
	{
		/* 8001 rows (not a multiple of the lanes): eta from -40 to 40, then
		 * two far beyond either end */
		enum { N = 8003 };
		double *Xe = malloc(2 * N * sizeof *Xe), *pe = malloc(N * sizeof *pe);
		const double beta[2] = { 0, 1 };
		double worst = 0;
		int in_range = 1;

		for (int i = 0; i < N; i++) {
			Xe[i] = 1;
			Xe[N + i] = i < N - 2 ? -40 + 0.01 * i : i == N - 2 ? -800 : 800;
		}
		logit_predict(Xe, N, 2, beta, pe);
		for (int i = 0; i < N - 2; i++) {
			double eta = Xe[N + i], ref = eta >= 0 ? 1 / (1 + exp(-eta)) :
			    exp(eta) / (1 + exp(eta));

			worst = fmax(worst, fabs(pe[i] - ref) / ref);
		}
		for (int i = 0; i < N; i++)
			in_range &= pe[i] >= 0 && pe[i] <= 1;
		CHECK(worst < 5e-16, "fitted probabilities within 2 ulp of libm's");
		CHECK(pe[N - 2] == 0 && pe[N - 1] == 1, "eta -800 gives 0 and 800 gives 1");
		CHECK(in_range, "every probability in [0, 1]");
		free(Xe);
		free(pe);
	}
	{
		/* A pass takes 32 rows at a time for exp, then their sums a block
		 * of 8 at a time: for every row count up to 3 wide groups and a
		 * ragged tail, the fit solves its score equations summed here
		 * plainly (no row skipped or counted twice) and its probabilities
		 * are logit_predict's, bit for bit. */
		enum { MAXN = 100 };
		int solved = 1, same = 1;

		for (int N = 6; N <= MAXN; N++) {
			double Xr[2 * MAXN], mur[MAXN], want[MAXN], s0 = 0, s1 = 0;
			uint8_t yr[MAXN];
			logit_fit fr;

			for (int i = 0; i < N; i++) {
				Xr[i] = 1;
				Xr[N + i] = (double)(i % 7) / 3 - 1;
				yr[i] = (i * 5 + 3) % 11 < 4 + i % 3;
			}
			logit_opts_default(&o);
			if (logit_fit_newton(&(logit_data){ .X = Xr, .n = (size_t)N, .p = 2, .y = yr },
			    &o, &fr, mur) != LOGIT_OK) {
				solved = 0;
				continue;
			}
			for (int i = 0; i < N; i++) {
				double pi = 1 / (1 + exp(-(fr.beta[0] + fr.beta[1] * Xr[N + i])));

				s0 += yr[i] - pi;
				s1 += (yr[i] - pi) * Xr[N + i];
			}
			solved &= fabs(s0) < 1e-9 && fabs(s1) < 1e-9;
			logit_predict(Xr, (size_t)N, 2, fr.beta, want);
			for (int i = 0; i < N; i++)
				same &= mur[i] == want[i];
			logit_fit_free(&fr);
		}
		CHECK(solved, "6 to 100 rows: every fit solves the score equations summed by hand");
		CHECK(same, "6 to 100 rows: the fit's probabilities are logit_predict's, bit for bit");
	}
	for (int L = 1; L <= 26; L++) {
		enum { PER = 4 };
		int N = L * PER, converged, exact = 1;
		char name[80];
		double *Xb = calloc((size_t)L * (size_t)N, sizeof *Xb);
		double *mub = calloc((size_t)N, sizeof *mub);
		uint8_t *yb = calloc((size_t)N, 1);
		logit_fit fb;

		for (int i = 0; i < N; i++) {
			int level = i / PER;

			Xb[i] = 1;
			if (level > 0)
				Xb[(size_t)level * (size_t)N + (size_t)i] = 1;
			yb[i] = i % PER < 1 + level % 3;
		}
		logit_opts_default(&o);
		converged = logit_fit_newton(&(logit_data){ .X = Xb, .n = (size_t)N, .p = L,
		    .y = yb }, &o, &fb, mub) == LOGIT_OK;
		for (int i = 0; i < N; i++)
			exact &= fabs(mub[i] - (1 + (i / PER) % 3) / (double)PER) < 1e-9;
		snprintf(name, sizeof name, "%d-column model converges and fits each "
		    "level's treated share", L);
		CHECK(converged && exact, name);
		logit_fit_free(&fb);
		free(Xb);
		free(mub);
		free(yb);
	}
	{
		/* more rows than two chunks (2^20 each): summed a chunk at a time
		 * on 1, 2 and 3 threads (with 2, one takes chunks 0 and 2), the same
		 * bits; the fit solves its score equations (sum (y - p) x = 0) */
		size_t nb = ((size_t)2 << 20) + 4099; /* three chunks */
		double *Xb = malloc(3 * nb * sizeof *Xb), *mub = malloc(nb * sizeof *mub);
		uint8_t *yb = malloc(nb);
		logit_data db = { .X = Xb, .n = nb, .p = 3, .y = yb };
		logit_fit f1, f2, f3;
		logit_opts ob;
		uint64_t st = 99;
		int same = 1;
		double score[3] = { 0, 0, 0 };

		for (size_t i = 0; i < nb; i++) {
			double u[3], eta;

			for (int k = 0; k < 3; k++) {
				st = st * 6364136223846793005ull + 1442695040888963407ull;
				u[k] = (double)(st >> 11) / 9007199254740992.0;
			}
			Xb[i] = 1;
			Xb[nb + i] = u[0] * 2 - 1;
			Xb[2 * nb + i] = u[1] < 0.3;
			eta = -0.5 + 1.2 * Xb[nb + i] - 0.8 * Xb[2 * nb + i];
			yb[i] = u[2] < 1 / (1 + exp(-eta));
		}
		logit_opts_default(&ob);
		CHECK(logit_fit_newton(&db, &ob, &f1, mub) == LOGIT_OK, "past two chunks: converges");
		for (size_t i = 0; i < nb; i++)
			for (int k = 0; k < 3; k++)
				score[k] += (yb[i] - mub[i]) * Xb[k * nb + i];
		CHECK(fabs(score[0]) < 1e-6 && fabs(score[1]) < 1e-6 && fabs(score[2]) < 1e-6,
		    "past two chunks: the score equations hold");
		CHECK(fabs(f1.beta[1] - 1.2) < 0.02 && fabs(f1.beta[2] + 0.8) < 0.02,
		    "past two chunks: the slopes the data were made with");
		ob.threads = 2;
		logit_fit_newton(&db, &ob, &f2, mub);
		ob.threads = 3;
		logit_fit_newton(&db, &ob, &f3, mub);
		for (int k = 0; k < 3; k++)
			same &= f1.beta[k] == f2.beta[k] && f1.beta[k] == f3.beta[k] &&
			    f1.se[k] == f2.se[k] && f1.loglik == f3.loglik;
		CHECK(same, "past two chunks: 1, 2 and 3 threads give the same bits");
		/* the same fit from blocks of rows (no X) */
		for (int threads = 1; threads <= 3; threads++) {
			struct from_matrix src = { Xb, nb, 3, (size_t)-1, 0 };
			char name[120];
			logit_data dr = { .rows = rows_from_matrix, .rows_ctx = &src, .n = nb, .p = 3,
			    .y = yb };
			logit_fit fr;
			double *mur = malloc(nb * sizeof *mur);
			int rc;

			ob.threads = threads;
			rc = logit_fit_newton(&dr, &ob, &fr, mur);
			same = rc == LOGIT_OK && fr.iterations == f1.iterations && fr.loglik == f1.loglik &&
			    memcmp(mur, mub, nb * sizeof *mub) == 0;
			for (int k = 0; k < 3; k++)
				same &= fr.beta[k] == f1.beta[k] && fr.se[k] == f1.se[k];
			snprintf(name, sizeof name, "past two chunks, %d thread(s): rows built a "
			    "block at a time give X's bits (beta, se, loglik, mu)", threads);
			CHECK(same, name);
			logit_fit_free(&fr);
			/* a block that cannot be built: in the third chunk */
			src.fail_at = ((size_t)2 << 20) + 2048;
			rc = logit_fit_newton(&dr, &ob, &fr, mur);
			snprintf(name, sizeof name, "past two chunks, %d thread(s): a failing "
			    "block stops the fit (LOGIT_ROWS_FAILED)", threads);
			CHECK(rc == LOGIT_ROWS_FAILED && src.failed, name);
			logit_fit_free(&fr);
			free(mur);
		}
		logit_fit_free(&f1), logit_fit_free(&f2), logit_fit_free(&f3);
		free(Xb), free(mub), free(yb);
	}
	CHECK_DONE();
}
