/* rowgroup and bigmem, by hand.
 *
 * Rows (column-major, 2 columns) (1, 0.5) (2, 0.5) (1, 0.5) (1, -0.5)
 * (2, 0.5): groups 0 1 0 2 1, numbered by first appearance; -0.0 and 0.0
 * differ in their bits, so they are two groups.
 * bigmem: a block keeps its bytes as it grows past BIGMEM_MIN (onto huge
 * pages), shrinks in place while it stays above it, and shrinks back
 * below it. */
#include <string.h>

#include "bigmem.h"
#include "check.h"
#include "rowgroup.h"

int
main(void)
{
	const double X[2 * 5] = { 1, 2, 1, 1, 2, 0.5, 0.5, 0.5, -0.5, 0.5 };
	const double Z[2] = { 0.0, -0.0 };
	uint32_t g[5], gz[2];
	size_t n = rowgroup(X, 5, 2, g);

	CHECK(n == 3, "three distinct rows");
	CHECK(g[0] == 0 && g[1] == 1 && g[2] == 0 && g[3] == 2 && g[4] == 1,
	    "groups 0 1 0 2 1, numbered by first row");
	CHECK(rowgroup(Z, 2, 1, gz) == 2, "0.0 and -0.0 are two groups (bits)");
	{
		size_t small = 1000, big = BIGMEM_MIN * 3 + 5;
		unsigned char *p = bigmem_resize(NULL, 0, small);
		int kept = 1;

		for (size_t i = 0; i < small; i++)
			p[i] = (unsigned char)i;
		p = bigmem_resize(p, small, big);
		for (size_t i = 0; i < small; i++)
			kept &= p[i] == (unsigned char)i;
		memset(p + small, 7, big - small);
		CHECK(kept && p[big - 1] == 7, "grown past BIGMEM_MIN: bytes kept, all writable");
		/* big to bigger: the pages are moved (mremap), not copied */
		p = bigmem_resize(p, big, big + BIGMEM_MIN);
		kept &= p[small - 1] == (unsigned char)(small - 1) && p[big - 1] == 7;
		memset(p + big, 9, BIGMEM_MIN);
		kept &= p[big + BIGMEM_MIN - 1] == 9 && p[big] == 9 && p[big - 1] == 7;
		{ /* big to smaller but big: in place, its head kept */
			unsigned char *q = bigmem_resize(p, big + BIGMEM_MIN, big + BIGMEM_MIN / 2 - 1);

			CHECK(q == p && q[big - 1] == 7 && q[small - 1] == (unsigned char)(small - 1),
			    "shrunk but still big: the same place, its bytes kept");
			q[big + BIGMEM_MIN / 2 - 2] = 3; /* still writable to its new end */
			p = bigmem_resize(q, big + BIGMEM_MIN / 2 - 1, big + BIGMEM_MIN);
			memset(p + big, 9, BIGMEM_MIN);
		}
		p = bigmem_resize(p, big + BIGMEM_MIN, small);
		kept &= p[10] == 10;
		CHECK(kept, "grown again and shrunk back below: bytes kept");
		bigmem_free(p, small);
	}
	CHECK_DONE();
}
