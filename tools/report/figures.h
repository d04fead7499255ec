/* figures — report's pictures, drawn as SVG from the results alone (no
 * rows): the estimates with their intervals, the Love plot of covariate
 * balance, the propensity overlap by group and weighting, the bootstrap
 * distributions.
 *
 * Each figure marks what the browser test counts: a Love plot marker is
 * class "marker" with data-covariate and data-weighting; an overlap bar is
 * class "bar treated" or "bar control" inside a panel with data-weighting;
 * an estimate is class "estimate" with data-name.
 *
 * Ownership: the results are the caller's; figures write and keep
 * nothing. (rule: base/README.md) */
#ifndef PSFLOW_FIGURES_H
#define PSFLOW_FIGURES_H

#include <stdio.h>

#include <msgpack.h>

typedef struct {
	const msgpack_object *const *results;
	int nresults;
	const msgpack_object *truth; /* the head's meta.truth, or NULL */
	const msgpack_object *truth_outcome; /* meta.model.outcome: what it is of */
	int digits;                  /* decimals of estimates in labels */
} report_results;

/* Draws one figure into f; returns 0, or -1 (writing nothing) when the
 * results hold nothing to draw it from. */
typedef int (*figure_fn)(FILE *f, const report_results *r);

typedef struct {
	const char *id;      /* the file name (id.svg) and the element id */
	const char *title;
	const char *caption; /* what it shows, for the page */
	figure_fn draw;
} figure;

/* The figures in the page's order; NULL id after the last. */
extern const figure report_figures[];

/* A result's ci as two finite numbers: 0, or -1 when it has none. */
int report_interval(const msgpack_object *result, double ci[2]);

/* The truth an estimate is judged against (the naive difference against
 * the ATE; none for a result of another outcome than the truth's): 0 with
 * *truth set, or -1. */
int report_truth(const report_results *r, const msgpack_object *result, double *truth);

#endif
