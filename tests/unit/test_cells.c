/* cells: a replicate's 0/1-outcome tallies into its groups' counts and its
 * list of cells with units; the AVX-512 path (where the machine has it)
 * against the plain one, byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "check.h"

#define TALLY(units, ysum) (((uint64_t)(units) << 32) | (uint64_t)(ysum))

typedef struct {
	double units[64], treated[64], ccount[130], cysum[130];
	uint8_t ct[130];
	uint32_t cgroup[130];
} lists;

static cell_lists
as_lists(lists *l)
{
	return (cell_lists){ l->units, l->treated, l->ccount, l->cysum, l->ct, l->cgroup };
}

int
main(void)
{
	{
		/* group 5: 2 controls (1 success), no treated; 6: 3 treated (2);
		 * 7: 1 control (0), 1 treated (1); 8: no units */
		uint64_t tally[8] = { TALLY(2, 1), 0, 0, TALLY(3, 2), TALLY(1, 0), TALLY(1, 1), 0, 0 };
		lists l;
		double units = 10, treated = 1;
		size_t m;
		int zeroed = 1;

		memset(&l, 0xff, sizeof l);
		m = cells_from_bit_tallies(tally, 5, 9, as_lists(&l), 1, &units, &treated);
		CHECK(m == 5, "cells: four cells with units after the one listed");
		CHECK(l.ct[1] == 0 && l.cgroup[1] == 5 && l.ccount[1] == 2 && l.cysum[1] == 1 &&
		    l.ct[2] == 1 && l.cgroup[2] == 6 && l.ccount[2] == 3 && l.cysum[2] == 2 &&
		    l.ct[3] == 0 && l.cgroup[3] == 7 && l.ccount[3] == 1 && l.cysum[3] == 0 &&
		    l.ct[4] == 1 && l.cgroup[4] == 7 && l.ccount[4] == 1 && l.cysum[4] == 1,
		    "cells: the list in group order, controls first, empty cells left out");
		CHECK(l.units[5] == 2 && l.units[6] == 3 && l.units[7] == 2 && l.units[8] == 0 &&
		    l.treated[5] == 0 && l.treated[6] == 3 && l.treated[7] == 1 &&
		    l.treated[8] == 0, "cells: each group's units and treated units");
		CHECK(units == 17 && treated == 5, "cells: the totals added to");
		for (int i = 0; i < 8; i++)
			zeroed = zeroed && tally[i] == 0;
		CHECK(zeroed, "cells: the tallies left zero");
	}
	{
		/* every length from 0 to 40 groups (the tail of a step of eight and
		 * none), random tallies with empty cells and empty groups: both
		 * paths give the same bytes */
		int same = 1;
		unsigned x = 2024;

		for (size_t len = 0; len <= 40; len++)
			for (int round = 0; round < 20; round++) {
				uint64_t a[80], b[80];
				lists la, lb;
				double ua = 3, ta = 1, ub = 3, tb = 1;
				size_t ma, mb;

				for (size_t i = 0; i < 2 * len; i++) {
					x = x * 1103515245u + 12345u;
					a[i] = (x >> 16) % 3 == 0 ? 0 : TALLY((x >> 8) % 9 + 1, (x >> 4) % 5);
				}
				memcpy(b, a, sizeof a);
				memset(&la, 0, sizeof la);
				memset(&lb, 0, sizeof lb);
				ma = cells_from_bit_tallies(a, 17, 17 + len, as_lists(&la), 2, &ua, &ta);
				mb = cells_from_bit_tallies_plain(b, 17, 17 + len, as_lists(&lb), 2, &ub,
				    &tb);
				same = same && ma == mb && ua == ub && ta == tb &&
				    memcmp(la.units, lb.units, sizeof la.units) == 0 &&
				    memcmp(la.treated, lb.treated, sizeof la.treated) == 0 &&
				    memcmp(la.ccount, lb.ccount, ma * sizeof *la.ccount) == 0 &&
				    memcmp(la.cysum, lb.cysum, ma * sizeof *la.cysum) == 0 &&
				    memcmp(la.ct, lb.ct, ma) == 0 &&
				    memcmp(la.cgroup, lb.cgroup, ma * sizeof *la.cgroup) == 0 &&
				    memcmp(a, b, sizeof a) == 0;
			}
		CHECK(same, "cells: the chosen path and the plain one, byte for byte, 0 to 40 groups");
#if defined(__x86_64__) && defined(__GNUC__)
		printf("# the chosen path: %s\n",
		    __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
			    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") ?
			"AVX-512" : "plain (no AVX-512: both checks run the same code)");
#endif
	}
	return check_failures != 0;
}
