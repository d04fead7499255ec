#include "psfit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int
psfit_separation(const design *d, const double *X, const uint8_t *t, size_t n,
    char *why, size_t whylen)
{
	size_t p = (size_t)d->nterms + 1;

	for (int k = 0; k < d->nterms; k++) {
		const design_term *term = &d->terms[k];
		double lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };
		size_t in = 0, in_treated = 0;

		if (term->nfactors != 1)
			continue;
		for (size_t i = 0; i < n; i++) {
			double x = X[i * p + 1 + (size_t)k];

			lo[t[i]] = fmin(lo[t[i]], x);
			hi[t[i]] = fmax(hi[t[i]], x);
			if (x != 0) {
				in++;
				in_treated += t[i];
			}
		}
		if (term->factors[0].level) {
			if (in == 0) {
				snprintf(why, whylen, "no unit has %s = %s: drop the level "
				    "or the covariate", term->factors[0].column,
				    term->factors[0].level);
				return -1;
			}
			if (in_treated == 0 || in_treated == in) {
				snprintf(why, whylen, "perfect separation: all %zu units with "
				    "%s = %s are %s, so their propensity is %d; drop or merge "
				    "that level, or remove those units upstream", in,
				    term->factors[0].column, term->factors[0].level,
				    in_treated ? "treated" : "controls", in_treated ? 1 : 0);
				return -1;
			}
		} else if (hi[0] < lo[1] || hi[1] < lo[0]) {
			snprintf(why, whylen, "perfect separation: %s splits the groups "
			    "(every treated unit has a %s %s than every control); the "
			    "propensities would be 0 and 1", term->name,
			    hi[0] < lo[1] ? "higher" : "lower", term->name);
			return -1;
		}
	}
	/* the reference level of each categorical covariate: rows where all of
	 * its dummies are 0 */
	for (int k = 0; k < d->nterms; k++) {
		const char *col = d->terms[k].factors[0].column;
		size_t in = 0, in_treated = 0;
		int seen_before = 0;

		if (d->terms[k].nfactors != 1 || d->terms[k].factors[0].level == NULL)
			continue;
		for (int j = 0; j < k; j++)
			if (d->terms[j].nfactors == 1 && d->terms[j].factors[0].level &&
			    strcmp(d->terms[j].factors[0].column, col) == 0)
				seen_before = 1;
		if (seen_before)
			continue;
		for (size_t i = 0; i < n; i++) {
			int any = 0;

			for (int j = k; j < d->nterms; j++)
				if (d->terms[j].nfactors == 1 && d->terms[j].factors[0].level &&
				    strcmp(d->terms[j].factors[0].column, col) == 0 &&
				    X[i * p + 1 + (size_t)j] != 0)
					any = 1;
			if (!any) {
				in++;
				in_treated += t[i];
			}
		}
		if (in > 0 && (in_treated == 0 || in_treated == in)) {
			snprintf(why, whylen, "perfect separation: all %zu units in the "
			    "reference level of %s are %s; drop or merge that level, or "
			    "remove those units upstream", in, col,
			    in_treated ? "treated" : "controls");
			return -1;
		}
	}
	return 0;
}

/* Names the terms with the largest coefficients: the likely culprits. */
static void
name_suspects(const design *d, const logit_fit *fit, char *buf, size_t size)
{
	int used[3] = { -1, -1, -1 };
	size_t off = 0;

	for (int r = 0; r < 3 && r < d->nterms; r++) {
		int best = -1;

		for (int k = 0; k < d->nterms; k++) {
			if (k == used[0] || k == used[1])
				continue;
			if (best < 0 || fabs(fit->beta[k + 1]) > fabs(fit->beta[best + 1]))
				best = k;
		}
		used[r] = best;
		off += (size_t)snprintf(buf + off, off < size ? size - off : 0, "%s%s (%.3g)",
		    r ? ", " : "", d->terms[best].name, fit->beta[best + 1]);
	}
}

int
psfit_fit(const design *d, const double *X, const uint8_t *t, size_t n,
    const logit_opts *o, logit_fit *fit, double *ps, char *why, size_t whylen)
{
	int p = d->nterms + 1;
	logit_status st;
	char suspects[256];
	size_t extreme = 0;

	if (psfit_separation(d, X, t, n, why, whylen) != 0) {
		memset(fit, 0, sizeof *fit);
		return -1;
	}
	st = logit_fit_newton(X, t, n, p, o, fit);
	if (st == LOGIT_SINGULAR) {
		snprintf(why, whylen, "the propensity model cannot be fitted: its "
		    "covariates are collinear (a term is constant or a combination of "
		    "others); check -x");
		return -1;
	}
	name_suspects(d, fit, suspects, sizeof suspects);
	if (st == LOGIT_NOT_CONVERGED) {
		snprintf(why, whylen, "the propensity model did not converge in %d "
		    "iterations (near-separation?); the largest coefficients: %s",
		    fit->iterations, suspects);
		return -1;
	}
	logit_predict(X, n, p, fit->beta, ps);
	for (size_t i = 0; i < n; i++)
		if (ps[i] <= 0 || ps[i] >= 1)
			extreme++;
	if (extreme) {
		snprintf(why, whylen, "%zu fitted propensities are 0 or 1 to double "
		    "precision (near-separation); the largest coefficients: %s",
		    extreme, suspects);
		return -1;
	}
	return 0;
}
