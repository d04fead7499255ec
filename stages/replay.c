#include "replay.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "err.h"
#include "keyed.h"
#include "lanes.h"
#include "mpo.h"
#include "rowgroup.h"
#include "xalloc.h"

static const char *reasons[REPLICATE_REASONS] = {
	"ok",
	"no treated unit in the resample",
	"no control in the resample",
	"the propensity model could not be fitted",
	"a propensity of 0 or 1 gave an infinite weight",
	"a group's weights summed to 0",
	"no treated unit could be matched",
	"an outcome model could not be fitted",
	"a group had no unit inside the common support",
};

const char *
replicate_reason(replicate_status s)
{
	return reasons[s];
}

/* Orders the rows by group (stably, a counting sort): pos[i] is stream
 * row i's place. */
static void
order_by_group(replay_data *d, const uint32_t *group_of_row, const uint8_t *t,
    const double *y)
{
	/* next[g]: where group g's next row goes, from the counts of the
	 * groups before it */
	size_t *next = xcalloc(d->ngroups + 1, sizeof *next);

	for (size_t i = 0; i < d->n; i++)
		if (group_of_row[i] + 1 < d->ngroups)
			next[group_of_row[i] + 1]++;
	for (size_t g = 1; g < d->ngroups; g++)
		next[g] += next[g - 1];
	for (size_t i = 0; i < d->n; i++) {
		size_t k = next[group_of_row[i]]++;

		d->pos[i] = k;
		d->group[k] = group_of_row[i];
		d->t[k] = t[i];
		d->y[k] = y[i];
		if (d->bit_row)
			d->bit_row[k] = REPLAY_BIT_ROW(2 * group_of_row[i] + t[i], y[i]);
		else
			d->row[k] = (replay_row){ y[i], 2 * group_of_row[i] + t[i] };
	}
	free(next);
}

/* Each group's values (column-major, ngroups x cols): its first row's. */
static double *
first_of_groups(const double *X, size_t n, int cols, const uint32_t *group_of_row,
    size_t ngroups)
{
	double *G = xreallocarray(NULL, ngroups + 1, (size_t)cols * sizeof *G);
	size_t next = 0;

	for (size_t i = 0; i < n; i++)
		if (group_of_row[i] == next) { /* groups are numbered by first row */
			for (int k = 0; k < cols; k++)
				G[(size_t)k * ngroups + next] = X[(size_t)k * n + i];
			next++;
		}
	return G;
}

void
replay_data_prepare(replay_data *d, const replay_plan *p, const table *rows)
{
	size_t n = rows->nrows;
	uint8_t *t = xmalloc(n + 1);
	double *y = xreallocarray(NULL, n + 1, sizeof *y);
	uint32_t *group_of_row = xreallocarray(NULL, n + 1, sizeof *group_of_row);
	double *X;
	int cols;
	const replay_step *ps_step = p->ps_step >= 0 ? &p->steps[p->ps_step] : NULL;
	const uint8_t *inside = NULL;
	char why[512];

	memset(d, 0, sizeof *d);
	d->n = n;
	stage_treatment(&rows->cols[stage_numeric_column(rows,
	    stage_role(p->treatment, "treatment", "-t"), "treatment", "-t")], n, t);
	stage_finite(&rows->cols[stage_numeric_column(rows,
	    stage_role(p->outcome, "outcome", "-y"), "outcome", "-y")], n, y, "outcome");
	/* the rows' covariates, or their propensity: what a group shares */
	cols = ps_step ? ps_step->module->replay->ps->columns(ps_step->params) : 1;
	X = xreallocarray(NULL, n + 1, (size_t)cols * sizeof *X);
	if (ps_step) {
		if (ps_step->module->replay->ps->matrix(ps_step->params, rows, X, why,
		    sizeof why) != 0)
			die("%s", why);
	} else
		stage_ps(&rows->cols[stage_numeric_column(rows, p->ps, "propensity", "--ps")],
		    n, X);
	d->ngroups = rowgroup(X, n, cols, group_of_row);
	if (d->ngroups == 0 && n > 0)
		die("%zu rows are too many for boot to group (at most %u)", n,
		    UINT32_MAX - 1);
	if (ps_step) {
		d->p = cols;
		d->X = first_of_groups(X, n, cols, group_of_row, d->ngroups);
		if (p->ps && table_find(rows, p->ps) >= 0) {
			/* the stream's own propensities, for the full-data check
			 * (see replay_run) */
			stage_ps(&rows->cols[stage_numeric_column(rows, p->ps, "propensity",
			    "--ps")], n, X);
			d->ps = first_of_groups(X, n, 1, group_of_row, d->ngroups);
		}
	} else
		d->ps = first_of_groups(X, n, 1, group_of_row, d->ngroups);
	free(X);
	d->t = xmalloc(n + 1);
	d->y = xreallocarray(NULL, n + 1, sizeof *d->y);
	d->group = xreallocarray(NULL, n + 1, sizeof *d->group);
	d->pos = xreallocarray(NULL, n + 1, sizeof *d->pos);
	if (stage_binary(y, n) && d->ngroups < (size_t)1 << 30)
		d->bit_row = xreallocarray(NULL, n + 1, sizeof *d->bit_row);
	else
		d->row = xreallocarray(NULL, n + 1, sizeof *d->row);
	order_by_group(d, group_of_row, t, y);
	free(group_of_row);
	free(t);
	free(y);
	if (p->support) { /* the rows the stages ran on */
		const column *c = &rows->cols[stage_column(rows, p->support, "common support",
		    "fitps --common-support")];

		if (c->type != COL_BOOL)
			die("the common support's column '%s' is %s: it must be bool", p->support,
			    coltype_name(c->type));
		inside = c->data;
		for (size_t i = 0; i < n; i++)
			if (inside[i] == BOOL_MISSING)
				die("the common support's column '%s' is missing at %s", p->support,
				    stage_row(i));
	}
	for (int k = 0; k < p->nsteps; k++) {
		const replay_step *st = &p->steps[k];

		if (st->module->replay && st->module->replay->prepare_rows &&
		    st->module->replay->prepare_rows(st->params, rows, inside, why,
		    sizeof why) != 0)
			die("%s", why);
	}
}

void
replay_data_free(replay_data *d)
{
	free(d->t);
	free(d->y);
	free(d->row);
	free(d->bit_row);
	free(d->group);
	free(d->pos);
	free(d->X);
	free(d->ps);
	memset(d, 0, sizeof *d);
}

struct replay_scratch {
	/* per group: units, treated units, propensity */
	double *units, *treated, *ps;
	/* per cell c (2g + t: group g's units with treatment t), zero between
	 * replicates, for the draws to add to: a 0/1 outcome's units << 32 |
	 * outcomes' sum (neither reaches 2^32: draws are counted in 32 bits);
	 * any other's units at [2c] and outcomes' sum at [2c + 1] */
	uint64_t *bit_tally;
	double *cellsum;
	/* drawn rows, a slice of 2^SLICE_SHIFT ordered rows at a time
	 * (DRAWN_SLICES): how many draws fall in each slice, one slice's
	 * offsets (slice_cap of room), and for a 0/1 outcome the tallies of
	 * the cells of one slice (sum_drawn_bits) */
	uint32_t *slice_count, *slice_at;
	size_t nslices, slice_cap;
	uint64_t *slice_tally;
	/* the replicate's cells with units (a group's controls, a group's
	 * treated units) in group order */
	uint8_t *ct;
	uint32_t *cgroup;
	double *cps, *ccount, *cysum, *cw, *cd;
	size_t ncells;
	double total_units, total_treated;
	/* the replicate's rows, for what needs them: copies of each ordered
	 * row, then the rows themselves */
	uint32_t *row_count;
	size_t nrows_cap;
	uint8_t *rt;
	double *ry, *rps, *rw, *rd;
	size_t *rrow;
	size_t nrows;
	int rows_ready;         /* the row lists are this replicate's */
	int counts_ready;       /* row_count is */
	double band[2];         /* the common support so far: rows outside go */
	uint64_t serial;        /* replay_run calls so far: a replicate's number here */
	/* what the estimators see of it (replay_view) */
	replay_cells cells_view;
	replay_units units_view;
	replay_counts counts_view;
	/* each step's own memory, and how to free it */
	void **step_scratch;
	void (**step_scratch_free)(void *);
	int nsteps;
};

replay_scratch *
replay_scratch_new(const replay_plan *p, const replay_data *d)
{
	replay_scratch *s = xcalloc(1, sizeof *s);
	size_t u = d->ngroups + 1, cells = 2 * d->ngroups + 1, n = d->n + 1;

	s->units = xreallocarray(NULL, u, sizeof *s->units);
	s->treated = xreallocarray(NULL, u, sizeof *s->treated);
	s->ps = xreallocarray(NULL, u, sizeof *s->ps);
	if (d->bit_row)
		s->bit_tally = xcalloc(cells, sizeof *s->bit_tally);
	else
		s->cellsum = xcalloc(2 * cells, sizeof *s->cellsum);
	s->ct = xmalloc(cells);
	s->cgroup = xreallocarray(NULL, cells, sizeof *s->cgroup);
	s->cps = xreallocarray(NULL, cells, sizeof *s->cps);
	s->ccount = xreallocarray(NULL, cells, sizeof *s->ccount);
	s->cysum = xreallocarray(NULL, cells, sizeof *s->cysum);
	s->cw = xreallocarray(NULL, cells, sizeof *s->cw);
	s->cd = xreallocarray(NULL, cells, sizeof *s->cd);
	s->nrows_cap = n; /* the rows' arrays come with the first need */
	s->nsteps = p ? p->nsteps : 0;
	s->step_scratch = xcalloc((size_t)s->nsteps + 1, sizeof *s->step_scratch);
	s->step_scratch_free = xcalloc((size_t)s->nsteps + 1, sizeof *s->step_scratch_free);
	for (int k = 0; k < s->nsteps; k++)
		s->step_scratch_free[k] = p->steps[k].module->replay->scratch_free;
	return s;
}

void
replay_scratch_free(replay_scratch *s)
{
	if (s == NULL)
		return;
	free(s->units), free(s->treated), free(s->ps), free(s->bit_tally), free(s->cellsum);
	free(s->slice_count), free(s->slice_at), free(s->slice_tally);
	free(s->ct), free(s->cgroup), free(s->cps), free(s->ccount), free(s->cysum);
	free(s->cw), free(s->cd);
	for (int k = 0; k < s->nsteps; k++)
		if (s->step_scratch[k] && s->step_scratch_free[k])
			s->step_scratch_free[k](s->step_scratch[k]);
	free(s->step_scratch), free(s->step_scratch_free);
	free(s->row_count), free(s->rt), free(s->ry), free(s->rps), free(s->rw), free(s->rd);
	free(s->rrow);
	free(s);
}

static replicate_status
fail(replicate_status st, char *why, size_t whylen, const char *detail)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", detail ? detail : replicate_reason(st));
	return st;
}

/* body for each row k of the replicate r that is not drawn: read from its
 * list (listed), or every row in turn. listed is a constant where it is
 * used, so each use is one plain loop. */
#define REPLICATE_ROWS(d, r, listed, k, body) \
	do { \
		size_t count_ = (listed) ? (r)->n : (d)->n; \
		for (size_t j_ = 0; j_ < count_; j_++) { \
			size_t k = (listed) ? (size_t)(r)->list[j_] : j_; \
			body; \
		} \
	} while (0)

/* A replicate's n draws over the ordered rows are made a slice of
 * 2^SLICE_SHIFT rows at a time: first how many fall in each slice (one
 * multinomial draw, rng_multinomial_bins), then each slice's offsets. What
 * a slice's draws touch (its rows, its cells' tallies) stays in a core's
 * first cache, the rows are read in order, and a draw is a few bits of the
 * stream instead of a 64-bit word. body runs for each slice: its ordered
 * rows [row0, row0 + rows), at[0 .. count) the offsets drawn in it. */
enum { SLICE_SHIFT = 11 };
#define DRAWN_SLICES(d, r, s, row0, rows, at, count, ...) \
	do { \
		rng g_ = *(r)->draws; \
		uint32_t *counts_ = slice_counts(d, s); \
		rng_multinomial_bins(&g_, (r)->n, (d)->n, SLICE_SHIFT, counts_); \
		for (size_t b_ = 0; b_ < (s)->nslices; b_++) { \
			size_t row0 = b_ << SLICE_SHIFT, count = counts_[b_]; \
			size_t rows = (d)->n - row0 < ((size_t)1 << SLICE_SHIFT) ? \
			    (d)->n - row0 : (size_t)1 << SLICE_SHIFT; \
			uint32_t *at = slice_room(s, count); \
			rng_offsets(&g_, at, count, rows, SLICE_SHIFT); \
			__VA_ARGS__; \
		} \
	} while (0)

/* The slices' counts, made ready with the first drawn replicate. */
static uint32_t *
slice_counts(const replay_data *d, replay_scratch *s)
{
	if (s->slice_count == NULL) {
		s->nslices = (d->n + ((size_t)1 << SLICE_SHIFT) - 1) >> SLICE_SHIFT;
		s->slice_count = xreallocarray(NULL, s->nslices + 1, sizeof *s->slice_count);
		if (d->bit_row) /* only sum_drawn_bits tallies a slice apart */
			s->slice_tally = xcalloc(((size_t)2 << SLICE_SHIFT) + 2,
			    sizeof *s->slice_tally);
	}
	return s->slice_count;
}

/* Room for a slice's count offsets. */
static uint32_t *
slice_room(replay_scratch *s, size_t count)
{
	if (count > s->slice_cap) {
		s->slice_cap = count + count / 2 + 64;
		free(s->slice_at);
		s->slice_at = xreallocarray(NULL, s->slice_cap, sizeof *s->slice_at);
	}
	return s->slice_at;
}

/* A 0/1 outcome's listed or full-data rows into the integer tallies, as
 * they come (drawn ones go through sum_drawn_bits). */
static ALWAYS_INLINE void
tally_bits(const replay_data *d, const replay_rows *r, uint64_t *tally, int listed)
{
	const uint32_t *bit_row = d->bit_row;

	REPLICATE_ROWS(d, r, listed, k, {
		uint32_t bits = bit_row[k];

		tally[bits >> 1] += ((uint64_t)1 << 32) | (bits & 1);
	});
}

/* Any other outcome's rows into the cells' count and outcome sums: drawn
 * rows a slice at a time, listed or all rows as they come. */
static ALWAYS_INLINE void
tally_doubles(const replay_data *d, const replay_rows *r, replay_scratch *s, int drawn,
    int listed)
{
	const replay_row *row = d->row;
	double *cellsum = s->cellsum;

	if (drawn)
		DRAWN_SLICES(d, r, s, row0, rows, at, count, {
			const replay_row *slice = row + row0;

			for (size_t j = 0; j < count; j++) {
				const replay_row *k = &slice[at[j]];

				cellsum[2 * (size_t)k->cell] += 1;
				cellsum[2 * (size_t)k->cell + 1] += k->y;
			}
		});
	else
		REPLICATE_ROWS(d, r, listed, k, {
			cellsum[2 * (size_t)row[k].cell] += 1;
			cellsum[2 * (size_t)row[k].cell + 1] += row[k].y;
		});
}

/* The replicate's rows into the tallies, with a loop of their own for
 * each kind of row list and of outcome. */
static ALWAYS_INLINE void
tally_as(const replay_data *d, const replay_rows *r, replay_scratch *s, int drawn,
    int listed)
{
	if (d->bit_row)
		tally_bits(d, r, s->bit_tally, listed);
	else
		tally_doubles(d, r, s, drawn, listed);
}

static void
tally(const replay_data *d, const replay_rows *r, replay_scratch *s)
{
	if (r->draws) /* of any outcome but 0/1: those go to sum_drawn_bits */
		tally_as(d, r, s, 1, 0);
	else if (r->list)
		tally_as(d, r, s, 0, 1);
	else
		tally_as(d, r, s, 0, 0);
}

/* A drawn replicate of a 0/1 outcome, summed as sum_cells does but without
 * a random addition to memory for each draw: each slice's cells are
 * tallied in a small table that stays in cache, and its groups written
 * out in order. The tallies are whole numbers, so the order of the
 * additions does not matter. Each row's count (count_rows) is made on the
 * way once a step has asked for counts. */
static void
sum_drawn_bits(const replay_data *d, const replay_rows *r, replay_scratch *s)
{
	const uint32_t *bit_row = d->bit_row, *group = d->group;
	uint32_t *row_count = s->row_count;
	size_t n = d->n, first_group = 0, m = 0;
	double total_units = 0, total_treated = 0;
	cell_lists out = { s->units, s->treated, s->ccount, s->cysum, s->ct, s->cgroup };
	uint64_t *local;

	slice_counts(d, s);
	local = s->slice_tally;
	DRAWN_SLICES(d, r, s, row0, rows, at, count, {
		const uint32_t *bits = bit_row + row0;
		uint64_t cell0 = 2 * (uint64_t)first_group;
		size_t last_group, done;

		/* the next slice's rows, while this one's draws are added */
		for (size_t line = 0; row0 + rows + line < n && line < rows; line += 16)
			__builtin_prefetch(bits + rows + line);
		if (row_count) {
			uint32_t *counted = row_count + row0;

			memset(counted, 0, rows * sizeof *counted);
			for (size_t j = 0; j < count; j++) {
				uint32_t c = bits[at[j]];

				local[(c >> 1) - cell0] += ((uint64_t)1 << 32) | (c & 1);
				counted[at[j]]++;
			}
		} else
			for (size_t j = 0; j < count; j++) {
				uint32_t c = bits[at[j]];

				local[(c >> 1) - cell0] += ((uint64_t)1 << 32) | (c & 1);
			}
		/* the slice's groups, but its last when that goes on in the next
		 * slice: its tallies move to the front for that slice to add to */
		last_group = group[row0 + rows - 1];
		done = row0 + rows < n && group[row0 + rows] == last_group ? last_group : last_group + 1;
		m = cells_from_bit_tallies(local, first_group, done, out, m, &total_units,
		    &total_treated);
		if (done == last_group) {
			uint64_t *c = local + 2 * (last_group - first_group);

			local[0] = c[0], local[1] = c[1];
			if (last_group != first_group)
				c[0] = c[1] = 0;
		}
		first_group = done;
	});
	s->total_units = total_units;
	s->total_treated = total_treated;
	s->ncells = m;
	s->counts_ready = row_count != NULL;
}

/* The replicate's units summed into cells, then per group and, compacted,
 * the cells with units. Draws fall on cells at random, so one addition
 * seldom waits for another. The tallies are left zero for the next
 * replicate. */
static void
sum_cells(const replay_data *d, const replay_rows *r, replay_scratch *s)
{
	size_t u = d->ngroups, m = 0;
	double total_units = 0, total_treated = 0;
	cell_lists out = { s->units, s->treated, s->ccount, s->cysum, s->ct, s->cgroup };

	if (r->draws && d->bit_row) {
		sum_drawn_bits(d, r, s);
		return;
	}
	tally(d, r, s);
	if (d->bit_row)
		m = cells_from_bit_tallies(s->bit_tally, 0, u, out, m, &total_units,
		    &total_treated);
	else {
		double *cellsum = s->cellsum;

		for (size_t g = 0; g < u; g++) {
			double *c = cellsum + 4 * g;

			m = cells_add_group(out, g, c[0], c[1], c[2], c[3], m);
			total_units += out.units[g];
			total_treated += out.treated[g];
			c[0] = c[1] = c[2] = c[3] = 0;
		}
	}
	s->total_units = total_units;
	s->total_treated = total_treated;
	s->ncells = m;
}

/* Once the groups' propensities are known. Groups are numbered in order of
 * their full-data propensity (replay_plan_warm_start), so the cells come
 * nearly sorted by distance and matching's sort has little to do. */
static void
cell_propensities(replay_scratch *s)
{
	for (size_t m = 0; m < s->ncells; m++)
		s->cps[m] = s->ps[s->cgroup[m]];
}

/* How many times the replicate has each ordered row (once a replicate:
 * the draws again, counted instead of summed into cells). */
static void
count_rows(const replay_data *d, const replay_rows *r, replay_scratch *s)
{
	if (s->counts_ready)
		return;
	if (s->row_count == NULL) /* memory touched costs: only for what needs rows */
		s->row_count = xreallocarray(NULL, s->nrows_cap, sizeof *s->row_count);
	memset(s->row_count, 0, d->n * sizeof *s->row_count);
	if (r->draws)
		DRAWN_SLICES(d, r, s, row0, rows, at, count, {
			uint32_t *counted = s->row_count + row0;

			(void)rows;
			for (size_t j = 0; j < count; j++)
				counted[at[j]]++;
		});
	else
		REPLICATE_ROWS(d, r, r->list != NULL, k, s->row_count[k]++);
	s->counts_ready = 1;
}

/* The replicate's rows inside the support so far, in stream order, each
 * copy of a row as a row. */
static void
expand_rows(const replay_data *d, const replay_rows *r, replay_scratch *s)
{
	size_t m = 0;
	double lo = s->band[0], hi = s->band[1];

	if (s->rows_ready)
		return;
	count_rows(d, r, s);
	if (s->rt == NULL) {
		size_t n = s->nrows_cap;

		s->rt = xmalloc(n);
		s->ry = xreallocarray(NULL, n, sizeof *s->ry);
		s->rps = xreallocarray(NULL, n, sizeof *s->rps);
		s->rw = xreallocarray(NULL, n, sizeof *s->rw);
		s->rd = xreallocarray(NULL, n, sizeof *s->rd);
		s->rrow = xreallocarray(NULL, n, sizeof *s->rrow);
	}
	for (size_t i = 0; i < d->n; i++) {
		size_t k = d->pos[i];
		uint32_t c = s->row_count[k];
		double ps = s->ps[d->group[k]];

		if (c && !(ps >= lo && ps <= hi))
			continue; /* outside the common support */
		for (uint32_t j = 0; j < c; j++, m++) {
			s->rt[m] = d->t[k];
			s->ry[m] = d->y[k];
			s->rps[m] = ps;
			s->rrow[m] = i;
		}
	}
	s->nrows = m;
	s->rows_ready = 1;
}

/* What a step sees of a replicate. */
struct replay_view {
	const replay_data *d;
	const replay_rows *r;
	replay_scratch *s;
	int step;
};

const replay_cells *
replay_view_cells(replay_view *v)
{
	replay_scratch *s = v->s;

	s->cells_view = (replay_cells){ s->ct, s->cps, s->ccount, s->cysum, s->ncells,
		s->cw, s->cd };
	return &s->cells_view;
}

const replay_counts *
replay_view_counts(replay_view *v)
{
	replay_scratch *s = v->s;

	count_rows(v->d, v->r, s);
	s->counts_view = (replay_counts){ s->row_count, v->d->pos, v->d->n };
	return &s->counts_view;
}

const replay_units *
replay_view_units(replay_view *v)
{
	replay_scratch *s = v->s;

	expand_rows(v->d, v->r, s);
	s->units_view = (replay_units){ s->rt, s->ry, s->rps, s->nrows, s->rw, s->rd, s->rrow };
	return &s->units_view;
}

void **
replay_view_scratch(replay_view *v)
{
	return &v->s->step_scratch[v->step];
}

uint64_t
replay_view_replicate(const replay_view *v)
{
	return v->s->serial;
}

static replay_groups
groups_of(const replay_data *d, const replay_scratch *s)
{
	return (replay_groups){ d->X, d->ngroups, d->p, s->units, s->treated };
}

/* The replicate's propensities per group into s->ps: refitted by the
 * plan's propensity step, or the stream's. */
static replicate_status
propensities(const replay_plan *p, const replay_data *d, const replay_rows *r,
    replay_scratch *s, char *why, size_t whylen)
{
	const replay_step *st;
	replay_groups g;

	if (p->ps_step < 0) {
		memcpy(s->ps, d->ps, d->ngroups * sizeof *s->ps);
		return REPLICATE_OK;
	}
	st = &p->steps[p->ps_step];
	g = groups_of(d, s);
	if (st->module->replay->ps->fit(st->params, &g, p->cold, s->ps, why, whylen) != 0)
		return REPLICATE_FIT_FAILED;
	if (r->draws == NULL && r->list == NULL && d->ps) {
		/* The full data: the refit must give the stream's propensities (to
		 * the fit's tolerance), and the estimates are then taken from the
		 * stream's own. Fits summed in another order differ in the last
		 * bits, enough to break a tie of two distances. */
		double worst = 0;

		for (size_t k = 0; k < d->ngroups; k++)
			worst = fmax(worst, fabs(s->ps[k] - d->ps[k]));
		if (!(worst <= 1e-7)) {
			snprintf(why, whylen, "refitting the recipe's model gives propensities "
			    "up to %.3g away from the stream's: they were not made by that "
			    "model", worst);
			return REPLICATE_FIT_FAILED;
		}
		memcpy(s->ps, d->ps, d->ngroups * sizeof *s->ps);
	}
	return REPLICATE_OK;
}

/* Step `step`'s common support, if it sets one: the cells outside it taken
 * out (and the rows, when made again) for the steps after it. */
static replicate_status
apply_support(const replay_plan *p, int step, const replay_data *d, const replay_rows *r,
    replay_scratch *s)
{
	const replay_ops *ops = p->steps[step].module->replay;
	replay_view v = { d, r, s, step };
	double band[2], units = 0, treated = 0;
	size_t m = 0;
	int rc;

	if (ops->support == NULL || (rc = ops->support(p->steps[step].params, &v, band)) == 0)
		return REPLICATE_OK;
	if (rc < 0)
		return REPLICATE_NO_SUPPORT;
	s->band[0] = fmax(s->band[0], band[0]);
	s->band[1] = fmin(s->band[1], band[1]);
	for (size_t c = 0; c < s->ncells; c++) {
		if (!(s->cps[c] >= s->band[0] && s->cps[c] <= s->band[1]))
			continue;
		s->ct[m] = s->ct[c];
		s->cps[m] = s->cps[c];
		s->ccount[m] = s->ccount[c];
		s->cysum[m] = s->cysum[c];
		s->cgroup[m] = s->cgroup[c];
		units += s->ccount[c];
		treated += s->ct[c] ? s->ccount[c] : 0;
		m++;
	}
	s->ncells = m;
	s->rows_ready = 0;
	if (treated == 0 || treated == units)
		return REPLICATE_NO_SUPPORT;
	return REPLICATE_OK;
}

replicate_status
replay_run(const replay_plan *p, const replay_data *d, const replay_rows *r,
    replay_scratch *s, double *out, char *why, size_t whylen)
{
	char detail[512];
	replicate_status st;
	int last = -1;

	s->rows_ready = s->counts_ready = 0;
	s->serial++;
	sum_cells(d, r, s);
	if (s->total_treated == 0)
		return fail(REPLICATE_NO_TREATED, why, whylen, NULL);
	if (s->total_treated == s->total_units)
		return fail(REPLICATE_NO_CONTROLS, why, whylen, NULL);
	detail[0] = '\0';
	if ((st = propensities(p, d, r, s, detail, sizeof detail)) != REPLICATE_OK)
		return fail(st, why, whylen, detail[0] ? detail : NULL);
	cell_propensities(s);
	s->band[0] = 0, s->band[1] = 1;
	for (int k = 0; k < p->ntargets; k++)
		last = p->targets[k].step > last ? p->targets[k].step : last;
	/* step by step: a step's common support holds for the steps after it */
	for (int j = 0; j <= last; j++) {
		for (int k = 0; k < p->ntargets; k++) {
			const replay_target *t = &p->targets[k];
			const replay_step *step = &p->steps[t->step];
			replay_view v = { d, r, s, t->step };

			if (t->step != j)
				continue;
			st = step->module->replay->estimate(step->params, t->id, &v, &out[k]);
			if (st != REPLICATE_OK)
				return fail(st, why, whylen, NULL);
		}
		if (j < last && (st = apply_support(p, j, d, r, s)) != REPLICATE_OK)
			return fail(st, why, whylen, NULL);
	}
	return REPLICATE_OK;
}

/* v[g] = v[order[g].index] for the u groups */
static void
permute(double *v, const keyed *order, size_t u, double *tmp)
{
	for (size_t g = 0; g < u; g++)
		tmp[g] = v[order[g].index];
	memcpy(v, tmp, u * sizeof *tmp);
}

/* Renumbers the groups in order of their full-data propensities (ps, in
 * group order; permuted with them). */
static void
order_groups(replay_data *d, double *ps)
{
	size_t u = d->ngroups;
	keyed *k = xreallocarray(NULL, u + 1, sizeof *k);
	uint32_t *renamed = xreallocarray(NULL, u + 1, sizeof *renamed);
	uint32_t *group_of_row = xreallocarray(NULL, d->n + 1, sizeof *group_of_row);
	uint8_t *t = xmalloc(d->n + 1);
	double *y = xreallocarray(NULL, d->n + 1, sizeof *y);
	double *tmp = xreallocarray(NULL, u + 1, sizeof *tmp);

	for (size_t g = 0; g < u; g++)
		k[g] = (keyed){ ps[g], g };
	keyed_sort(k, u);
	for (size_t g = 0; g < u; g++)
		renamed[k[g].index] = (uint32_t)g;
	/* the rows back in stream order, with the new numbers, then reordered */
	for (size_t i = 0; i < d->n; i++) {
		size_t at = d->pos[i];

		group_of_row[i] = renamed[d->group[at]];
		t[i] = d->t[at];
		y[i] = d->y[at];
	}
	order_by_group(d, group_of_row, t, y);
	for (int c = 0; c < (d->X ? d->p : 0); c++)
		permute(d->X + (size_t)c * u, k, u, tmp);
	if (ps != d->ps)
		permute(ps, k, u, tmp);
	if (d->ps)
		permute(d->ps, k, u, tmp);
	free(k), free(renamed), free(group_of_row), free(t), free(y), free(tmp);
}

void
replay_plan_warm_start(replay_plan *p, replay_data *d)
{
	const replay_ps_ops *ops;
	replay_step *st;
	replay_scratch *s;
	replay_groups g;
	double *mu;

	if (p->ps_step < 0) {
		order_groups(d, d->ps);
		return;
	}
	st = &p->steps[p->ps_step];
	ops = st->module->replay->ps;
	s = replay_scratch_new(NULL, d);
	mu = xreallocarray(NULL, d->ngroups + 1, sizeof *mu);
	sum_cells(d, &(replay_rows){ 0 }, s);
	g = groups_of(d, s);
	if (ops->warm_fit(st->params, &g, mu) == 0) {
		order_groups(d, mu);
		/* the groups' units in the new order, for the witnesses */
		sum_cells(d, &(replay_rows){ 0 }, s);
		g = groups_of(d, s);
		ops->warm_keep(st->params, &g, mu);
	} else
		free(mu); /* every refit starts from zeros; the replicates say why */
	replay_scratch_free(s);
}

replay_plan
replay_plan_cold(const replay_plan *p)
{
	replay_plan cold = *p;

	cold.cold = 1;
	return cold;
}
