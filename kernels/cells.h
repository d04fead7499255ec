/* cells — a replicate's tallies into its groups' counts and the list of
 * its cells with units, for boot's replay.
 *
 * A group is a set of rows with equal covariates; its cells are its
 * controls and its treated units. Tallies of a 0/1 outcome are one word a
 * cell, units in the high 32 bits and outcome sum in the low 32, the
 * control cell first: tally[2j] and tally[2j + 1] are group g0 + j's.
 * The list of cells keeps, in group order and the control cell first, the
 * cells with units: their treatment, group, units and outcome sum.
 *
 * Ownership: every array is the caller's; the list's arrays must have room
 * for one more cell than they are given. (rule: base/README.md) */
#ifndef PSFLOW_CELLS_H
#define PSFLOW_CELLS_H

#include <stddef.h>
#include <stdint.h>

/* Where the cells go. Passed by value: a store through ct (bytes may alias
 * anything) would otherwise make the compiler reload every pointer. */
typedef struct {
	double *units, *treated; /* per group: all its units, its treated ones */
	double *ccount, *cysum;  /* per listed cell */
	uint8_t *ct;
	uint32_t *cgroup;
} cell_lists;

/* Group g's two cells (units and outcome sums c0, y0 of its controls, c1,
 * y1 of its treated units) into its counts and, after the m cells listed
 * so far, its cells with units: returns the list's new length. Inline:
 * boot adds every group of every replicate. */
static inline size_t
cells_add_group(cell_lists o, size_t g, double c0, double y0, double c1, double y1,
    size_t m)
{
	o.units[g] = c0 + c1;
	o.treated[g] = c1;
	o.ct[m] = 0;
	o.cgroup[m] = (uint32_t)g;
	o.ccount[m] = c0;
	o.cysum[m] = y0;
	m += c0 > 0;
	o.ct[m] = 1;
	o.cgroup[m] = (uint32_t)g;
	o.ccount[m] = c1;
	o.cysum[m] = y1;
	return m + (c1 > 0);
}

/* Groups [g0, g1) from their 0/1-outcome tallies (tally[2 (g - g0)] and
 * the next), which are left zero: their counts, their cells listed after
 * the first m (returns the list's new length), their units and treated
 * units added to *units and *treated. On x86-64 with AVX-512 (F, DQ, BW,
 * VL), chosen when called, eight groups at a time with compress stores;
 * else one at a time by cells_add_group. The same bytes either way: the
 * list is copied, not computed, and the totals are sums of whole numbers. */
size_t cells_from_bit_tallies(uint64_t *tally, size_t g0, size_t g1, cell_lists o, size_t m,
    double *units, double *treated);

/* The same, one group at a time on any machine (for the tests). */
size_t cells_from_bit_tallies_plain(uint64_t *tally, size_t g0, size_t g1, cell_lists o,
    size_t m, double *units, double *treated);

#endif
