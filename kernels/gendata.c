#include "gendata.h"

#include <math.h>


/* Levels in sorted order, as csv2mp would infer them from the CSV. */
static char *const tier_levels[] = { "heavy", "light", "medium" };
enum { HEAVY, LIGHT, MEDIUM };

static const double tier_share[] = { [LIGHT] = 0.55, [MEDIUM] = 0.30, [HEAVY] = 0.15 };
static const double opt_in_rate[] = { [LIGHT] = 0.12, [MEDIUM] = 0.35, [HEAVY] = 0.65 };
static const double base_completion[] = { [LIGHT] = 0.35, [MEDIUM] = 0.55, [HEAVY] = 0.70 };
static const double noise_halfwidth = 0.05;

void
gendata_schema(table *t)
{
	table_add_column(t, "user_id", COL_I64, NULL, 0);
	table_add_column(t, "engagement_tier", COL_CAT, tier_levels, 3);
	table_add_column(t, "opt_in_agent_mode", COL_I64, NULL, 0);
	table_add_column(t, "query_confidence", COL_F64, NULL, 0);
	table_add_column(t, "task_completed", COL_I64, NULL, 0);
}

void
gendata_fill(table *t, rng *r, const gendata_opts *g, uint64_t first_id, size_t n)
{
	size_t at = t->nrows;
	int64_t *id, *opt_in, *done;
	int32_t *tier;
	double *conf;

	table_set_rows(t, at + n);
	id = (int64_t *)t->cols[GEN_USER_ID].data + at;
	tier = (int32_t *)t->cols[GEN_TIER].data + at;
	opt_in = (int64_t *)t->cols[GEN_OPT_IN].data + at;
	conf = (double *)t->cols[GEN_CONFIDENCE].data + at;
	done = (int64_t *)t->cols[GEN_COMPLETED].data + at;
	for (size_t i = 0; i < n; i++) {
		double u = rng_uniform(r), p;
		int k = u < tier_share[LIGHT] ? LIGHT :
		    u < tier_share[LIGHT] + tier_share[MEDIUM] ? MEDIUM : HEAVY;

		id[i] = (int64_t)(first_id + i);
		tier[i] = k;
		conf[i] = round(rng_beta_int(r, 5, 2) * 1e4) / 1e4;
		opt_in[i] = rng_uniform(r) < opt_in_rate[k];
		p = base_completion[k] + g->effect * (double)opt_in[i] +
		    noise_halfwidth * (2 * rng_uniform(r) - 1);
		p = fmin(0.99, fmax(0.01, p));
		done[i] = rng_uniform(r) < p;
	}
}
