#include "nnmatch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "xalloc.h"
#include "hashbits.h"
#include "keyed.h"
#include "logit.h"

typedef struct {
	const keyed *c; /* controls sorted by distance value, then row */
	size_t m;
	size_t *right, *left; /* without replacement: next alive at or beyond */
} pool;

/* union-find with path halving: the nearest alive slot at or right of i
 * (m when none), and at or left of i (SIZE_MAX when none) */
static size_t
alive_right(pool *p, size_t i)
{
	while (i < p->m && p->right[i] != i) {
		size_t next = p->right[i];

		/* path splitting; a link to m (past a stratum's last slot) ends
		 * there, and the slot beyond belongs to another stratum */
		if (next < p->m)
			p->right[i] = p->right[next];
		i = next;
	}
	return i;
}

static size_t
alive_left(pool *p, size_t i)
{
	while (i != SIZE_MAX && p->left[i] != i) {
		if (p->left[i] != SIZE_MAX)
			p->left[i] = p->left[p->left[i]];
		i = p->left[i];
	}
	return i;
}

static size_t
lower_bound(const keyed *c, size_t m, double x)
{
	size_t lo = 0, hi = m;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c[mid].key < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

typedef struct {
	double dist;
	size_t slot, row;
} candidate;

static int
cmp_candidate(const void *a, const void *b)
{
	const candidate *x = a, *y = b;

	if (x->dist != y->dist)
		return (x->dist > y->dist) - (x->dist < y->dist);
	return (x->row > y->row) - (x->row < y->row);
}

/* Picks the matches of one treated unit (distance value x, its row) into
 * out (slots in the sorted pool); returns how many. The walk outward takes
 * the nearer side first, the left (smaller value) on a tie. TIES_MATCHIT
 * starts from the unit's place among the controls and stops at k (so of
 * equidistant controls the one next to it in that order comes first);
 * otherwise the walk gathers the k nearest and every control tied with the
 * k-th, and TIES_FIRST then keeps the k with the smallest (distance, row). */
/* The first control after (x, row) in the pool's order (value, then row):
 * where a treated unit at x of that row sits among the controls, as in
 * MatchIt's one sort of every unit. */
static size_t
position_of(const keyed *c, size_t m, double x, size_t row)
{
	size_t lo = 0, hi = m;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c[mid].key < x || (c[mid].key == x && c[mid].index < row))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t
find_matches(pool *p, double x, size_t row, const nnmatch_opts *o, candidate **out,
    size_t *cap)
{
	size_t pos = o->ties == TIES_MATCHIT ? position_of(p->c, p->m, x, row) :
	    lower_bound(p->c, p->m, x), got = 0;
	size_t L = pos == 0 ? SIZE_MAX : pos - 1, R = pos;
	double kth = INFINITY;

	if (!o->replace) {
		R = alive_right(p, R);
		L = L == SIZE_MAX ? SIZE_MAX : alive_left(p, L);
	}
	for (;;) {
		double dl = L != SIZE_MAX ? x - p->c[L].key : INFINITY;
		double dr = R < p->m ? p->c[R].key - x : INFINITY;
		int take_left = dl <= dr;
		double dist = take_left ? dl : dr;
		size_t slot = take_left ? L : R;

		if (dist == INFINITY)
			break;
		if (o->caliper > 0 && dist > o->caliper)
			break;
		if (got >= (size_t)o->k && (dist != kth || o->ties == TIES_MATCHIT))
			break;
		if (got == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*out = xreallocarray(*out, *cap, sizeof **out);
		}
		(*out)[got++] = (candidate){ dist, slot, p->c[slot].index };
		if (got == (size_t)o->k)
			kth = dist;
		if (take_left) {
			L = L == 0 ? SIZE_MAX : L - 1;
			if (!o->replace && L != SIZE_MAX)
				L = alive_left(p, L);
		} else {
			R++;
			if (!o->replace)
				R = alive_right(p, R);
		}
	}
	if (o->ties == TIES_FIRST && got > (size_t)o->k) {
		qsort(*out, got, sizeof **out, cmp_candidate);
		got = (size_t)o->k;
	}
	if (!o->replace)
		for (size_t s = 0; s < got; s++) {
			/* used up: later searches skip the slot */
			size_t slot = (*out)[s].slot;

			p->right[slot] = slot + 1;
			p->left[slot] = slot == 0 ? SIZE_MAX : slot - 1;
		}
	return got;
}

/* How many places ahead a loop over cells in order of distance asks for
 * the memory of a cell it will read (random in memory once sorted). */
#define PREFETCH_AHEAD 16

/* Controls with the same distance value, as one unit. */
typedef struct {
	double value, units, ysum, ysq;
} tie_block;

/* What the treated cells matched to a block add up: its units' shares of
 * them, and those shares' squares over the units (the variance's K, KK). */
typedef struct {
	double share, kk;
} block_shares;

/* A treated cell, and how many control cells come before it in order of
 * distance. */
typedef struct {
	size_t index, controls_before;
} treated_cell;

void
nnmatch_work_free(nnmatch_work *work)
{
	bigmem_free(work->mem, work->size);
	work->mem = NULL;
	work->size = 0;
}

/* The work's memory, grown to at least size bytes. */
static void *
work_memory(nnmatch_work *work, size_t size)
{
	if (work->size < size) {
		/* grown in place where it can be: the pages touched so far stay */
		work->mem = bigmem_resize(work->mem, work->size, size);
		work->size = size;
	}
	return work->mem;
}

/* The work's memory, of size bytes: its head kept (pages touched before
 * are reused), a tail past size given back. */
static void *
work_exactly(nnmatch_work *work, size_t size)
{
	if (work->size != size) {
		work->mem = bigmem_resize(work->mem, work->size, size);
		work->size = size;
	}
	return work->mem;
}

int
nnmatch_att_cells(const nnmatch_cells *c, const nnmatch_opts *o, double *w,
    nnmatch_result *r, nnmatch_work *work)
{
	size_t n = c->n;
	nnmatch_work own = { 0 };
	/* the arrays below, in one block: the cells in order, then the same
	 * cells parted (the treated first, then the controls and their
	 * distances, each with a spare element for the writes past its end
	 * that the loop without branches makes), then the controls' blocks.
	 * The sort's copy goes where the parted cells will, and the blocks'
	 * shares where the sorted cells were once they are parted: what a
	 * call touches is then one stretch from the start, which the AI 2016
	 * adjustment after it reuses (nnmatch_ai2016_adjustment). */
	size_t in_sorted = (n + 2) * sizeof(keyed), in_parted = (n + 3) * sizeof(keyed);
	size_t in_blk = (n + 2) * sizeof(tie_block);
	char *mem = work_memory(work ? work : &own, in_sorted + in_parted + in_blk);
	keyed *sorted = (keyed *)mem;
	char *parted = mem + in_sorted;
	/* blocks 1..nb, between two that no cell is nearer to than to a real
	 * one: blk[0] at -inf, blk[nb + 1] at +inf; their shares likewise */
	tie_block *blk = (tie_block *)(mem + in_sorted + in_parted);
	block_shares *shares = (block_shares *)mem;
	treated_cell *trt = (treated_cell *)parted;
	size_t *ctrl;
	double *ctrl_d; /* the controls' distances */
	/* each control's block: in its distance's place, which is read just
	 * before (ten million rows touch 8 bytes a control less) */
	size_t *ctrl_block;
	double sum_tau = 0, sum_tau2 = 0, pair_sq = 0, var_c = 0, s2, matched = 0;
	double pairs = 0;
	size_t m = 0, nb = 0, nt = 0, nc = 0;
	int want_se = c->count == NULL || c->ysq != NULL, want_shares = w || want_se;
	int in_order;

	_Static_assert(sizeof(block_shares) == sizeof(keyed), "shares fit in keyed places");
	memset(r, 0, sizeof *r);
	if (w)
		memset(w, 0, n * sizeof *w);
	/* every cell with units in order of distance: as they come when they
	 * are (boot's mostly are), else sorted; then the control cells apart,
	 * with their places in that order, and each treated cell with the
	 * number of controls before it (no branch on which a cell is: they
	 * come mixed) */
	in_order = 1;
	for (size_t i = 0; i < n && in_order; i++)
		in_order = (c->count == NULL || c->count[i] > 0) &&
		    !(i > 0 && c->d[i] < c->d[i - 1]);
	if (in_order)
		m = n;
	else {
		for (size_t i = 0; i < n; i++)
			if (c->count == NULL || c->count[i] > 0)
				sorted[m++] = (keyed){ c->d[i], i };
		keyed_sort_into(sorted, m, (keyed *)parted);
	}
	{
		size_t treated = 0;

		/* the cells with units, in the rows' order (in memory's) */
		for (size_t i = 0; i < n; i++)
			treated += (c->count == NULL || c->count[i] > 0) && c->t[i];
		_Static_assert(sizeof(treated_cell) == 2 * sizeof(size_t) &&
		    sizeof(keyed) == 2 * sizeof(double), "parted cells fit in keyed places");
		ctrl = (size_t *)(trt + treated + 1);
		ctrl_d = (double *)(ctrl + (m - treated) + 1);
		ctrl_block = (size_t *)ctrl_d;
	}
	for (size_t k = 0; k < m; k++) {
		size_t j = in_order ? k : sorted[k].index;
		int control = !c->t[j];

		ctrl[nc] = j;
		ctrl_d[nc] = in_order ? c->d[k] : sorted[k].key;
		trt[nt] = (treated_cell){ j, nc };
		nc += (size_t)control;
		nt += (size_t)!control;
	}
	/* the controls' blocks of one value, 1..nb: ties are rare, so the
	 * branch is well predicted. Their outcomes are read in order of
	 * distance, which is random in memory when the cells were sorted: each
	 * is asked for well before it is used */
	blk[0] = (tie_block){ -INFINITY, 0, 0, 0 };
	for (size_t q = 0; q < nc; q++) {
		size_t j = ctrl[q];
		double key = ctrl_d[q], yc, u, sq;

		if (!in_order && q + PREFETCH_AHEAD < nc)
			__builtin_prefetch(&c->ysum[ctrl[q + PREFETCH_AHEAD]]);
		yc = c->ysum[j];
		u = c->count ? c->count[j] : 1;
		sq = want_se ? c->count ? c->ysq[j] : yc * yc : 0;

		if (nb == 0 || key != blk[nb].value)
			blk[++nb] = (tie_block){ key, u, yc, sq };
		else {
			blk[nb].units += u;
			blk[nb].ysum += yc;
			blk[nb].ysq += sq;
		}
		ctrl_block[q] = nb;
	}
	blk[nb + 1] = (tie_block){ INFINITY, 0, 0, 0 };
	if (want_shares)
		memset(shares, 0, (nb + 2) * sizeof *shares);
	for (size_t q = 0; q < nt; q++) {
		size_t i = trt[q].index, before = trt[q].controls_before;
		double di;

		if (!in_order && q + PREFETCH_AHEAD < nt) {
			__builtin_prefetch(&c->d[trt[q + PREFETCH_AHEAD].index]);
			__builtin_prefetch(&c->ysum[trt[q + PREFETCH_AHEAD].index]);
		}
		di = c->d[i];
		/* the blocks on either side: the next control's and the one before
		 * it. A block at the cell's own value may be either: at distance 0
		 * it is the nearest, and used alone, on whichever side it is. */
		size_t lo = before < nc ? ctrl_block[before] : nb + 1;
		const tie_block *left = &blk[lo - 1], *right = &blk[lo];
		double dl = di - left->value, dr = right->value - di;
		double dist = dl < dr ? dl : dr, cell_units, mm, sy, syy, y, mean_c;
		int use_l, use_r;

		cell_units = c->count ? c->count[i] : 1;
		if (dist == INFINITY || (o->caliper > 0 && dist > o->caliper)) {
			r->treated_unmatched += (size_t)cell_units;
			continue;
		}
		use_l = dl == dist;
		use_r = dr == dist;
		mm = (use_l ? left->units : 0) + (use_r ? right->units : 0);
		sy = (use_l ? left->ysum : 0) + (use_r ? right->ysum : 0);
		syy = (use_l ? left->ysq : 0) + (use_r ? right->ysq : 0);
		if (want_shares) {
			double share = cell_units / mm, kk = cell_units / (mm * mm);

			shares[lo - 1].share += use_l ? share : 0;
			shares[lo - 1].kk += use_l ? kk : 0;
			shares[lo].share += use_r ? share : 0;
			shares[lo].kk += use_r ? kk : 0;
		}
		y = c->ysum[i];
		mean_c = sy / mm;
		if (c->count == NULL) {
			double tau = y - mean_c;

			sum_tau += tau;
			sum_tau2 += tau * tau;
			/* sum over the pairs of (y_i - y_j)^2 / m */
			pair_sq += (mm * y * y - 2 * y * sy + syy) / mm;
		} else if (want_se) {
			/* the cell's units one by one: y -> their outcomes */
			double cell_ysq = c->ysq[i];

			sum_tau += y - cell_units * mean_c;
			sum_tau2 += cell_ysq - 2 * mean_c * y + cell_units * mean_c * mean_c;
			pair_sq += (mm * cell_ysq - 2 * y * sy + cell_units * syy) / mm;
		} else
			sum_tau += y - cell_units * mean_c;
		if (w)
			w[i] = 1;
		matched += cell_units;
		pairs += cell_units * mm;
	}
	r->treated_matched = (size_t)matched;
	r->pairs = (size_t)pairs;
	if (matched == 0) {
		r->estimate = r->se = NAN;
		nnmatch_work_free(&own);
		return -1;
	}
	r->estimate = sum_tau / matched;
	for (size_t q = 0; w && q < nc; q++)
		w[ctrl[q]] = shares[ctrl_block[q]].share;
	for (size_t b = 1; want_se && b <= nb; b++)
		if (shares[b].share > 0) {
			var_c += blk[b].units * (shares[b].share * shares[b].share - shares[b].kk);
			r->controls_used += (size_t)blk[b].units;
		}
	s2 = pair_sq - r->estimate * sum_tau;
	s2 = 0.5 * (s2 < 0 ? 0 : s2) / matched;
	/* sum (tau_i - est)^2 = sum tau^2 - est sum tau */
	r->se = want_se ? sqrt((s2 * var_c + fmax(0, sum_tau2 - r->estimate * sum_tau)) /
	    (matched * matched)) : NAN;
	nnmatch_work_free(&own);
	return 0;
}

/* The nearest controls of treated unit i by the Mahalanobis distance (Z,
 * whitened) among the alive controls of its stratum, slots [lo, hi) of the
 * pool, within the caliper on d: the k nearest and, with TIES_ALL, every
 * one tied with the k-th; otherwise ties go to the lowest row. */
static size_t
find_mahalanobis(const nnmatch_problem *pb, const pool *p, size_t lo, size_t hi,
    const uint8_t *used, size_t i, const nnmatch_opts *o, candidate **out, size_t *cap)
{
	size_t got = 0, keep;

	for (size_t slot = lo; slot < hi; slot++) {
		size_t j = p->c[slot].index;
		double dist = 0;

		if (used && used[j])
			continue;
		if (o->caliper > 0 && fabs(pb->d[i] - pb->d[j]) > o->caliper)
			continue;
		for (int c = 0; c < pb->q; c++) {
			double e = pb->Z[(size_t)c * pb->n + i] - pb->Z[(size_t)c * pb->n + j];

			dist += e * e;
		}
		if (got == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*out = xreallocarray(*out, *cap, sizeof **out);
		}
		(*out)[got++] = (candidate){ dist, slot, j };
	}
	qsort(*out, got, sizeof **out, cmp_candidate);
	keep = got < (size_t)o->k ? got : (size_t)o->k;
	if (o->ties == TIES_ALL)
		while (keep > 0 && keep < got && (*out)[keep].dist == (*out)[keep - 1].dist)
			keep++;
	return keep;
}

/* The general case: k nearest, any ties rule, with or without
 * replacement, one control at a time; within strata, and on the
 * Mahalanobis distance, when the problem says so. With replacement each
 * treated unit takes its k at once (no unit's matches change another's);
 * without, as MatchIt does, in k rounds: every treated unit, in order of
 * its distance value from the largest down (equal values: the lowest row
 * first, as R's order(decreasing = TRUE)), takes one control per round
 * while any is left, so controls run short for the last rounds, not for
 * whole units. */
static int
match_walk(const nnmatch_problem *pb, const nnmatch_opts *o, double *w, nnmatch_result *r,
    int64_t *set, nnmatch_pairs *pairs_out)
{
	const double *d = pb->d, *y = pb->y;
	const uint8_t *t = pb->t;
	size_t n = pb->n;
	keyed *controls = xmalloc((n + 1) * sizeof *controls);
	keyed *treated = xmalloc((n + 1) * sizeof *treated);
	double *kk = xcalloc(n + 1, sizeof *kk), *tau_i = xcalloc(n + 1, sizeof *tau_i);
	double *mean_c = xcalloc(n + 1, sizeof *mean_c);
	size_t *got = xcalloc(n + 1, sizeof *got); /* matches per treated row */
	size_t *pair_t = NULL, *pair_c = NULL, npairs = 0, pairs_cap = 0;
	size_t nc = 0, nt = 0, cap = 0, nstrata = 1;
	size_t *seg_lo = NULL, *seg_hi = NULL; /* each stratum's slots in the pool */
	size_t *stratum_of = NULL;              /* a row's stratum, 0 .. nstrata-1 */
	uint8_t *used = NULL;                   /* Mahalanobis without replacement */
	int rounds = o->replace ? 1 : o->k;
	nnmatch_opts per_round = *o;
	candidate *slots = NULL;
	double sum_tau = 0, pair_sq = 0, s2, var_c = 0, var_t = 0;
	pool all;

	memset(r, 0, sizeof *r);
	stratum_of = xcalloc(n + 1, sizeof *stratum_of);
	if (pb->stratum) {
		/* strata numbered in order of their values */
		keyed *st = xmalloc((n + 1) * sizeof *st);

		for (size_t i = 0; i < n; i++)
			st[i] = (keyed){ (double)pb->stratum[i], i };
		keyed_sort(st, n);
		nstrata = 0;
		for (size_t q = 0; q < n; q++) {
			if (q == 0 || st[q].key != st[q - 1].key)
				nstrata++;
			stratum_of[st[q].index] = nstrata - 1;
		}
		free(st);
		if (nstrata == 0)
			nstrata = 1;
	}
	for (size_t i = 0; i < n; i++) {
		w[i] = 0;
		if (set)
			set[i] = -1;
		if (t[i])
			treated[nt++] = (keyed){ -d[i], i }; /* largest first, then row */
		else /* by stratum, then distance value, then row */
			controls[nc++] = (keyed){ d[i], i };
	}
	{
		/* controls grouped by stratum (a counting sort keeps row order),
		 * each stratum's sorted by distance value then row */
		size_t *count = xcalloc(nstrata + 1, sizeof *count);
		keyed *by = xmalloc((nc + 1) * sizeof *by);

		for (size_t q = 0; q < nc; q++)
			count[stratum_of[controls[q].index] + 1]++;
		for (size_t g = 0; g < nstrata; g++)
			count[g + 1] += count[g];
		seg_lo = xcalloc(nstrata + 1, sizeof *seg_lo);
		seg_hi = xcalloc(nstrata + 1, sizeof *seg_hi);
		for (size_t g = 0; g < nstrata; g++)
			seg_lo[g] = seg_hi[g] = count[g];
		for (size_t q = 0; q < nc; q++)
			by[seg_hi[stratum_of[controls[q].index]]++] = controls[q];
		for (size_t g = 0; g < nstrata; g++)
			keyed_sort(by + seg_lo[g], seg_hi[g] - seg_lo[g]);
		free(controls);
		controls = by;
		free(count);
	}
	all.c = controls;
	all.m = nc;
	all.right = all.left = NULL;
	if (!o->replace) {
		/* each stratum's slots link within the stratum (relative indexes) */
		all.right = xmalloc((nc + 1) * sizeof *all.right);
		all.left = xmalloc((nc + 1) * sizeof *all.left);
		for (size_t g = 0; g < nstrata; g++)
			for (size_t q = seg_lo[g]; q < seg_hi[g]; q++)
				all.right[q] = all.left[q] = q - seg_lo[g];
		all.right[nc] = 0;
		keyed_sort(treated, nt);
		per_round.k = 1;
		if (pb->Z)
			used = xcalloc(n + 1, 1);
	}
	/* the matches, as (treated row, control row) pairs in the order found */
	for (int round = 0; round < rounds; round++)
		for (size_t a = 0; a < nt; a++) {
			size_t i = treated[a].index, g = stratum_of[i], m;
			const nnmatch_opts *oo = o->replace ? o : &per_round;

			if (pb->Z) {
				m = find_mahalanobis(pb, &all, seg_lo[g], seg_hi[g], used, i, oo,
				    &slots, &cap);
				for (size_t s = 0; used && s < m; s++)
					used[slots[s].row] = 1;
			} else {
				pool p = { all.c + seg_lo[g], seg_hi[g] - seg_lo[g],
					all.right ? all.right + seg_lo[g] : NULL,
					all.left ? all.left + seg_lo[g] : NULL };

				m = find_matches(&p, d[i], i, oo, &slots, &cap);
			}
			if (npairs + m > pairs_cap) {
				pairs_cap = (npairs + m) * 2 + 16;
				pair_t = xreallocarray(pair_t, pairs_cap, sizeof *pair_t);
				pair_c = xreallocarray(pair_c, pairs_cap, sizeof *pair_c);
			}
			for (size_t s = 0; s < m; s++) {
				pair_t[npairs] = i;
				pair_c[npairs++] = slots[s].row;
			}
			got[i] += m;
			if (set && !o->replace && m > 0) /* each control serves one set at most */
				set[i] = set[slots[0].row] = (int64_t)a;
		}
	/* weights, each treated unit's tau and the pairs' squares */
	for (size_t q = 0; q < npairs; q++) {
		size_t i = pair_t[q], j = pair_c[q];
		double m = (double)got[i], tau_pair = y[i] - y[j];

		mean_c[i] += y[j] / m;
		pair_sq += tau_pair * tau_pair / m;
		w[j] += 1.0 / m;
		kk[j] += 1.0 / (m * m);
	}
	for (size_t a = 0; a < nt; a++) {
		size_t i = treated[a].index;

		if (got[i] == 0) {
			r->treated_unmatched++;
			tau_i[i] = NAN;
			continue;
		}
		w[i] = 1;
		tau_i[i] = y[i] - mean_c[i];
		sum_tau += tau_i[i];
		r->treated_matched++;
		r->pairs += got[i];
	}
	if (pairs_out) {
		pairs_out->treated = pair_t;
		pairs_out->control = pair_c;
		pairs_out->weight = xreallocarray(NULL, npairs + 1, sizeof *pairs_out->weight);
		for (size_t q = 0; q < npairs; q++)
			pairs_out->weight[q] = 1.0 / (double)got[pair_t[q]];
		pairs_out->n = npairs;
		pair_t = pair_c = NULL;
	}
	free(mean_c), free(got), free(pair_t), free(pair_c);
	free(seg_lo), free(seg_hi), free(stratum_of), free(used);
	if (r->treated_matched == 0) {
		r->estimate = r->se = NAN;
		free(controls), free(treated), free(kk), free(tau_i), free(slots);
		free(all.right), free(all.left);
		return -1;
	}
	r->estimate = sum_tau / (double)r->treated_matched;
	/* sum_pairs w (tau_pair - est)^2 = S2 - 2 est S1 + est^2 sum w, with
	 * S1 = sum of the tau_i and sum w = the matched treated count */
	s2 = pair_sq - r->estimate * sum_tau;
	s2 = s2 < 0 ? 0 : s2; /* rounding */
	s2 = 0.5 * s2 / (double)r->treated_matched;
	for (size_t i = 0; i < n; i++) {
		if (!t[i] && w[i] > 0) {
			var_c += w[i] * w[i] - kk[i];
			r->controls_used++;
		} else if (t[i] && !isnan(tau_i[i]) && w[i] > 0) {
			double e = tau_i[i] - r->estimate;

			var_t += e * e;
		}
	}
	r->se = sqrt((s2 * var_c + var_t) /
	    ((double)r->treated_matched * (double)r->treated_matched));
	free(controls), free(treated), free(kk), free(tau_i), free(slots);
	free(all.right), free(all.left);
	return 0;
}

/* Rows with one treatment and one distance value (equal bits) as one cell:
 * its count of units and outcome sums. Propensities from a model on
 * discrete covariates take few values, so millions of rows become thousands
 * of cells and the sort and sweep become trivial. Gives up (returns 0)
 * once more than n / 4 cells appear, or when after a stretch of 65,536 rows
 * more than 7 in 8 of the rows so far each made a new cell (continuous
 * covariates: nearly every row its own cell, so the rest would only fill
 * a table to throw away): then cells would save little. */
typedef struct {
	uint8_t *t;
	double *d, *count, *ysum, *ysq;
	uint32_t *cell_of; /* each row's cell */
	size_t n;
} row_cells;

static uint64_t
cell_key(double d, uint8_t t)
{
	return bits_of(d) ^ ((uint64_t)t << 63 | t);
}

static size_t
collapse_rows(const double *d, const uint8_t *t, const double *y, size_t n,
    row_cells *c)
{
	size_t limit = n / 4, size = 64, mask;
	uint32_t *slot; /* cell + 1; 0: empty */

	memset(c, 0, sizeof *c);
	if (n < 64 || n >= UINT32_MAX)
		return 0;
	while (size < 2 * limit)
		size *= 2;
	mask = size - 1;
	slot = xcalloc(size, sizeof *slot);
	c->cell_of = xmalloc(n * sizeof *c->cell_of);
	c->t = xmalloc(limit + 1);
	c->d = xmalloc((limit + 1) * sizeof *c->d);
	c->count = xmalloc((limit + 1) * sizeof *c->count);
	c->ysum = xmalloc((limit + 1) * sizeof *c->ysum);
	c->ysq = xmalloc((limit + 1) * sizeof *c->ysq);
	for (size_t i = 0; i < n; i++) {
		uint64_t key = cell_key(d[i], t[i]);
		size_t s = hash_slot(key, size), k;

		if ((i & 0xffff) == 0 && i > 0 && c->n > i / 8 * 7)
			goto give_up;
		while (slot[s] && cell_key(c->d[slot[s] - 1], c->t[slot[s] - 1]) != key)
			s = (s + 1) & mask;
		if (slot[s] == 0) {
			if (c->n == limit)
				goto give_up;
			c->t[c->n] = t[i];
			c->d[c->n] = d[i];
			c->count[c->n] = c->ysum[c->n] = c->ysq[c->n] = 0;
			slot[s] = (uint32_t)++c->n;
		}
		k = slot[s] - 1;
		c->cell_of[i] = (uint32_t)k;
		c->count[k] += 1;
		c->ysum[k] += y[i];
		c->ysq[k] += y[i] * y[i];
	}
	free(slot);
	return c->n;
give_up:
	free(slot);
	free(c->cell_of), free(c->t), free(c->d);
	free(c->count), free(c->ysum), free(c->ysq);
	memset(c, 0, sizeof *c);
	return 0;
}

int
nnmatch_att(const double *d, const uint8_t *t, const double *y, size_t n,
    const nnmatch_opts *o, double *w, nnmatch_result *r, nnmatch_work *work)
{
	row_cells rc;
	int status;

	if (!nnmatch_by_blocks(o)) {
		nnmatch_problem pb = { .d = d, .t = t, .y = y, .n = n };

		return match_walk(&pb, o, w, r, NULL, NULL);
	}
	if (collapse_rows(d, t, y, n, &rc) == 0) {
		nnmatch_cells rows = { t, d, NULL, y, NULL, n };

		return nnmatch_att_cells(&rows, o, w, r, work);
	}
	{
		nnmatch_cells cells = { rc.t, rc.d, rc.count, rc.ysum, rc.ysq, rc.n };
		double *cw = xmalloc(rc.n * sizeof *cw);

		status = nnmatch_att_cells(&cells, o, cw, r, work);
		for (size_t i = 0; i < n; i++)
			w[i] = cw[rc.cell_of[i]];
		free(cw);
	}
	free(rc.cell_of), free(rc.t), free(rc.d);
	free(rc.count), free(rc.ysum), free(rc.ysq);
	return status;
}

int
nnmatch_by_blocks(const nnmatch_opts *o)
{
	return o->k == 1 && o->replace && o->ties == TIES_ALL;
}

int
nnmatch_distance(int on_logit, double caliper_sd, const double *ps, const double *count,
    size_t n, double *d_out, double *caliper_width, size_t *bad_row)
{
	const double *d = d_out ? d_out : ps;
	double mean = 0, ss = 0, units = 0;

	if (d_out == NULL && on_logit)
		return -2; /* the logit would have nowhere to go */
	for (size_t i = 0; i < n; i++) {
		double c = count ? count[i] : 1;
		double v = on_logit ? log(ps[i] / (1 - ps[i])) : ps[i];

		if (d_out)
			d_out[i] = v;
		if (!isfinite(v)) {
			*bad_row = i;
			return -1;
		}
		mean += c * v;
		units += c;
	}
	mean /= units;
	for (size_t i = 0; caliper_sd > 0 && i < n; i++)
		ss += (count ? count[i] : 1) * (d[i] - mean) * (d[i] - mean);
	/* MatchIt's std.caliper: in SDs of the distance over all units */
	*caliper_width = caliper_sd > 0 && units > 1 ?
	    caliper_sd * sqrt(ss / (units - 1)) : 0;
	return 0;
}

int
nnmatch_att_sets(const double *d, const uint8_t *t, const double *y, size_t n,
    const nnmatch_opts *o, double *w, nnmatch_result *r, int64_t *set)
{
	nnmatch_problem pb = { .d = d, .t = t, .y = y, .n = n };

	if (o->replace)
		return -2;
	return match_walk(&pb, o, w, r, set, NULL);
}

int
nnmatch_att_problem(const nnmatch_problem *pb, const nnmatch_opts *o, double *w,
    nnmatch_result *r, int64_t *set, nnmatch_pairs *pairs)
{
	if (pairs)
		memset(pairs, 0, sizeof *pairs);
	if (pb->q > 0 && pb->Z == NULL)
		return -2;
	if (nnmatch_by_blocks(o) && !pb->stratum && !pb->Z && !pairs && !set)
		return nnmatch_att(pb->d, pb->t, pb->y, pb->n, o, w, r, NULL);
	return match_walk(pb, o, w, r, o->replace ? NULL : set, pairs);
}

void
nnmatch_pairs_free(nnmatch_pairs *p)
{
	free(p->treated);
	free(p->control);
	free(p->weight);
	memset(p, 0, sizeof *p);
}

int
nnmatch_mahalanobis(const double *X, const uint8_t *t, size_t n, int q, double *Z)
{
	double *S = xcalloc((size_t)q * (size_t)q + 1, sizeof *S);
	double mean[2][64] = { { 0 } }, units[2] = { 0, 0 };
	int rc = 0;

	if (q < 1 || q > 64 || n < 3) {
		free(S);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		units[t[i] != 0] += 1;
		for (int c = 0; c < q; c++)
			mean[t[i] != 0][c] += X[(size_t)c * n + i];
	}
	for (int g = 0; g < 2; g++)
		for (int c = 0; c < q; c++)
			mean[g][c] = units[g] > 0 ? mean[g][c] / units[g] : 0;
	/* the pooled within-group covariance, each group about its own means */
	for (size_t i = 0; i < n; i++) {
		int g = t[i] != 0;

		for (int a = 0; a < q; a++)
			for (int b = 0; b <= a; b++)
				S[a * q + b] += (X[(size_t)a * n + i] - mean[g][a]) *
				    (X[(size_t)b * n + i] - mean[g][b]);
	}
	for (int a = 0; a < q; a++)
		for (int b = 0; b <= a; b++)
			S[a * q + b] /= (double)(n - 2);
	/* its Cholesky factor L (lower), in place */
	for (int j = 0; j < q && rc == 0; j++) {
		double diag = S[j * q + j];

		for (int k = 0; k < j; k++)
			diag -= S[j * q + k] * S[j * q + k];
		/* relative to the variance: a covariate that is constant, or a
		 * combination of the others, leaves (almost) nothing */
		if (!(diag > 1e-12 * fabs(S[j * q + j])) || !(diag > 0)) {
			rc = -1;
			break;
		}
		S[j * q + j] = sqrt(diag);
		for (int i = j + 1; i < q; i++) {
			double v = S[i * q + j];

			for (int k = 0; k < j; k++)
				v -= S[i * q + k] * S[j * q + k];
			S[i * q + j] = v / S[j * q + j];
		}
	}
	/* z = L^-1 x, row by row: |z_i - z_j|^2 = (x_i - x_j)' S^-1 (x_i - x_j) */
	for (size_t i = 0; rc == 0 && i < n; i++)
		for (int a = 0; a < q; a++) {
			double v = X[(size_t)a * n + i];

			for (int b = 0; b < a; b++)
				v -= S[a * q + b] * Z[(size_t)b * n + i];
			Z[(size_t)a * n + i] = v / S[a * q + a];
		}
	free(S);
	return rc;
}

/* The k units of group g nearest to v, into ranks of g, from R (the first
 * of g not below v): on equal distances the lower side, then the lower row. */
static size_t
nearest_k_from(const keyed *g, size_t ng, double v, size_t R, size_t k, size_t *rank)
{
	size_t L = R, got = 0;

	while (got < k && (L > 0 || R < ng)) {
		double dl = L > 0 ? v - g[L - 1].key : INFINITY, dr = R < ng ? g[R].key - v : INFINITY;

		if (dl <= dr)
			rank[got++] = --L;
		else
			rank[got++] = R++;
	}
	return got;
}

/* A block of count rows (covariates Xb, column-major; propensities e;
 * each row's two numbers coef) into the sums of f x_a x_b (f = e (1 - e);
 * the lower triangle, row by row, in tri), x_a coef[.][0] (c) and x_a
 * coef[.][1] (d). Its own arrays, not aliased: the sums stay in
 * registers or the first cache instead of going to memory each row. */
static void
information_block(const double *restrict Xb, size_t count, int p, const double *restrict e,
    const double (*restrict coef)[2], double *restrict tri, double *restrict c,
    double *restrict d)
{
	for (size_t i = 0; i < count; i++) {
		double f = e[i] * (1 - e[i]), xi[64];

		for (int a = 0; a < p; a++)
			xi[a] = Xb[(size_t)a * count + i];
		for (int a = 0, k = 0; a < p; a++) {
			double fx = f * xi[a];

			c[a] += xi[a] * coef[i][0];
			d[a] += xi[a] * coef[i][1];
			for (int b = 0; b <= a; b++, k++)
				tri[k] += fx * xi[b];
		}
	}
}

int
nnmatch_ai2016_adjustment(const double *ps, const uint8_t *t, const double *y,
    row_block_fn rows, void *ctx, size_t n, int p, int m, int l, double tau,
    double *adjustment, nnmatch_work *work)
{
	enum { BLOCK = 512 };
	keyed *grp[2] = { NULL, NULL };
	size_t ng[2] = { 0, 0 }, kmax = (size_t)(m > l ? m : l), *idx;
	double *I = xcalloc((size_t)p * (size_t)p, sizeof *I), *c = xcalloc((size_t)p, sizeof *c);
	double *d = xcalloc((size_t)p, sizeof *d), n1 = 0, adj = 0;
	/* c and d are sums of x times a number per unit (below), found in
	 * order of score and applied in the rows' order, where the covariates
	 * are built a block at a time: no model matrix is held or reordered */
	double *yg[2] = { NULL, NULL }, *coef_g[2] = { NULL, NULL }, (*coef)[2] = NULL;
	size_t *rank = NULL;
	double *Xb = NULL, *tri = NULL;
	keyed *scratch;
	nnmatch_work own = { 0 };
	int rc = 0;

	idx = xreallocarray(NULL, kmax + 1, sizeof *idx);
	for (size_t i = 0; i < n; i++)
		ng[t[i] != 0]++;
	n1 = (double)ng[1];
	if (ng[0] < (size_t)l || ng[1] < (size_t)l || n1 == 0 || l < 2 || p > 64) {
		rc = -1;
		goto out;
	}
	{
		/* every array in one block of work, from its start: the matching
		 * before it has just touched those pages (a hundred million rows
		 * clear gigabytes fewer fresh ones), and the rest goes back. After
		 * the groups' orders, one stretch holds first the sorts' copy,
		 * then the groups' outcomes and their numbers, then the ranks in
		 * the outcomes' place: 40 bytes a row. */
		size_t in_grp = (n + 2) * sizeof(keyed), in_y = (n + 2) * sizeof(double);
		size_t in_coef = (2 * n + 3) * sizeof(double);
		char *mem = work_exactly(work ? work : &own, in_grp + in_y + in_coef);

		_Static_assert(sizeof(keyed) == 2 * sizeof(double), "the copy fits in yg and coef");
		grp[0] = (keyed *)mem;
		grp[1] = grp[0] + ng[0] + 1;
		scratch = (keyed *)(mem + in_grp);
		yg[0] = (double *)(mem + in_grp);
		yg[1] = yg[0] + ng[0] + 1;
		coef_g[0] = (double *)(mem + in_grp + in_y);
		coef_g[1] = coef_g[0] + 2 * ng[0] + 1;
		rank = (size_t *)yg[0];
		ng[0] = ng[1] = 0;
	}
	for (size_t i = 0; i < n; i++) {
		int g = t[i] != 0;

		grp[g][ng[g]++] = (keyed){ ps[i], i };
	}
	keyed_sort_into(grp[0], ng[0], scratch);
	keyed_sort_into(grp[1], ng[1], scratch);
	/* coef_g by rank in the group: [2r] multiplies x in c, [2r + 1] in d */
	memset(coef_g[0], 0, (2 * n + 3) * sizeof(double));
	for (int w = 0; w < 2; w++)
		for (size_t r = 0; r < ng[w]; r++)
			yg[w][r] = y[grp[w][r].index];
	/* the units in order of score (both groups' orders walked together,
	 * the controls first on a tie); at[w]: the first of group w not below
	 * the unit's score. With x_k the covariates of a unit k,
	 *   d = sum_i x_i f_i (Y_i(1) - Y_i(0) - tau) / N1
	 *   c = sum_i a_i,w sum_{k near i in w} x_k (y_k - mean y) / (l - 1)
	 * (a covariance over k is the sum of x_k times y_k's deviation), with
	 * a_i,1 = f_i / N1 and a_i,0 = f_i e_i / (1 - e_i) / N1. */
	{
		size_t r[2] = { 0, 0 }, at[2] = { 0, 0 };

		while (r[0] < ng[0] || r[1] < ng[1]) {
			int g = r[1] >= ng[1] || (r[0] < ng[0] && grp[0][r[0]].key <= grp[1][r[1]].key) ?
			    0 : 1;
			size_t own = r[g]++;
			double e = grp[g][own].key, f = e * (1 - e), yw[2];

			for (int w = 0; w < 2; w++)
				while (at[w] < ng[w] && grp[w][at[w]].key < e)
					at[w]++;
			/* the unit's outcomes under both: its own, the other imputed */
			for (int w = 0; w < 2; w++) {
				if (w == g) {
					yw[w] = yg[g][own];
					continue;
				}
				{
					size_t got = nearest_k_from(grp[w], ng[w], e, at[w], (size_t)m, idx);
					double sum = 0;

					for (size_t k = 0; k < got; k++)
						sum += yg[w][idx[k]];
					yw[w] = sum / (double)got;
				}
			}
			coef_g[g][2 * own + 1] += f * (yw[1] - yw[0] - tau) / n1;
			/* cov(x, y | e) in each group, over its l units nearest to e */
			for (int w = 0; w < 2; w++) {
				size_t got = nearest_k_from(grp[w], ng[w], e, at[w], (size_t)l, idx);
				double my = 0, a = (w ? f : f * e / (1 - e)) / n1 / (double)(got - 1);

				for (size_t k = 0; k < got; k++)
					my += yg[w][idx[k]] / (double)got;
				for (size_t k = 0; k < got; k++)
					coef_g[w][2 * idx[k]] += a * (yg[w][idx[k]] - my);
			}
		}
	}
	/* each row's rank in its group, where its two numbers are (ten
	 * million rows hold 16 bytes a row less than the numbers copied to
	 * the rows' order), in the outcomes' place */
	for (int w = 0; w < 2; w++)
		for (size_t r = 0; r < ng[w]; r++)
			rank[grp[w][r].index] = r;
	/* I, c and d over the rows, a block of covariates at a time */
	Xb = xreallocarray(NULL, (size_t)BLOCK * (size_t)p, sizeof *Xb);
	coef = xreallocarray(NULL, BLOCK, sizeof *coef);
	tri = xcalloc((size_t)p * (size_t)(p + 1) / 2, sizeof *tri);
	for (size_t first = 0; first < n && rc == 0; first += BLOCK) {
		size_t count = n - first < BLOCK ? n - first : BLOCK;

		if (rows(ctx, first, count, Xb) != 0) {
			rc = -2;
			break;
		}
		/* the block's numbers from their ranks, in a loop of their own so
		 * that the reads (random in memory) are all under way at once */
		for (size_t i = 0; i < count; i++) {
			const double *at = coef_g[t[first + i] != 0] + 2 * rank[first + i];

			coef[i][0] = at[0];
			coef[i][1] = at[1];
		}
		information_block(Xb, count, p, ps + first, coef, tri, c, d);
	}
	/* I = the triangle's sums / n, both halves */
	for (int a = 0, k = 0; a < p; a++)
		for (int b = 0; b <= a; b++, k++)
			I[a * p + b] = I[b * p + a] = tri[k] / (double)n;
	free(tri);
	/* d' I^-1 d - c' I^-1 c: two solves with the Cholesky factor */
	{
		double *A = xreallocarray(NULL, (size_t)p * (size_t)p, sizeof *A);
		double *v = xreallocarray(NULL, (size_t)p, sizeof *v);

		for (int pass = 0; pass < 2 && rc == 0; pass++) {
			const double *u = pass ? c : d;

			memcpy(A, I, (size_t)p * (size_t)p * sizeof *A);
			memcpy(v, u, (size_t)p * sizeof *v);
			if (cholesky_solve(A, v, p, NULL) != 0) {
				rc = -1;
				break;
			}
			for (int a = 0; a < p; a++)
				adj += (pass ? -1 : 1) * u[a] * v[a];
		}
		free(A), free(v);
	}
	if (rc == 0)
		*adjustment = adj / (double)n;
out:
	nnmatch_work_free(&own);
	free(coef), free(Xb), free(idx);
	free(I), free(c), free(d);
	return rc;
}
