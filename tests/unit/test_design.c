/* design: terms from a spec, the model matrix by hand, and every problem
 * returned as a status and a message naming where the spec came from (the
 * kernel never exits). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "design.h"

int
main(void)
{
	table t;
	design d;
	char why[512];
	double X[3 * 4];
	char *levels[] = { "b", "a", "c" }; /* sorted: a b c; a dropped */

	table_init(&t);
	table_add_column(&t, "x", COL_F64, NULL, 0);
	table_add_column(&t, "g", COL_CAT, levels, 3);
	table_add_column(&t, "one", COL_CAT, levels, 1);
	table_set_rows(&t, 3);
	{
		double *x = t.cols[0].data;
		int32_t *g = t.cols[1].data, *one = t.cols[2].data;

		x[0] = 1.5, x[1] = -2, x[2] = 4;
		g[0] = 0, g[1] = 1, g[2] = 2; /* b a c */
		one[0] = one[1] = one[2] = 0;
	}
	CHECK(design_from_spec(&d, "x,g", &t, "-x", why, sizeof why) == DESIGN_OK &&
	    d.nterms == 3 && strcmp(d.terms[0].name, "x") == 0 &&
	    strcmp(d.terms[1].name, "g_b") == 0 && strcmp(d.terms[2].name, "g_c") == 0,
	    "x,g: x, g_b, g_c (the first sorted level, a, dropped)");
	CHECK(design_matrix(&d, &t, 3, X, why, sizeof why) == 0 &&
	    X[0] == 1 && X[1] == 1 && X[2] == 1 && X[3] == 1.5 && X[4] == -2 && X[5] == 4 &&
	    X[6] == 1 && X[7] == 0 && X[8] == 0 && X[9] == 0 && X[10] == 0 && X[11] == 1,
	    "the matrix by hand: intercept, x, g == b, g == c, column-major");
	design_free(&d);
	CHECK(design_from_spec(&d, "x:g", &t, "-x", why, sizeof why) == DESIGN_OK &&
	    d.nterms == 2 && strcmp(d.terms[0].name, "x:g_b") == 0,
	    "x:g: x times each dummy");
	CHECK(design_matrix(&d, &t, 3, X, why, sizeof why) == 0 && X[3] == 1.5 && X[4] == 0 &&
	    X[8] == 4, "x:g's columns: 1.5 0 0 | 0 0 4");
	design_free(&d);
	CHECK(design_from_spec(&d, "x*g", &t, "-x", why, sizeof why) == DESIGN_OK &&
	    d.nterms == 5, "x*g: x, g_b, g_c, x:g_b, x:g_c");
	design_free(&d);

	/* terms as R's formulas write them, by hand: x = 1.5, -2, 4 */
	CHECK(design_from_spec(&d, "x^2,I(x^2)", &t, "-x", why, sizeof why) == DESIGN_OK &&
	    d.nterms == 1 && strcmp(d.terms[0].name, "x^2") == 0,
	    "x^2 and I(x^2) are one term, x^2 (x times x)");
	CHECK(design_matrix(&d, &t, 3, X, why, sizeof why) == 0 && X[3] == 2.25 && X[4] == 4 &&
	    X[5] == 16, "x^2's column: 2.25 4 16");
	design_free(&d);
	CHECK(design_from_spec(&d, "log1p(x):g", &t, "-x", why, sizeof why) == DESIGN_OK &&
	    d.nterms == 2 && strcmp(d.terms[0].name, "log1p(x):g_b") == 0,
	    "log1p(x):g: the transform times each dummy, named");
	CHECK(design_matrix(&d, &t, 3, X, why, sizeof why) == DESIGN_BAD_DATA &&
	    strstr(why, "log1p(x) at row 1 (counting from 0): -2 is outside its domain"),
	    "log1p(-2): outside the domain, the row named");
	design_free(&d);
	((double *)t.cols[0].data)[1] = 2;
	CHECK(design_from_spec(&d, "log(x)", &t, "-x", why, sizeof why) == DESIGN_OK &&
	    design_matrix(&d, &t, 3, X, why, sizeof why) == 0 && X[3] == log(1.5) &&
	    X[4] == log(2.0) && X[5] == log(4.0), "log(x)'s column: log 1.5, log 2, log 4");
	design_free(&d);
	((double *)t.cols[0].data)[1] = -2;
	CHECK(design_from_spec(&d, "g^2", &t, "-x", why, sizeof why) == DESIGN_BAD_SPEC &&
	    strstr(why, "g^2 in -x: 'g' is categorical"), "the square of a categorical: refused");
	CHECK(design_from_spec(&d, "log(g)", &t, "-x", why, sizeof why) == DESIGN_BAD_SPEC &&
	    strstr(why, "log(g) in -x: 'g' is categorical"), "log of a categorical: refused");

	CHECK(design_from_spec(&d, "nope", &t, "-x", why, sizeof why) == DESIGN_BAD_DATA &&
	    strstr(why, "covariate 'nope' (from -x) is not in the stream") && d.nterms == 0,
	    "a missing column: DESIGN_BAD_DATA, named, from -x");
	CHECK(design_from_spec(&d, "x,nope", &t, "the recipe's fitps entry", why,
	    sizeof why) == DESIGN_BAD_DATA &&
	    strstr(why, "(from the recipe's fitps entry)") && !strstr(why, "-x"),
	    "the same from a recipe names the recipe, not -x");
	CHECK(design_from_spec(&d, "x,one", &t, "-x", why, sizeof why) == DESIGN_BAD_DATA &&
	    strstr(why, "'one' has only one level") && strstr(why, "drop it from -x"),
	    "a categorical covariate with one level");
	CHECK(design_from_spec(&d, "x,,g", &t, "-x", why, sizeof why) == DESIGN_BAD_SPEC &&
	    strstr(why, "-x has an empty item"), "an empty item: DESIGN_BAD_SPEC");
	CHECK(design_from_spec(&d, "x*g:x", &t, "-x", why, sizeof why) == DESIGN_BAD_SPEC &&
	    strstr(why, "mixes '*' and ':'"), "'*' and ':' in one item");
	CHECK(design_from_spec(&d, "x:", &t, "-x", why, sizeof why) == DESIGN_BAD_SPEC &&
	    strstr(why, "has an empty part"), "an empty part");
	CHECK(design_from_spec(&d, "a:b:c:d:e:f:g:h:i", &t, "-x", why, sizeof why) ==
	    DESIGN_BAD_SPEC && strstr(why, "more than 8 parts"), "more than 8 parts");

	design_from_spec(&d, "x,g", &t, "-x", why, sizeof why);
	((double *)t.cols[0].data)[1] = NAN;
	((int32_t *)t.cols[1].data)[2] = -1; /* missing */
	CHECK(design_matrix(&d, &t, 3, X, why, sizeof why) == DESIGN_MISSING &&
	    strstr(why, "covariate 'x' has 1 missing, NaN or infinite values (the first at row 1, counting from 0)"),
	    "a NaN: DESIGN_MISSING with the count and the first row");
	((double *)t.cols[0].data)[1] = 0;
	CHECK(design_matrix(&d, &t, 3, X, why, sizeof why) == DESIGN_MISSING &&
	    strstr(why, "covariate 'g' has 1 missing") && strstr(why, "row 2"),
	    "a missing level: DESIGN_MISSING, row 2");
	{
		table other;

		table_init(&other);
		table_add_column(&other, "x", COL_F64, NULL, 0);
		table_add_column(&other, "g", COL_F64, NULL, 0);
		table_set_rows(&other, 3);
		memset(other.cols[0].data, 0, 3 * sizeof(double));
		CHECK(design_matrix(&d, &other, 3, X, why, sizeof why) == -1 &&
		    strstr(why, "'g' was categorical when the model was fitted"),
		    "a model's categorical column that is numeric here: -1");
		table_free(&other);
	}
	design_free(&d);

	/* missing-value indicators, by hand: x = 1.5, NaN, 4 (the median of the
	 * rest: 2.75), g = b, a, missing (no level: both dummies 0) */
	((double *)t.cols[0].data)[1] = NAN;
	{
		design_fills f;

		design_from_spec(&d, "x,g", &t, "-x", why, sizeof why);
		CHECK(design_find_fills(&d, &t, 3, &f, why, sizeof why) == 0 && f.n == 2 &&
		    strcmp(f.cols[0].column, "x") == 0 && f.cols[0].numeric &&
		    f.cols[0].fill == 2.75 && f.cols[0].missing == 1 &&
		    strcmp(f.cols[1].column, "g") == 0 && !f.cols[1].numeric &&
		    f.cols[1].missing == 1, "fills: x's median of 1.5 and 4 (2.75), g's none");
		design_apply_fills(&d, &f);
		CHECK(d.nterms == 5 && strcmp(d.terms[3].name, "x:<NA>") == 0 &&
		    strcmp(d.terms[4].name, "g:<NA>") == 0, "terms x:<NA> and g:<NA> added last");
		{
			double Y[3 * 6];

			CHECK(design_matrix(&d, &t, 3, Y, why, sizeof why) == 0 &&
			    Y[3] == 1.5 && Y[4] == 2.75 && Y[5] == 4 &&       /* x filled */
			    Y[6] == 1 && Y[7] == 0 && Y[8] == 0 &&            /* g_b */
			    Y[9] == 0 && Y[10] == 0 && Y[11] == 0 &&          /* g_c: missing is 0 */
			    Y[12] == 0 && Y[13] == 1 && Y[14] == 0 &&         /* x:<NA> */
			    Y[15] == 0 && Y[16] == 0 && Y[17] == 1,           /* g:<NA> */
			    "the filled matrix by hand: x 1.5 2.75 4, g_c 0 0 0, x:<NA> 0 1 0, "
			    "g:<NA> 0 0 1");
		}
		design_fills_free(&f);
		design_free(&d);
		design_from_spec(&d, "x", &t, "-x", why, sizeof why);
		((double *)t.cols[0].data)[0] = NAN;
		((double *)t.cols[0].data)[2] = NAN;
		CHECK(design_find_fills(&d, &t, 3, &f, why, sizeof why) == -1 && f.n == 0 &&
		    strstr(why, "'x' has no value that is not missing"),
		    "every value missing: no median, -1");
		design_free(&d);
	}
	{ /* design_check: design_matrix's statuses and messages, counted over
	   * blocks (4096 rows) and over the blocks of a number (256) */
		enum { BIG = 10000 };
		table big;
		double *x, *M = malloc(3 * BIG * sizeof *M);
		int32_t *g;
		int64_t *z;
		static const struct {
			const char *spec, *want;
			int status;
		} cases[] = {
			{ "z", NULL, 0 },
			{ "x", "covariate 'x' has 3 missing, NaN or infinite values (the first "
			    "at row 4100, counting from 0)", DESIGN_MISSING },
			{ "g", "covariate 'g' has 2 missing, NaN or infinite values (the first "
			    "at row 300, counting from 0)", DESIGN_MISSING },
			{ "x:g", "covariate 'x' has 3 missing", DESIGN_MISSING },
			{ "log(z)", "log(z) at row 8193 (counting from 0): 0 is outside its "
			    "domain", DESIGN_BAD_DATA },
		};

		table_init(&big);
		table_add_column(&big, "x", COL_F64, NULL, 0);
		table_add_column(&big, "g", COL_CAT, levels, 3);
		table_add_column(&big, "z", COL_I64, NULL, 0);
		table_set_rows(&big, BIG);
		x = big.cols[0].data, g = big.cols[1].data, z = big.cols[2].data;
		for (size_t r = 0; r < BIG; r++)
			x[r] = (double)r / 7, g[r] = r % 3, z[r] = 1 + (int64_t)r % 5;
		x[4100] = NAN, x[7000] = INFINITY, x[BIG - 1] = -INFINITY;
		g[300] = -1, g[9000] = -1;
		z[8193] = 0;
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			char why_matrix[512] = "", why_check[512] = "", name[160];
			int rc_matrix, rc_check;

			design_from_spec(&d, cases[i].spec, &big, "-x", why, sizeof why);
			rc_matrix = design_matrix(&d, &big, BIG, M, why_matrix, sizeof why_matrix);
			rc_check = design_check(&d, &big, BIG, why_check, sizeof why_check);
			snprintf(name, sizeof name, "design_check '%s': design_matrix's status "
			    "and message, by hand", cases[i].spec);
			CHECK(rc_check == cases[i].status && rc_matrix == rc_check &&
			    strcmp(why_matrix, why_check) == 0 &&
			    (cases[i].want == NULL || strstr(why_check, cases[i].want)), name);
			design_free(&d);
		}
		table_free(&big);
		free(M);
	}
	table_free(&t);
	CHECK_DONE();
}
