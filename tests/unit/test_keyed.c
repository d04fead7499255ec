/* keyed_sort: order by key then row, for negative, zero, tied and large
 * inputs, against a plain comparison sort; bits_sort against the same. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "hashbits.h"
#include "keyed.h"
#include "rng.h"

static int
cmp(const void *a, const void *b)
{
	const keyed *x = a, *y = b;

	if (x->key != y->key)
		return (x->key > y->key) - (x->key < y->key);
	return (x->index > y->index) - (x->index < y->index);
}

static int
cmp_bits(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int
main(void)
{
	const size_t n = 20000;
	keyed *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
	rng r;
	int same = 1;

	rng_seed(&r, 3);
	for (size_t i = 0; i < n; i++) {
		/* few distinct values (ties), both signs, zeros of both signs */
		double v = (double)((int)rng_below(&r, 41) - 20) / 8;

		if (i % 97 == 0)
			v = -0.0;
		if (i % 89 == 0)
			v = 1e300 * (i % 2 ? 1 : -1);
		a[n - 1 - i] = b[n - 1 - i] = (keyed){ v, i };
	}
	keyed_sort(a, n);
	qsort(b, n, sizeof *b, cmp);
	for (size_t i = 0; i < n; i++)
		same &= a[i].key == b[i].key && a[i].index == b[i].index;
	CHECK(same, "radix order equals (key, row) order on 20000 tied, signed keys");
	{
		keyed s[5] = { { 0.5, 4 }, { -1, 3 }, { 0.5, 1 }, { 0.0, 2 }, { -0.0, 0 } };

		keyed_sort(s, 5);
		CHECK(s[0].index == 3 && s[1].index == 0 && s[2].index == 2 && s[3].index == 1 &&
		    s[4].index == 4, "small input: -1, then 0 and -0 by row, then 0.5s by row");
	}
	{
		/* nearly sorted (insertion) and one key far out of place (over the
		 * insertion budget: radix), both against the comparison sort */
		int ok_near = 1, ok_far = 1;

		for (size_t i = 0; i < n; i++)
			a[i] = b[i] = (keyed){ (double)(i / 3) + (i % 50 == 0 ? 2.5 : 0), i };
		keyed_sort(a, n);
		qsort(b, n, sizeof *b, cmp);
		for (size_t i = 0; i < n; i++)
			ok_near &= a[i].key == b[i].key && a[i].index == b[i].index;
		CHECK(ok_near, "nearly sorted input: (key, row) order");
		for (size_t i = 0; i < n; i++)
			a[i] = b[i] = (keyed){ i == 0 ? 1e9 : (double)i, i };
		a[n - 1].key = b[n - 1].key = -1;
		keyed_sort(a, n);
		qsort(b, n, sizeof *b, cmp);
		for (size_t i = 0; i < n; i++)
			ok_far &= a[i].key == b[i].key && a[i].index == b[i].index;
		CHECK(ok_far, "keys far out of place: (key, row) order");
	}
	{
		/* keys 1 + j/8 differ in one radix digit only: one pass, so the
		 * sorted rows end in the scratch copy and come back (an odd count
		 * of passes); the rows in reverse, so insertion is not taken */
		int ok_odd = 1;

		for (size_t i = 0; i < n; i++)
			a[i] = b[i] = (keyed){ 1 + (double)rng_below(&r, 8) / 8, n - 1 - i };
		keyed_sort(a, n);
		qsort(b, n, sizeof *b, cmp);
		for (size_t i = 0; i < n; i++)
			ok_odd &= a[i].key == b[i].key && a[i].index == b[i].index;
		CHECK(ok_odd, "keys differing in one digit (one pass): (key, row) order");
	}
	{
		/* past 2^16 keys the highest differing digit deals them into
		 * buckets first: propensity-like keys (nearly all distinct, some
		 * tied, buckets of every size from one key up), signed keys with
		 * ties and zeros of both signs, and keys that differ in their top
		 * digit only (each bucket one key value) */
		const size_t nb = 300000;
		keyed *x = malloc(nb * sizeof *x), *z = malloc(nb * sizeof *z);
		int ok[3] = { 1, 1, 1 };

		for (int kind = 0; kind < 3; kind++) {
			for (size_t i = 0; i < nb; i++) {
				double v;

				if (kind == 0)
					v = i % 7 == 0 ? 0.25 : 0.01 + 0.9 * rng_uniform(&r) *
					    rng_uniform(&r);
				else if (kind == 1)
					v = i % 5 == 0 ? (i % 10 ? -0.0 : 0.0) :
					    (rng_uniform(&r) - 0.5) * 1e6;
				else
					v = (double)(1 + rng_below(&r, 40)) * 0x1p40;
				x[i] = z[i] = (keyed){ v, nb - 1 - i };
			}
			keyed_sort(x, nb);
			qsort(z, nb, sizeof *z, cmp);
			for (size_t i = 0; i < nb; i++)
				ok[kind] &= x[i].key == z[i].key && x[i].index == z[i].index;
		}
		CHECK(ok[0], "300000 propensity-like keys, some tied (buckets, then cache): (key, row) order");
		CHECK(ok[1], "300000 signed keys, zeros of both signs (buckets): (key, row) order");
		CHECK(ok[2], "300000 keys differing in their top digit only: (key, row) order");
		{ /* the sort's copy lent by the caller: the same order, past and below
		   * 2^16 keys */
			keyed *lent = malloc(nb * sizeof *lent);
			int ok_lent = 1;

			for (size_t m = 20000; m <= nb; m += nb - 20000) {
				for (size_t i = 0; i < m; i++) {
					double v = i % 7 == 0 ? 0.25 : rng_uniform(&r) - 0.5;

					x[i] = z[i] = (keyed){ v, m - 1 - i };
					lent[i] = (keyed){ -1, 0 };
				}
				keyed_sort_into(x, m, lent);
				qsort(z, m, sizeof *z, cmp);
				for (size_t i = 0; i < m; i++)
					ok_lent &= x[i].key == z[i].key && x[i].index == z[i].index;
			}
			CHECK(ok_lent, "keyed_sort_into with the caller's copy: (key, row) order, "
			    "20000 and 300000 keys");
			free(lent);
		}
		free(x);
		free(z);
	}
	{
		/* bits_sort: the doubles' order bits, ties, both signs and zeros
		 * (-0 as +0), an odd and an even count of passes, and 0 and 1 keys */
		uint64_t *u = malloc(n * sizeof *u), *v = malloc(n * sizeof *v);
		int ok_mixed = 1, ok_one_pass = 1, ok_values = 1;

		for (size_t i = 0; i < n; i++) {
			double x = (double)((int)rng_below(&r, 4001) - 2000) / 7;

			if (i % 101 == 0)
				x = i % 2 ? -0.0 : 1e-300;
			u[i] = v[i] = order_bits(x);
		}
		bits_sort(u, n);
		qsort(v, n, sizeof *v, cmp_bits);
		for (size_t i = 0; i < n; i++)
			ok_mixed &= u[i] == v[i];
		for (size_t i = 1; i < n; i++) /* and the order is the numbers' order */
			ok_values &= u[i - 1] <= u[i];
		CHECK(ok_mixed && ok_values, "bits_sort: 20000 signed, tied numbers in order");
		CHECK(order_bits(-0.0) == order_bits(0.0) && order_bits(-1.0) < order_bits(-0.5) &&
		    order_bits(-1e-300) < order_bits(0.0) && order_bits(0.0) < order_bits(1e-300),
		    "order_bits: -1 < -0.5 < -1e-300 < -0 = +0 < 1e-300");
		for (size_t i = 0; i < n; i++)
			u[i] = v[i] = order_bits(1 + (double)rng_below(&r, 8) / 8);
		bits_sort(u, n);
		qsort(v, n, sizeof *v, cmp_bits);
		for (size_t i = 0; i < n; i++)
			ok_one_pass &= u[i] == v[i];
		CHECK(ok_one_pass, "bits_sort: keys differing in one digit (one pass, odd)");
		u[0] = 7;
		bits_sort(u, 1);
		bits_sort(u, 0);
		CHECK(u[0] == 7, "bits_sort: one key and none are left as they are");
		free(u);
		free(v);
	}
	{
		/* bits_sort past 2^16 numbers (buckets, then the cache):
		 * propensity-like scores with ties, and numbers over 60 bits
		 * (a top digit of 5 bits: few, large buckets) */
		const size_t nb = 300000;
		uint64_t *u = malloc(nb * sizeof *u), *v = malloc(nb * sizeof *v);
		int ok_scores = 1, ok_small = 1;

		for (size_t i = 0; i < nb; i++)
			u[i] = v[i] = order_bits(i % 9 == 0 ? 0.5 : 0.01 + 0.9 * rng_uniform(&r));
		bits_sort(u, nb);
		qsort(v, nb, sizeof *v, cmp_bits);
		for (size_t i = 0; i < nb; i++)
			ok_scores &= u[i] == v[i];
		CHECK(ok_scores, "bits_sort: 300000 propensity-like scores, some tied, in order");
		for (size_t i = 0; i < nb; i++)
			u[i] = v[i] = rng_below(&r, (uint64_t)1 << 40) << 20 | rng_below(&r, 1 << 20);
		bits_sort(u, nb);
		qsort(v, nb, sizeof *v, cmp_bits);
		for (size_t i = 0; i < nb; i++)
			ok_small &= u[i] == v[i];
		CHECK(ok_small, "bits_sort: 300000 numbers spread over 60 bits, in order");
		free(u);
		free(v);
	}
	free(a);
	free(b);
	CHECK_DONE();
}
