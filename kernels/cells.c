#include "cells.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CELLS_AVX512 1
#endif

size_t
cells_from_bit_tallies_plain(uint64_t *tally, size_t g0, size_t g1, cell_lists o, size_t m,
    double *units, double *treated)
{
	double all = 0, all_treated = 0;

	for (size_t g = g0; g < g1; g++) {
		uint64_t *c = tally + 2 * (g - g0), a = c[0], t = c[1];

		m = cells_add_group(o, g, (double)(a >> 32), (double)(uint32_t)a,
		    (double)(t >> 32), (double)(uint32_t)t, m);
		all += o.units[g];
		all_treated += o.treated[g];
		c[0] = c[1] = 0;
	}
	*units += all;
	*treated += all_treated;
	return m;
}

#ifdef CELLS_AVX512
/* Eight groups a step: their 16 tallies split into the control and treated
 * cells' units and sums (a group's two cells are neighbours, so two
 * permutations), counted, then the 16 cells in list order and those with
 * units stored compressed. Compiled for AVX-512 alone and called only
 * where the processor has it. */
__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,popcnt"))) static size_t
cells_avx512(uint64_t *tally, size_t g0, size_t g1, cell_lists o, size_t m, double *units,
    double *treated)
{
	const __m512i low = _mm512_set1_epi64(0xffffffff);
	const __m512i ctl = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
	const __m512i trt = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
	/* cells of groups 0-3 and 4-7 from (controls, treated): c0[j], c1[j] */
	const __m512i first = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
	const __m512i second = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
	const __m512i pairs = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
	const __m512i sides = _mm512_set_epi32(1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0);
	const __m512d zero = _mm512_setzero_pd();
	__m512d all = zero, all_treated = zero;
	double rest_units = 0, rest_treated = 0;
	size_t g = g0;

	for (; g + 8 <= g1; g += 8) {
		uint64_t *c = tally + 2 * (g - g0);
		__m512i v0 = _mm512_loadu_si512(c), v1 = _mm512_loadu_si512(c + 8);
		__m512i a = _mm512_permutex2var_epi64(v0, ctl, v1);
		__m512i t = _mm512_permutex2var_epi64(v0, trt, v1);
		__m512d c0 = _mm512_cvtepu64_pd(_mm512_srli_epi64(a, 32));
		__m512d y0 = _mm512_cvtepu64_pd(_mm512_and_si512(a, low));
		__m512d c1 = _mm512_cvtepu64_pd(_mm512_srli_epi64(t, 32));
		__m512d y1 = _mm512_cvtepu64_pd(_mm512_and_si512(t, low));
		__m512d u = _mm512_add_pd(c0, c1);
		__m512d count_lo = _mm512_permutex2var_pd(c0, first, c1);
		__m512d count_hi = _mm512_permutex2var_pd(c0, second, c1);
		__m512d ysum_lo = _mm512_permutex2var_pd(y0, first, y1);
		__m512d ysum_hi = _mm512_permutex2var_pd(y0, second, y1);
		__mmask8 has_lo = _mm512_cmp_pd_mask(count_lo, zero, _CMP_GT_OQ);
		__mmask8 has_hi = _mm512_cmp_pd_mask(count_hi, zero, _CMP_GT_OQ);
		__mmask16 has = (__mmask16)(has_lo | (unsigned)has_hi << 8);
		unsigned n_lo = (unsigned)__builtin_popcount(has_lo), n = (unsigned)__builtin_popcount(has);
		__m512i group = _mm512_add_epi32(_mm512_set1_epi32((int)(uint32_t)g), pairs);
		__m128i side = _mm512_cvtepi32_epi8(_mm512_maskz_compress_epi32(has, sides));

		_mm512_storeu_pd(o.units + g, u);
		_mm512_storeu_pd(o.treated + g, c1);
		all = _mm512_add_pd(all, u);
		all_treated = _mm512_add_pd(all_treated, c1);
		_mm512_mask_compressstoreu_pd(o.ccount + m, has_lo, count_lo);
		_mm512_mask_compressstoreu_pd(o.ccount + m + n_lo, has_hi, count_hi);
		_mm512_mask_compressstoreu_pd(o.cysum + m, has_lo, ysum_lo);
		_mm512_mask_compressstoreu_pd(o.cysum + m + n_lo, has_hi, ysum_hi);
		_mm512_mask_compressstoreu_epi32(o.cgroup + m, has, group);
		_mm_mask_storeu_epi8(o.ct + m, (__mmask16)((1u << n) - 1), side);
		m += n;
		_mm512_storeu_si512(c, _mm512_setzero_si512());
		_mm512_storeu_si512(c + 8, _mm512_setzero_si512());
	}
	m = cells_from_bit_tallies_plain(tally + 2 * (g - g0), g, g1, o, m, &rest_units,
	    &rest_treated);
	/* whole numbers below 2^53: any order of addition gives these bits */
	*units += _mm512_reduce_add_pd(all) + rest_units;
	*treated += _mm512_reduce_add_pd(all_treated) + rest_treated;
	return m;
}
#endif

size_t
cells_from_bit_tallies(uint64_t *tally, size_t g0, size_t g1, cell_lists o, size_t m,
    double *units, double *treated)
{
#ifdef CELLS_AVX512
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
		return cells_avx512(tally, g0, g1, o, m, units, treated);
#endif
	return cells_from_bit_tallies_plain(tally, g0, g1, o, m, units, treated);
}
