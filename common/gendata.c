#include "gendata.h"

#include <math.h>

#include "mpo.h"
#include "stream.h"

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

static void
truth_meta(stream_head *h, const gendata_opts *g)
{
	mpseq meta, truth, model;

	mpseq_map(&truth);
	mpseq_f64(&truth, "ate", g->effect);
	mpseq_f64(&truth, "att", g->effect);
	mpseq_f64(&truth, "atc", g->effect);
	mpseq_map(&model);
	mpseq_str(&model, "treatment", "opt_in_agent_mode");
	mpseq_str(&model, "outcome", "task_completed");
	mpseq_str(&model, "confounder", "engagement_tier");
	mpseq_map(&meta);
	mpseq_str(&meta, "source", "psflow gen");
	mpseq_i64(&meta, "seed", (int64_t)g->seed);
	mpseq_i64(&meta, "rows", (int64_t)g->rows);
	mpseq_take(&meta, "truth", &truth);
	mpseq_take(&meta, "model", &model);
	stream_head_set_meta(h, &meta);
	mpseq_free(&meta);
}

void
gendata_write(const gendata_opts *g, const cli_common *cli)
{
	stream_head head;
	stream_out *out;
	mpseq recipe;
	table batch;
	rng r;

	stream_head_init(&head);
	gendata_schema(&head.schema);
	stream_head_set_role(&head.treatment, "opt_in_agent_mode");
	stream_head_set_role(&head.outcome, "task_completed");
	stream_head_set_covariates(&head, "engagement_tier,query_confidence");
	mpseq_map(&recipe);
	mpseq_str(&recipe, "stage", "gen");
	mpseq_i64(&recipe, "rows", (int64_t)g->rows);
	mpseq_i64(&recipe, "seed", (int64_t)g->seed);
	mpseq_f64(&recipe, "effect", g->effect);
	stream_head_add_recipe(&head, &recipe);
	mpseq_free(&recipe);
	truth_meta(&head, g);

	out = stream_out_open(cli->out, &cli->io, cli->batch_rows);
	stream_out_head(out, &head);
	table_init(&batch);
	table_copy_schema(&batch, &head.schema);
	rng_seed(&r, g->seed);
	for (uint64_t done = 0; done < g->rows;) {
		size_t n = g->rows - done < cli->batch_rows ?
		    (size_t)(g->rows - done) : cli->batch_rows;

		batch.nrows = 0;
		gendata_fill(&batch, &r, g, done, n);
		stream_out_rows(out, &batch, 0, n);
		done += n;
	}
	stream_out_end(out);
	table_free(&batch);
	stream_head_free(&head);
}
