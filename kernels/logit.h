/* logit — logistic regression by Newton's method, and the AUC.
 *
 * Maximises  sum_i [y_i log p_i + (1 - y_i) log(1 - p_i)] - |b|^2 / (2C)
 * where b is every coefficient but the intercept. C = 0 means no penalty
 * (maximum likelihood); C > 0 is scikit-learn's LogisticRegression(C=C)
 * objective, whose exact optimum this finds. Standard errors are the square
 * roots of the diagonal of the inverse (penalised) Hessian.
 *
 * Rows may stand for several units with the same covariates (grouped
 * binomial data, as R's glm(cbind(treated, controls) ~ x)): the fit is the
 * same as on the units one by one. boot fits its resamples that way.
 *
 * The passes over the rows are written in lanes (see lanes.h) with a
 * branch-free exp, so the compiler vectorises them with the same bits on
 * every instruction set.
 *
 * Ownership: data and options are borrowed; a logit_fit owns its
 * coefficients and covariance (logit_fit_free), start points are borrowed. (rule: base/README.md) */
#ifndef PSFLOW_LOGIT_H
#define PSFLOW_LOGIT_H

#include <stddef.h>
#include <stdint.h>

#include "rowblock.h"

typedef struct {
	double C;      /* 0: unpenalised */
	int max_iter;  /* default 100 */
	double tol;    /* converged at beta when every |Newton step| from it
			  is < tol * max(1, |beta_k|); default 1e-10 */
	const double *start;    /* p starting coefficients (a warm start); NULL: zeros */
	const double *start_mu; /* with start: the n fitted probabilities at start,
				   which saves the first pass's exp */
	const double *start_hessian; /* with start_mu and plain_newton, or NULL:
				   an information matrix (minus the log-likelihood's
				   Hessian, p x p, unpenalised; logit_hessian) near
				   start, such as the full data's for a bootstrap
				   replicate: the first pass sums the gradient alone
				   and the first step is a chord step from it */
	int plain_newton; /* no log-likelihood, no step halving: for warm starts
			     next to the optimum (boot's replicates); loglik is NaN.
			     And a step that the last two predict (Newton's
			     quadratic convergence) to be followed by one under
			     tol / 100 is the last: the coefficients are those
			     the pass after it would have stopped at, but the
			     standard errors come from the Hessian before it.
			     A pass after a step under 1e-4 sums the gradient
			     alone and the Hessian before it is kept (a chord
			     step). The standard errors then come from a
			     Hessian up to a step of 1e-4 back, and are good to
			     about that: a plain fit is not for them */
	int threads;      /* rows past a million (CHUNK_ROWS) are summed a
			     chunk at a time, on up to this many threads (default
			     1): the same bits whatever it is */
} logit_opts;

/* n rows of covariates, column-major: x_k of row i at X[k * n + i], column
 * 0 the intercept (all 1), which nothing here reads (a product with 1 is
 * the other factor), so it may be left unwritten. Or, with X NULL, built
 * by rows(rows_ctx, ...) a block of LOGIT_BLOCK_ROWS rows at a time in
 * every pass (rowblock.h; from the pass's threads at once): the same bits
 * as from X, with no n x p matrix (a fit of a hundred million rows of
 * six terms: 4.8 GB less). Each row is one unit, treated when y[i] is 1
 * (trials NULL), or trials[i] units of which succ[i] are treated. */
typedef struct {
	const double *X;
	row_block_fn rows;
	void *rows_ctx;
	size_t n;
	int p;
	const uint8_t *y;
	const double *trials, *succ;
} logit_data;

/* A multiple of the rows a pass takes at once, so that a pass sums a
 * block's rows as it sums X's */
#define LOGIT_BLOCK_ROWS ((size_t)2048)

/* The units and treated units of rows [i0, i0 + count): the one place that
 * reads "one unit each" or "trials and successes". Inlined into the lane
 * loops of the logistic pass and the separation check. */
static inline __attribute__((always_inline)) void
logit_units(const logit_data *d, size_t i0, int count, double *units, double *treated)
{
	if (d->trials)
		for (int j = 0; j < count; j++) {
			units[j] = d->trials[i0 + j];
			treated[j] = d->succ[i0 + j];
		}
	else
		for (int j = 0; j < count; j++) {
			units[j] = 1;
			treated[j] = d->y[i0 + j];
		}
}

typedef struct {
	double *beta, *se; /* p each; owned */
	int p;
	int iterations;    /* Newton steps taken */
	int converged;
	double loglik;     /* unpenalised log-likelihood at beta */
} logit_fit;

typedef enum {
	LOGIT_OK,
	LOGIT_NOT_CONVERGED, /* max_iter reached */
	LOGIT_SINGULAR,      /* the Hessian is not positive definite */
	LOGIT_ROWS_FAILED,   /* rows() failed (its context says why) */
} logit_status;

void logit_opts_default(logit_opts *o);
/* Fits; mu (n doubles) receives the fitted probabilities at fit->beta when
 * the status is LOGIT_OK. */
logit_status logit_fit_newton(const logit_data *d, const logit_opts *o, logit_fit *fit,
    double *mu);
void logit_fit_free(logit_fit *fit);
/* ps[i] = 1 / (1 + exp(-x_i . beta)), X column-major as above; the same
 * values as the fit's mu. */
void logit_predict(const double *X, size_t n, int p, const double *beta, double *ps);
/* The information matrix (minus the log-likelihood's Hessian: p x p, both
 * triangles, unpenalised) where the fitted probabilities are mu, as a
 * fit's pass sums it. Returns 0, or -1 when rows() failed. */
int logit_hessian(const logit_data *d, const double *mu, double *H);
/* Area under the ROC curve of score (not NaN) for y (0 or not: ties count
 * one half); NaN when a group is empty. */
double auc(const double *score, const uint8_t *y, size_t n);

/* Solves A x = b for a symmetric positive definite p x p A by Cholesky, in
 * place: A is overwritten, b becomes x. Returns -1 if A is not positive
 * definite. inverse (optional, p x p) receives A^-1. */
int cholesky_solve(double *A, double *b, int p, double *inverse);

#endif
