/* pshist: the bin of a propensity at the edges, weighted sums by group, the
 * occupied span, and what is not binned, by hand. */
#include "check.h"
#include "pshist.h"

int
main(void)
{
	pshist h;
	const uint8_t t[6] = { 1, 0, 1, 0, 0, 1 };
	const double ps[6] = { 0.1, 0.1049, 0.105, 1.0, -0.1, 0.0 / 0.0 };
	const double w[6] = { 2, 3, 4, 5, 6, 7 };
	int first, last;

	CHECK(pshist_bin(0) == 0, "ps 0 is bin 0");
	CHECK(pshist_bin(0.0049) == 0 && pshist_bin(0.005) == 1, "bins are 0.005 wide");
	CHECK(pshist_bin(1) == PSHIST_BINS - 1, "ps 1 falls in the last bin");
	CHECK(pshist_bin(1.0000001) == -1 && pshist_bin(-1e-300) == -1, "outside [0, 1]: -1");
	pshist_init(&h);
	CHECK(pshist_span(&h, &first, &last) == -1, "an empty histogram has no span");
	pshist_add(&h, t, ps, w, 6);
	/* 0.1 * 200 = 20, 0.1049 * 200 = 20.98, 0.105 * 200 = 21 */
	CHECK(h.sum[1][20] == 2 && h.sum[0][20] == 3, "0.1 and 0.1049 share bin 20, by group");
	CHECK(h.sum[1][21] == 4, "0.105 opens bin 21");
	CHECK(h.sum[0][PSHIST_BINS - 1] == 5, "the control at ps 1 in the last bin");
	CHECK(h.skipped == 13, "ps -0.1 and NaN are not binned: weights 6 + 7 skipped");
	CHECK(pshist_span(&h, &first, &last) == 0 && first == 20 && last == PSHIST_BINS - 1,
	    "span: bins 20 to the last");
	pshist_add(&h, t, ps, NULL, 1);
	CHECK(h.sum[1][20] == 3, "without weights a unit counts 1");
	return check_failures != 0;
}
