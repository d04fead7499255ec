/* page — report's HTML page: one self-contained file (inline SVG and CSS;
 * no script, no font, no request for anything), readable on a laptop and
 * printable: the headline (the naive difference against each adjusted
 * estimate, with intervals and the truth), the figures, the warnings, the
 * text report's tables, and the flow as a command line to rerun.
 *
 * Ownership: every field is the caller's. (rule: base/README.md) */
#ifndef PSFLOW_PAGE_H
#define PSFLOW_PAGE_H

#include <stdint.h>
#include <stdio.h>

#include "figures.h"

typedef struct {
	const report_results *results;
	const char *treatment, *outcome; /* the roles, or NULL */
	const char *scenario;            /* gen's scenario, or NULL */
	uint64_t rows;
	const char *flow;                /* "gen | fitps | ..." */
	const char *command;             /* the recipe as a command line */
	const char *command_note;        /* why it is not whole, or NULL */
	const char *text_report;         /* report's text, for the tables */
	const char *const *svg;          /* per report_figures entry: its SVG, or NULL */
} report_page;

void report_page_write(FILE *f, const report_page *p);

#endif
