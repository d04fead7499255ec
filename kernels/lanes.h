/* lanes — how psflow's hot loops are written so the compiler vectorises
 * them without changing a bit of their results.
 *
 * Rows are taken in blocks of LANES: row i0 + j goes to lane j, and each
 * lane keeps its own sums, so the inner loops have a fixed trip count and
 * the order of every addition is the same whatever the vector width. The
 * files that hold such loops are compiled with -O3 -fno-trapping-math (see
 * the Makefile), and VECTOR_CLONES builds a function for AVX-512, AVX2 and
 * baseline x86-64, chosen when the program loads. C11 without contraction
 * (no fused multiply-add) keeps each clone's arithmetic identical.
 *
 * Ownership: macros and inline code only. (rule: base/README.md) */
#ifndef PSFLOW_LANES_H
#define PSFLOW_LANES_H

#define LANES 8

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", \
    "arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif

/* For a block function written once and inlined twice: with lanes = LANES
 * for the vector body and with the remainder for the tail. */
#define ALWAYS_INLINE inline __attribute__((always_inline))

#endif
