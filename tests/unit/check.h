/* check — the smallest unit-test harness: one "ok - " or "not ok - " line per
 * check, and an exit status of 1 when anything failed. */
#ifndef PSFLOW_CHECK_H
#define PSFLOW_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_failures;

#define CHECK(cond, name)                                                   \
	do {                                                                \
		if (cond)                                                   \
			printf("ok - %s\n", name);                          \
		else {                                                      \
			printf("not ok - %s\n#   %s:%d: %s\n", name,        \
			    __FILE__, __LINE__, #cond);                      \
			check_failures++;                                   \
		}                                                           \
	} while (0)

#define CHECK_NEAR(got, want, tol, name)                                    \
	do {                                                                \
		double g_ = (got), w_ = (want);                             \
		if (fabs(g_ - w_) <= (tol))                                 \
			printf("ok - %s\n", name);                          \
		else {                                                      \
			printf("not ok - %s\n#   got %.12g, want %.12g +- %g\n", \
			    name, g_, w_, (double)(tol));                    \
			check_failures++;                                   \
		}                                                           \
	} while (0)

#define CHECK_DONE() return check_failures ? 1 : 0

#endif
