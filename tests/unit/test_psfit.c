/* psfit: the witnesses that spare boot's refits their separation check.
 *
 * The model: a categorical g (levels a, b, c; a the reference, so terms
 * g=b and g=c) and a number x. psfit_separation's checks, in order:
 * 0 g=b, 1 g=c, 2 x (every row), 3 the reference level g=a.
 *
 *   row  g  x    units treated  rarer kind
 *    0   a  0.1    5     2        2
 *    1   a  0.5    3     1        1
 *    2   b  0.2    4     2        2
 *    3   b  0.9    2     2        0
 *    4   c  0.3    6     3        3
 *    5   c  0.7    1     0        0
 *
 * Each check's two rows with the most units of the rarer kind (none with
 * 0): g=b row 2; g=c row 4; x rows 4 and 0 (row 0 comes before row 2 at
 * 2); g=a rows 0 and 1. What each row answers: row 2 {g=b, x} = 0101,
 * row 4 {g=c, x} = 0110, rows 0 and 1 {x, g=a} = 1100. Six witnesses.
 *
 * On resamples, psfit_fit_witnessed must answer as psfit_fit: the same
 * message where a level or x separates (the witnesses are not mixed there,
 * so the check runs), the same fit where nothing does. More than 64 checks:
 * no witnesses, the check always runs. And psfit_separation from blocks of
 * rows (ld->rows) answers as from the matrix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "psfit.h"

#define N 6

static const double X[4 * N] = {
	1, 1, 1, 1, 1, 1,             /* intercept */
	0, 0, 1, 1, 0, 0,             /* g = b */
	0, 0, 0, 0, 1, 1,             /* g = c */
	0.1, 0.5, 0.2, 0.9, 0.3, 0.7, /* x */
};

static void
model(design *d)
{
	design_factor b = { .column = "g", .level = "b" }, c = { .column = "g", .level = "c" },
	    x = { .column = "x" };

	memset(d, 0, sizeof *d);
	design_add_term(d, &b, 1);
	design_add_term(d, &c, 1);
	design_add_term(d, &x, 1);
}

/* psfit_fit and psfit_fit_witnessed agree on a resample: status, message
 * and propensities */
static int
same_answer(const design *d, const psfit_witnesses *w, const double *units,
    const double *treated, const char *want_why)
{
	logit_data ld = { .X = X, .n = N, .p = 4, .trials = units, .succ = treated };
	logit_opts o;
	logit_fit f1, f2;
	double ps1[N], ps2[N];
	char why1[256] = "", why2[256] = "";
	int rc1, rc2, same;

	logit_opts_default(&o);
	o.C = 1;
	rc1 = psfit_fit(d, &ld, &o, &f1, ps1, why1, sizeof why1);
	rc2 = psfit_fit_witnessed(d, &ld, &o, w, &f2, ps2, why2, sizeof why2);
	same = rc1 == rc2 && strcmp(why1, why2) == 0 &&
	    (rc1 != 0 || memcmp(ps1, ps2, sizeof ps1) == 0) &&
	    (want_why == NULL ? rc1 == 0 : strstr(why1, want_why) != NULL);
	if (!same)
		printf("#   %d '%s' / %d '%s'\n", rc1, why1, rc2, why2);
	logit_fit_free(&f1);
	logit_fit_free(&f2);
	return same;
}

/* The rows of X repeated REPEAT times (more rows than a few blocks of
 * LOGIT_BLOCK_ROWS, the last one short), as a matrix and as a row_block_fn
 * failing for the block that holds fail_at. */
#define REPEAT 1100
#define NBIG ((size_t)N * REPEAT)

struct repeated {
	size_t fail_at;
};

static int
repeated_rows(void *ctx, size_t first, size_t count, double *Xb)
{
	const struct repeated *rp = ctx;

	if (rp->fail_at >= first && rp->fail_at < first + count)
		return -1;
	for (int k = 1; k < 4; k++)
		for (size_t r = 0; r < count; r++)
			Xb[(size_t)k * count + r] = X[k * N + (first + r) % N];
	return 0;
}

/* psfit_separation from the matrix and from blocks: the same status and
 * message, the status want */
static int
same_separation(const design *d, const double *units, const double *treated, int want)
{
	double *Xbig = malloc(4 * NBIG * sizeof *Xbig), *u = malloc(NBIG * sizeof *u),
	    *t = malloc(NBIG * sizeof *t);
	struct repeated rp = { (size_t)-1 };
	char why1[256] = "", why2[256] = "";
	int rc1, rc2, same;

	for (size_t r = 0; r < NBIG; r++) {
		for (int k = 0; k < 4; k++)
			Xbig[k * NBIG + r] = X[k * N + r % N];
		u[r] = units[r % N];
		t[r] = treated[r % N];
	}
	rc1 = psfit_separation(d, &(logit_data){ .X = Xbig, .n = NBIG, .p = 4, .trials = u,
	    .succ = t }, why1, sizeof why1);
	rc2 = psfit_separation(d, &(logit_data){ .rows = repeated_rows, .rows_ctx = &rp,
	    .n = NBIG, .p = 4, .trials = u, .succ = t }, why2, sizeof why2);
	same = rc1 == want && rc1 == rc2 && strcmp(why1, why2) == 0;
	if (!same)
		printf("#   %d '%s' / %d '%s'\n", rc1, why1, rc2, why2);
	free(Xbig), free(u), free(t);
	return same;
}

int
main(void)
{
	design d;
	psfit_witnesses w;
	double units[N] = { 5, 3, 4, 2, 6, 1 }, treated[N] = { 2, 1, 2, 2, 3, 0 };
	logit_data full = { .X = X, .n = N, .p = 4, .trials = units, .succ = treated };
	static const size_t want_rows[6] = { 2, 4, 4, 0, 0, 1 };
	static const uint64_t want_answers[6] = { 5, 6, 6, 12, 12, 12 };

	model(&d);
	psfit_witnesses_find(&w, &d, &full);
	CHECK(w.usable && w.all == 15 && w.n == 6, "four checks, six witnesses");
	CHECK(memcmp(w.row, want_rows, sizeof want_rows) == 0, "the witnesses' rows by hand");
	CHECK(memcmp(w.answers, want_answers, sizeof want_answers) == 0,
	    "the checks each witness answers, by hand");

	CHECK(same_answer(&d, &w, units, treated, NULL),
	    "every witness mixed: the same fit as with the check");
	{ /* level b all treated: its witness (row 2) is not mixed */
		double u[N] = { 5, 3, 4, 2, 6, 1 }, t[N] = { 2, 1, 4, 2, 3, 0 };

		CHECK(same_answer(&d, &w, u, t, "all 6 units with g = b are treated"),
		    "a level that separates is still found");
	}
	{ /* treated only at x >= 0.5: no witness is mixed */
		double u[N] = { 5, 3, 4, 2, 6, 1 }, t[N] = { 0, 3, 0, 2, 0, 1 };

		CHECK(same_answer(&d, &w, u, t, "x splits the groups"),
		    "a number that separates is still found");
	}
	{ /* the reference level all controls */
		double u[N] = { 5, 3, 4, 2, 6, 1 }, t[N] = { 0, 0, 2, 1, 3, 0 };

		CHECK(same_answer(&d, &w, u, t, "reference level of g are controls"),
		    "a reference level that separates is still found");
	}
	{ /* witnesses not mixed (rows 2, 4, 0 lost a kind), nothing separates */
		double u[N] = { 5, 3, 4, 2, 6, 1 }, t[N] = { 0, 1, 4, 1, 6, 0 };

		CHECK(same_answer(&d, &w, u, t, NULL),
		    "witnesses unmixed without separation: the same fit");
	}

	/* separation found from blocks of rows as from the matrix */
	CHECK(same_separation(&d, units, treated, 0), "blocks: nothing separates, as X");
	{
		double t[N] = { 2, 1, 4, 2, 3, 0 };

		CHECK(same_separation(&d, units, t, -1), "blocks: level b separates, as X");
	}
	{
		double t[N] = { 0, 3, 0, 2, 0, 1 };

		CHECK(same_separation(&d, units, t, -1), "blocks: x separates, as X");
	}
	{
		double t[N] = { 0, 0, 2, 1, 3, 0 };

		CHECK(same_separation(&d, units, t, -1),
		    "blocks: the reference level separates, as X");
	}
	{ /* the last, short block cannot be built */
		double *u = malloc(NBIG * sizeof *u), *t = malloc(NBIG * sizeof *t);
		struct repeated rp = { NBIG - 1 };
		char why[256] = "";

		for (size_t r = 0; r < NBIG; r++)
			u[r] = units[r % N], t[r] = treated[r % N];
		CHECK(psfit_separation(&d, &(logit_data){ .rows = repeated_rows, .rows_ctx = &rp,
		    .n = NBIG, .p = 4, .trials = u, .succ = t }, why, sizeof why) ==
		    PSFIT_ROWS_FAILED, "blocks: a block that fails: PSFIT_ROWS_FAILED");
		free(u), free(t);
	}
	design_free(&d);

	{ /* 65 numeric terms: more checks than the masks hold */
		design many;
		double *Xm = calloc(66 * 4, sizeof *Xm), u[4] = { 2, 2, 2, 2 }, t[4] = { 1, 1, 1, 1 };
		char names[65][16];

		memset(&many, 0, sizeof many);
		for (int k = 0; k < 65; k++) {
			design_factor f = { .column = names[k] };

			snprintf(names[k], sizeof names[k], "x%d", k);
			design_add_term(&many, &f, 1);
		}
		psfit_witnesses_find(&w, &many, &(logit_data){ .X = Xm, .n = 4, .p = 66,
		    .trials = u, .succ = t });
		CHECK(!w.usable && w.n == 0, "more than 64 checks: no witnesses");
		design_free(&many);
		free(Xm);
	}
	CHECK_DONE();
}
