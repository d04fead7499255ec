/* boot — bootstrap intervals for every estimate upstream, replaying the
 * recipe (refitting the propensity model) on each resample.
 *
 * Contract: needs a stream whose recipe it can replay (each entry's module
 * has a replay; gen and balance make no estimate and are skipped); passes
 * rows on as they come; fills se (bootstrap SD), ci, ci_level, ci_method and
 * replicates of each estimate a module recomputes (the analytic SE kept as
 * se_analytic); makes the result boot (replicates run, failed and why).
 * The stage driver is here; the replay is replay.c, the chunks and threads
 * boot_engine.c, remote workers boot_workers.c, interval maths bootci.c. */
#include "boot.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "boot_engine.h"
#include "boot_workers.h"
#include "err.h"
#include "mpo.h"
#include "quantile.h"
#include "replay.h"
#include "stage.h"
#include "xalloc.h"

/* The recipe entry, written and read side by side. A stream through boot
 * is not bootstrapped again (not_replayed). */
static void
boot_recipe_write(const void *params, const stream_head *h, mpseq *entry)
{
	const boot_params *o = params;

	(void)h;
	mpseq_i64(entry, "replicates", o->B);
	mpseq_i64(entry, "seed", (int64_t)o->seed);
	mpseq_str(entry, "ci", bootci_name(o->ci));
	mpseq_f64(entry, "level", o->level);
	mpseq_bool(entry, "fixed_ps", o->fixed_ps);
	if (o->matching_refit) /* absent: weighted */
		mpseq_str(entry, "matching", "refit");
	if (o->resample != RESAMPLE_ROWS) { /* absent: rows, as streams before it */
		mpseq_str(entry, "resample", resample_name(o->resample));
		if (o->resample_column)
			mpseq_str(entry, o->resample == RESAMPLE_CLUSTERS ? "cluster" : "key",
			    o->resample_column);
	}
}

static int
boot_recipe_read(void *params, const msgpack_object *e, char *why, size_t whylen)
{
	boot_params *o = params;
	double B = 0, seed = 0;
	char *ci = NULL, *resample = NULL;
	int rc = 0;

	memset(o, 0, sizeof *o);
	o->level = 0.95;
	if (recipe_get_str(e, "boot", "resample", &resample, why, whylen) != 0)
		return -1;
	if (resample && strcmp(resample, "clusters") == 0) {
		o->resample = RESAMPLE_CLUSTERS;
		rc = recipe_get_str(e, "boot", "cluster", &o->resample_read, why, whylen);
	} else if (resample && strcmp(resample, "poisson") == 0) {
		o->resample = RESAMPLE_POISSON;
		rc = recipe_get_str(e, "boot", "key", &o->resample_read, why, whylen);
	} else if (resample) {
		snprintf(why, whylen, "the recipe's boot entry has an unknown 'resample'");
		rc = -1;
	}
	free(resample);
	o->resample_column = o->resample_read;
	o->matching_refit = mpo_is_str(mpo_get(e, "matching"), "refit");
	if (rc != 0)
		return -1;
	if (recipe_get_number(e, "boot", "replicates", &B, why, whylen) ||
	    recipe_get_number(e, "boot", "seed", &seed, why, whylen) ||
	    recipe_get_str(e, "boot", "ci", &ci, why, whylen) ||
	    recipe_get_number(e, "boot", "level", &o->level, why, whylen) ||
	    recipe_get_bool(e, "boot", "fixed_ps", &o->fixed_ps, why, whylen))
		rc = -1;
	else if (ci && !cli_choice(ci, "percentile,normal,bca")) {
		snprintf(why, whylen, "the recipe's boot entry has an unknown 'ci'");
		rc = -1;
	} else if (ci)
		o->ci = ci[0] == 'p' ? BOOTCI_PERCENTILE : ci[0] == 'n' ? BOOTCI_NORMAL : BOOTCI_BCA;
	if (rc == 0 && (!recipe_whole(B, 1, 1e9) || !recipe_whole(seed, 0, 18446744073709549568.0))) {
		snprintf(why, whylen, "the recipe's boot entry has a replicates or seed that is "
		    "not a whole number in range");
		rc = -1;
	}
	if (rc == 0) {
		o->B = (int)B;
		o->seed = (uint64_t)seed;
	}
	free(ci);
	return rc;
}

/* The data for remote workers: the input as a psflow stream, in memory. */
static void
data_message(mpseq *m, const boot_params *o, const stage_input *si, int K)
{
	io_out *mem = io_out_memory();
	stream_out *out = stream_out_to(mem, STREAM_DEFAULT_BATCH_ROWS, 1);
	size_t len;
	void *bytes;
	uint8_t nonce[16];
	/* the head as it came, with the columns boot kept (a view: nothing
	 * here is freed) */
	stream_head kept = *si->head;

	kept.schema = si->rows;
	stream_out_head(out, &kept);
	stream_out_rows(out, &si->rows, 0, si->rows.nrows);
	for (int i = 0; i < si->results.n; i++)
		stream_out_raw(out, si->results.items[i].bytes, si->results.items[i].len);
	stream_out_end(out);
	bytes = io_out_take(mem, &len);
	io_out_free(mem);
	mpseq_map(m);
	mpseq_str(m, "kind", "boot-data");
	/* a new run has new data, even on the same stream: a worker of an
	 * earlier coordinator on this port is refused, not mixed in */
	if (sodium_init() < 0)
		die("cannot start libsodium");
	randombytes_buf(nonce, sizeof nonce);
	msgpack_pack_bin_with_body(mpseq_key(m, "run"), nonce, sizeof nonce);
	mpseq_i64(m, "seed", (int64_t)o->seed);
	mpseq_i64(m, "replicates", o->range_last ? o->range_last - o->range_first + 1 : o->B);
	mpseq_i64(m, "first", o->range_last ? o->range_first - 1 : 0);
	mpseq_i64(m, "chunk", o->chunk);
	mpseq_i64(m, "targets", K);
	mpseq_bool(m, "fixed_ps", o->fixed_ps);
	mpseq_str(m, "resample", resample_name(o->resample));
	mpseq_str(m, "matching", o->matching_refit ? "refit" : "weighted");
	if (o->resample_column)
		mpseq_str(m, "resample_column", o->resample_column);
	else
		mpseq_nil(m, "resample_column");
	msgpack_pack_bin_with_body(mpseq_key(m, "stream"), bytes, len);
	free(bytes);
}

/* Dies unless the plan's estimates on the full data, refitted from zeros
 * as fitps did, are the stream's own (to 1e-9). */
static void
full_data_check(const replay_plan *plan, const replay_data *data)
{
	replay_plan cold = replay_plan_cold(plan);
	replay_scratch *s = replay_scratch_new(plan, data);
	double *full = xcalloc((size_t)plan->ntargets + 1, sizeof *full);
	char why[512];

	if (replay_run(&cold, data, &(replay_rows){ 0 }, s, full, why, sizeof why) !=
	    REPLICATE_OK)
		die("replaying the recipe on the full data failed: %s", why);
	for (int k = 0; k < plan->ntargets; k++)
		if (!(fabs(full[k] - plan->targets[k].estimate) <=
		    1e-9 * fmax(1, fabs(plan->targets[k].estimate))))
			die("replaying the recipe gives %s = %.10g, but the stream says "
			    "%.10g: the recipe does not describe this flow (a stage that "
			    "changed the data without a recipe entry?)",
			    plan->targets[k].name, full[k], plan->targets[k].estimate);
	replay_scratch_free(s);
	free(full);
}

/* The estimates without each of G blocks of rows, for BCa's acceleration
 * (a grouped jackknife: n refits would be too many). */
#define JACK_GROUPS 20

static void
jackknife(const replay_plan *plan, const replay_data *data, double *theta /* G x K */)
{
	size_t n = data->n;
	uint32_t *kept = xreallocarray(NULL, n + 1, sizeof *kept);
	uint8_t *keep = xmalloc(n + 1);
	replay_scratch *s = replay_scratch_new(plan, data);
	char why[512];

	for (int g = 0; g < JACK_GROUPS; g++) {
		/* block g: the stream's rows g, g + G, g + 2G, ... left out; the
		 * others once each, in their order */
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			keep[data->pos[i]] = i % JACK_GROUPS != (size_t)g;
		for (size_t k = 0; k < n; k++)
			if (keep[k])
				kept[m++] = (uint32_t)k;
		if (replay_run(plan, data, &(replay_rows){ .list = kept, .n = m }, s,
		    theta + (size_t)g * plan->ntargets, why, sizeof why) != REPLICATE_OK)
			die("--ci bca: the estimates without block %d of %d rows could not "
			    "be computed (%s): use --ci percentile", g + 1, JACK_GROUPS, why);
	}
	replay_scratch_free(s);
	free(kept);
	free(keep);
}

/* The upstream result with se, ci and the rest filled in. */
static void
rewrite_result(mpseq *out, const mpraw *raw, double se, const double ci[2],
    const boot_params *o, size_t replicates, const char *method)
{
	static const char *replaced[] = { "se", "ci", "ci_level", "ci_method",
		"replicates", "se_analytic", "bootstrap" };
	msgpack_unpacked u;
	const msgpack_object *m;
	msgpack_packer *pk;

	mpraw_unpack(raw, &u);
	m = &u.data;
	mpseq_map(out);
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		char *key = mpo_strdup(&m->via.map.ptr[i].key);
		int skip = key == NULL;

		for (size_t r = 0; key && r < sizeof replaced / sizeof *replaced; r++)
			skip |= strcmp(key, replaced[r]) == 0;
		if (!skip)
			msgpack_pack_object(mpseq_key(out, key), m->via.map.ptr[i].val);
		free(key);
	}
	{
		const msgpack_object *old = mpo_get(m, "se");

		pk = mpseq_key(out, "se_analytic");
		if (old)
			msgpack_pack_object(pk, *old);
		else
			msgpack_pack_nil(pk);
	}
	mpseq_f64(out, "se", se);
	mpseq_f64_pair(out, "ci", ci[0], ci[1]);
	mpseq_f64(out, "ci_level", o->level);
	mpseq_str(out, "ci_method", bootci_name(o->ci));
	mpseq_str(out, "bootstrap", method ? method : "the stage refitted on each resample");
	mpseq_i64(out, "replicates", (int64_t)replicates);
	msgpack_unpacked_destroy(&u);
}

/* The first `keep` succeeded replicates' estimates, by estimate name, in
 * replicate order (so the same at any -j): a sample of the bootstrap
 * distribution of bounded size for report's plots. */
/* FNV-1a over bytes, chained. */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

/* What a part of a bootstrap is computed on, as 64 bits: the replay's
 * data (treatment, outcome, groups, covariates, propensities), the recipe,
 * the upstream results, the resampling's clusters or keys. Parts of one
 * stream have one digest; a part of another is refused by it. */
static uint64_t
stream_digest(const stage_input *si, const replay_data *d, const boot_resample *rs)
{
	uint64_t h = 1469598103934665603ull;

	h = fnv(h, &d->n, sizeof d->n);
	h = fnv(h, d->t, d->n);
	h = fnv(h, d->y, d->n * sizeof *d->y);
	h = fnv(h, d->group, d->n * sizeof *d->group);
	if (d->X)
		h = fnv(h, d->X, d->ngroups * (size_t)d->p * sizeof *d->X);
	if (d->ps)
		h = fnv(h, d->ps, d->ngroups * sizeof *d->ps);
	for (int i = 0; i < si->head->nrecipe; i++)
		h = fnv(h, si->head->recipe[i].bytes, si->head->recipe[i].len);
	for (int i = 0; i < si->results.n; i++)
		h = fnv(h, si->results.items[i].bytes, si->results.items[i].len);
	if (rs->rows)
		h = fnv(h, rs->rows, d->n * sizeof *rs->rows);
	if (rs->key)
		h = fnv(h, rs->key, d->n * sizeof *rs->key);
	return h;
}

/* boot --range: the stream as it came (its head without boot's entry),
 * then the result boot_part: the replicates computed, with everything a
 * merge needs to give the same bytes as one run. */
static void
write_part(stream_out *out, const boot_params *o, const stage_input *si,
    const replay_plan *plan, const boot_engine *e, uint64_t digest)
{
	mpseq m, names;
	char hex[24];

	for (int i = 0; i < si->results.n; i++)
		stream_out_raw(out, si->results.items[i].bytes, si->results.items[i].len);
	result_begin(&m, "boot", "boot_part");
	snprintf(hex, sizeof hex, "%016llx", (unsigned long long)digest);
	mpseq_str(&m, "digest", hex);
	mpseq_i64(&m, "replicates", o->B);
	mpseq_i64(&m, "first", o->range_first);
	mpseq_i64(&m, "last", o->range_last);
	mpseq_i64(&m, "seed", (int64_t)o->seed);
	mpseq_str(&m, "ci", bootci_name(o->ci));
	mpseq_f64(&m, "level", o->level);
	mpseq_bool(&m, "fixed_ps", o->fixed_ps);
	mpseq_f64(&m, "max_failed", o->max_failed);
	mpseq_str(&m, "resample", resample_name(o->resample));
	if (o->resample_column)
		mpseq_str(&m, "resample_column", o->resample_column);
	else
		mpseq_nil(&m, "resample_column");
	mpseq_str(&m, "matching", o->matching_refit ? "refit" : "weighted");
	mpseq_i64(&m, "draws", o->draws);
	mpseq_array(&names);
	for (int k = 0; k < plan->ntargets; k++)
		mpseq_str(&names, NULL, plan->targets[k].name);
	mpseq_take(&m, "estimates", &names);
	msgpack_pack_bin_with_body(mpseq_key(&m, "values"), e->values,
	    (size_t)e->B * (size_t)e->K * sizeof *e->values);
	msgpack_pack_bin_with_body(mpseq_key(&m, "status"), e->status, (size_t)e->B);
	mpseq_str(&m, "why", e->why);
	stream_out_map(out, &m);
	mpseq_free(&m);
	stream_out_end(out);
}

/* boot --merge: the parts' replicates, read and checked before the run. */
typedef struct {
	double *values;   /* B x K */
	uint8_t *status;  /* B */
	uint64_t digest;
	char why[512];
} merged_parts;

/* What boot keeps of the rows: what the replay reads, the cluster or key
 * column, and every outcome. */
typedef struct {
	const replay_plan *plan;
	const char *extra;
	const stage_outcome_list *outcomes;
} boot_keep_ctx;

static int
boot_keeps(const char *column, void *ctx)
{
	const boot_keep_ctx *c = ctx;

	return stage_outcome_list_has(c->outcomes, column) ||
	    replay_plan_reads(c->plan, column) || (c->extra && strcmp(column, c->extra) == 0);
}

/* The replicates of one outcome's estimates: its plan, data, resampling
 * and engine (values B x K). */
typedef struct {
	replay_plan plan;
	replay_data data;
	boot_resample rs;
	boot_engine e;
	uint64_t digest;
	double *jack;
	int failed;
} outcome_run;

/* The first `keep` succeeded replicates' estimates, by estimate name, in
 * replicate order (so the same at any -j): a sample of the bootstrap
 * distribution of bounded size for report's plots. */
static void
draws_field(mpseq *result, const outcome_run *runs, int nruns, int keep)
{
	mpseq draws, values;
	int kept = 0;

	mpseq_map(&draws);
	for (int q = 0; q < nruns; q++) {
		const boot_engine *e = &runs[q].e;
		int K = runs[q].plan.ntargets;

		for (int k = 0; k < K && keep > 0; k++) {
			kept = 0;
			mpseq_array(&values);
			for (int r = 0; r < e->B && kept < keep; r++)
				if (e->status[r] == REPLICATE_OK) {
					mp_pack_f64(mpseq_item(&values), e->values[(size_t)r * K + (size_t)k]);
					kept++;
				}
			mpseq_take(&draws, runs[q].plan.targets[k].name, &values);
		}
	}
	mpseq_i64(result, "draws_kept", kept);
	mpseq_take(result, "draws", &draws);
}

static void
run_outcome(outcome_run *run, const boot_params *o, const cli_common *cli,
    const merged_parts *merged, stage_input *si, const char *outcome, int several)
{
	replay_plan *plan = &run->plan;
	boot_engine *e = &run->e;
	pthread_t *threads;
	int K;

	memset(run, 0, sizeof *run);
	replay_plan_from_recipe(plan, si->head, o->fixed_ps);
	replay_plan_option(plan, "matching", o->matching_refit ? "refit" : "weighted");
	if (several)
		replay_plan_set_outcome(plan, outcome);
	replay_plan_add_targets(plan, &si->results);
	for (int k = 0; k < plan->ntargets; k++)
		if (o->matching_refit && !cli->quiet && strncmp(plan->targets[k].name, "match_", 6) == 0)
			err_warn("warning: --matching refit re-matches every resample: the plain "
			    "bootstrap is not valid for nearest-neighbour matching (Abadie & Imbens "
			    "2008), so %s's interval may not cover; the default weighted bootstrap "
			    "is", plan->targets[k].name);
	replay_data_prepare(&run->data, plan, &si->rows);
	K = plan->ntargets;

	replay_plan_warm_start(plan, &run->data);
	boot_resample_prepare(&run->rs, o->resample, o->resample_column, &si->rows, &run->data);

	e->plan = plan;
	e->data = &run->data;
	e->resample = &run->rs;
	e->seed = o->seed;
	e->first = o->range_last ? o->range_first - 1 : 0;
	e->B = o->range_last ? o->range_last - o->range_first + 1 : o->B;
	e->K = K;
	e->chunk = o->chunk;
	e->nchunks = (e->B + o->chunk - 1) / o->chunk;
	e->values = xreallocarray(NULL, (size_t)e->B, (size_t)K * sizeof *e->values);
	e->status = xcalloc((size_t)e->B, 1);
	e->state = xcalloc((size_t)e->nchunks, 1);
	e->handed_at = xcalloc((size_t)e->nchunks, sizeof *e->handed_at);
	e->chunk_timeout = o->chunk_timeout;
	e->last_progress = boot_now();
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	run->digest = stream_digest(si, &run->data, &run->rs);
	if (merged && merged->digest != run->digest)
		die("--merge: the parts were computed on another stream than the first part's "
		    "rows and recipe (digest %016llx against %016llx)",
		    (unsigned long long)merged->digest, (unsigned long long)run->digest);
	threads = xcalloc((size_t)o->jobs + 1, sizeof *threads);
	for (int j = 0; !merged && j < o->jobs; j++)
		if (pthread_create(&threads[j], NULL, boot_local_thread, e) != 0)
			die("cannot start worker thread %d:", j + 1);
	/* meanwhile, here: the plan must reproduce the stream's own estimates
	 * on the full data, or the recipe does not describe the flow and the
	 * intervals would be for something else (boot dies, and the workers'
	 * replicates with it) */
	full_data_check(plan, &run->data);
	if (merged) {
		/* the parts' replicates, as the threads would have left them */
		memcpy(e->values, merged->values, (size_t)o->B * (size_t)K * sizeof *e->values);
		memcpy(e->status, merged->status, (size_t)o->B);
		snprintf(e->why, sizeof e->why, "%s", merged->why);
		e->done_chunks = e->nchunks;
	} else if (o->workers) {
		mpseq msg;

		data_message(&msg, o, si, K);
		boot_serve_workers(e, o->workers, &msg,
		    &(boot_serve_opts){ .idle_timeout = o->idle_timeout, .verify = o->verify },
		    &cli->io, cli->quiet);
		mpseq_free(&msg);
	} else {
		pthread_mutex_lock(&e->mu);
		while (e->done_chunks < e->nchunks) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&e->cv, &e->mu, &until);
			pthread_mutex_unlock(&e->mu);
			boot_progress(e, cli->quiet, 0);
			pthread_mutex_lock(&e->mu);
		}
		pthread_mutex_unlock(&e->mu);
	}
	for (int j = 0; !merged && j < o->jobs; j++)
		pthread_join(threads[j], NULL);
	free(threads);
	if (!merged)
		boot_progress(e, cli->quiet, 1);
}

static void
outcome_run_free(outcome_run *run)
{
	free(run->jack);
	free(run->e.values);
	free(run->e.status);
	free(run->e.state);
	free(run->e.handed_at);
	pthread_mutex_destroy(&run->e.mu);
	pthread_cond_destroy(&run->e.cv);
	boot_resample_free(&run->rs);
	replay_data_free(&run->data);
	replay_plan_free(&run->plan);
}

/* Counts the failed replicates (of any outcome's estimates), says so, and
 * dies past --max-failed. */
static int
check_failures(const boot_params *o, const cli_common *cli, outcome_run *runs, int nruns,
    int reason_count[REPLICATE_REASONS])
{
	int failed = 0;
	const char *why = "";

	for (int i = 0; i < o->B; i++) {
		int bad = 0;

		for (int q = 0; q < nruns && !bad; q++)
			if (runs[q].e.status[i] != REPLICATE_OK) {
				uint8_t st = runs[q].e.status[i];

				bad = 1;
				reason_count[st < REPLICATE_REASONS ? st : 0]++;
			}
		failed += bad;
	}
	for (int q = 0; q < nruns && !why[0]; q++)
		why = runs[q].e.why;
	if (failed && !cli->quiet)
		err_warn("note: %d of %d replicates failed and are left out of the "
		    "intervals (counted in the boot result)%s%s", failed, o->B,
		    why[0] ? "; e.g. " : "", why);
	if (failed > o->max_failed * o->B || o->B - failed < 2)
		die("%d of %d replicates failed (more than --max-failed %g): intervals "
		    "from the rest would be biased. %s%s", failed, o->B, o->max_failed,
		    why[0] ? "E.g. " : "", why);
	return failed;
}

static void
boot_coordinate(const boot_params *o, const cli_common *cli, const merged_parts *merged)
{
	stage_input si;
	replay_plan cols;
	stage_outcome_list outcomes;
	outcome_run *runs;
	int failed, reason_count[REPLICATE_REASONS] = { 0 }, nruns, several;
	mpseq recipe, bootres;
	stream_out *out;

	stage_open(&si, cli);
	/* boot adds no column: the rows go on as they come, and only the
	 * results wait for the replicates */
	stage_recipe_entry(&boot_module, o, si.head, &recipe);
	/* the replay's plan first: it says which columns to keep (remote
	 * workers get those too, never the rest: no user ids they do not need) */
	replay_plan_from_recipe(&cols, si.head, o->fixed_ps);
	stage_recipe_outcomes(si.head, cols.outcome, &outcomes);
	several = outcomes.n > 1;
	if (several && (o->workers || o->range_last || merged))
		die("the flow estimates for several outcomes (%s, ...): boot --workers, --range "
		    "and --merge take one; not built for several yet: bootstrap here (-j), or "
		    "give each outcome its own flow", outcomes.names[0]);
	{
		boot_keep_ctx kc = { &cols, o->resample_column, &outcomes };

		/* a part's head goes on as it came: the merge adds boot's entry */
		out = stage_read_all_passing(&si, cli, o->range_last ? NULL : &recipe,
		    boot_keeps, &kc);
	}
	replay_plan_free(&cols);
	mpseq_free(&recipe);
	if (merged) /* the part's own result is not the stream's */
		for (int i = si.results.n - 1; i >= 0; i--) {
			msgpack_unpacked u;
			int part;

			mpraw_unpack(&si.results.items[i], &u);
			part = mpo_is_str(mpo_get(&u.data, "name"), "boot_part");
			msgpack_unpacked_destroy(&u);
			if (part) {
				free(si.results.items[i].bytes);
				memmove(&si.results.items[i], &si.results.items[i + 1],
				    (size_t)(si.results.n - i - 1) * sizeof *si.results.items);
				si.results.n--;
			}
		}
	/* each outcome's replicates in turn, from the same draws (replicate i
	 * draws from rng_stream(seed, i) for every outcome) */
	nruns = several ? outcomes.n : 1;
	runs = xcalloc((size_t)nruns, sizeof *runs);
	for (int q = 0; q < nruns; q++)
		run_outcome(&runs[q], o, cli, merged, &si, outcomes.n ? outcomes.names[q] : NULL,
		    several);
	if (o->range_last) {
		write_part(out, o, &si, &runs[0].plan, &runs[0].e, runs[0].digest);
		goto done;
	}
	failed = check_failures(o, cli, runs, nruns, reason_count);
	for (int q = 0; q < nruns && o->ci == BOOTCI_BCA; q++) {
		runs[q].jack = xcalloc((size_t)JACK_GROUPS * (size_t)runs[q].plan.ntargets,
		    sizeof *runs[q].jack);
		jackknife(&runs[q].plan, &runs[q].data, runs[q].jack);
	}
	{
		double *v = xreallocarray(NULL, (size_t)o->B + 1, sizeof *v);

		for (int i = 0; i < si.results.n; i++) {
			int k = -1, q;
			const replay_plan *plan = NULL;

			for (q = 0; q < nruns && k < 0; q++)
				for (int t = 0; t < runs[q].plan.ntargets; t++)
					if (runs[q].plan.targets[t].result == i)
						k = t, plan = &runs[q].plan;
			if (k < 0) {
				stream_out_raw(out, si.results.items[i].bytes, si.results.items[i].len);
				continue;
			}
			q--; /* the run the target is in */
			{
				const boot_engine *e = &runs[q].e;
				int K = plan->ntargets;
				size_t m = 0;
				double mean = 0, sd = 0, ci[2];
				mpseq rewritten;

				for (int r = 0; r < o->B; r++)
					if (e->status[r] == REPLICATE_OK)
						v[m++] = e->values[(size_t)r * K + (size_t)k];
				sort_doubles(v, m);
				for (size_t r = 0; r < m; r++)
					mean += v[r] / (double)m;
				for (size_t r = 0; r < m; r++)
					sd += (v[r] - mean) * (v[r] - mean) / (double)(m - 1);
				bootci_interval(o->ci, o->level, v, m, plan->targets[k].estimate,
				    runs[q].jack ? runs[q].jack + k : NULL, (size_t)K, JACK_GROUPS, ci);
				rewrite_result(&rewritten, &si.results.items[i], sqrt(sd), ci, o, m,
				    replay_plan_method(plan, k));
				stream_out_map(out, &rewritten);
				mpseq_free(&rewritten);
			}
		}
		free(v);
		result_begin(&bootres, "boot", "boot");
		mpseq_i64(&bootres, "replicates", o->B);
		mpseq_i64(&bootres, "succeeded", o->B - failed);
		mpseq_i64(&bootres, "failed", failed);
		{
			mpseq why_map;

			mpseq_map(&why_map);
			for (int r = 1; r < REPLICATE_REASONS; r++)
				if (reason_count[r])
					mpseq_i64(&why_map, replicate_reason((replicate_status)r),
					    reason_count[r]);
			mpseq_take(&bootres, "failures", &why_map);
		}
		mpseq_i64(&bootres, "seed", (int64_t)o->seed);
		mpseq_str(&bootres, "ci_method", bootci_name(o->ci));
		mpseq_f64(&bootres, "ci_level", o->level);
		mpseq_str(&bootres, "propensities", runs[0].plan.ps_source);
		mpseq_str(&bootres, "resample", o->resample == RESAMPLE_CLUSTERS ?
		    "clusters with replacement" : o->resample == RESAMPLE_POISSON ?
		    "a Poisson(1) count per row" : "rows with replacement");
		if (o->resample == RESAMPLE_CLUSTERS) {
			mpseq_str(&bootres, "cluster", o->resample_column);
			mpseq_i64(&bootres, "clusters", (int64_t)runs[0].rs.nclusters);
		}
		if (o->resample == RESAMPLE_POISSON)
			mpseq_str(&bootres, "key", o->resample_column ? o->resample_column :
			    "the row's place in the stream");
		{
			mpseq names;

			mpseq_array(&names);
			for (int q = 0; q < nruns; q++)
				for (int k = 0; k < runs[q].plan.ntargets; k++)
					mpseq_str(&names, NULL, runs[q].plan.targets[k].name);
			mpseq_take(&bootres, "estimates", &names);
			if (several) {
				mpseq_array(&names);
				for (int q = 0; q < nruns; q++)
					mpseq_str(&names, NULL, outcomes.names[q]);
				mpseq_take(&bootres, "outcomes", &names);
			}
			mpseq_array(&names);
			for (int k = 0; k < runs[0].plan.nskipped; k++)
				mpseq_str(&names, NULL, runs[0].plan.skipped[k]);
			mpseq_take(&bootres, "stages_not_replayed", &names);
		}
		draws_field(&bootres, runs, nruns, o->draws);
		stream_out_map(out, &bootres);
		mpseq_free(&bootres);
		stream_out_end(out);
	}
done:
	for (int q = 0; q < nruns; q++)
		outcome_run_free(&runs[q]);
	free(runs);
	stage_outcome_list_free(&outcomes);
	stage_input_free(&si);
}

/* One part's boot_part result, kept as its own copy. */
typedef struct {
	const char *path;
	msgpack_unpacked u;
	mpraw raw;
	const msgpack_object *part;
	int64_t first, last;
} part_file;

static void
read_part(part_file *p, const cli_common *cli)
{
	stream_in *in = stream_in_open(p->path, &cli->io);
	stream_head *h = stream_in_head(in);
	table rows;
	mpraw raw;

	table_init(&rows);
	table_copy_schema(&rows, &h->schema);
	p->part = NULL;
	for (;;) {
		stream_event ev;

		rows.nrows = 0;
		ev = stream_in_next(in, &rows, &raw);
		if (ev == STREAM_END)
			break;
		if (ev == STREAM_RESULT && p->part == NULL) {
			msgpack_unpacked u;
			int is_part;

			mpraw_unpack(&raw, &u);
			is_part = mpo_is_str(mpo_get(&u.data, "name"), "boot_part");
			msgpack_unpacked_destroy(&u);
			if (is_part) {
				mpraw_copy(&p->raw, raw.bytes, raw.len);
				mpraw_unpack(&p->raw, &p->u);
				p->part = &p->u.data;
			}
		}
	}
	table_free(&rows);
	stream_in_free(in);
	if (p->part == NULL)
		die("--merge: %s is not a part of a bootstrap (no boot_part result: make parts "
		    "with boot --range A-B)", p->path);
	if (mpo_int(mpo_get(p->part, "first"), &p->first) || mpo_int(mpo_get(p->part, "last"),
	    &p->last) || p->first < 1 || p->last < p->first)
		die("--merge: %s has no usable range", p->path);
}

static int
by_first(const void *a, const void *b)
{
	const part_file *x = a, *y = b;

	return (x->first > y->first) - (x->first < y->first);
}

/* The keys every part must share, with the first's values. */
static const char *const part_keys[] = { "digest", "replicates", "seed", "ci", "level",
	"fixed_ps", "max_failed", "resample", "resample_column", "matching", "draws", "estimates" };

static void
boot_merge(const boot_params *cmdline_o, const cli_common *cli)
{
	part_file *p = xcalloc((size_t)cmdline_o->nparts, sizeof *p);
	int n = cmdline_o->nparts, K;
	int64_t B, seed, draws;
	double level = 0.95, max_failed = 0.05;
	boot_params o = *cmdline_o;
	merged_parts mp = { 0 };
	cli_common first = *cli;
	char *digest, *method;
	const msgpack_object *est;

	for (int i = 0; i < n; i++) {
		p[i].path = cmdline_o->parts[i];
		read_part(&p[i], cli);
	}
	for (int i = 1; i < n; i++)
		for (size_t k = 0; k < sizeof part_keys / sizeof *part_keys; k++) {
			const msgpack_object *a = mpo_get(p[0].part, part_keys[k]);
			const msgpack_object *b = mpo_get(p[i].part, part_keys[k]);

			if (a == NULL || b == NULL || !msgpack_object_equal(*a, *b))
				die("--merge: %s and %s differ in '%s': parts of another stream or run "
				    "(every part: the same input and options but --range)", p[0].path,
				    p[i].path, part_keys[k]);
		}
	qsort(p, (size_t)n, sizeof *p, by_first);
	for (int i = 0; i < n; i++) /* moved with its object */
		p[i].part = &p[i].u.data;
	if (mpo_int(mpo_get(p[0].part, "replicates"), &B) || mpo_int(mpo_get(p[0].part, "seed"),
	    &seed) || mpo_int(mpo_get(p[0].part, "draws"), &draws) ||
	    mpo_number(mpo_get(p[0].part, "level"), &level) ||
	    mpo_number(mpo_get(p[0].part, "max_failed"), &max_failed) || B < 2)
		die("--merge: %s's boot_part is malformed", p[0].path);
	for (int i = 0; i < n; i++) {
		int64_t want = i == 0 ? 1 : p[i - 1].last + 1;

		if (p[i].first < want)
			die("--merge: %s (replicates %lld-%lld) overlaps %s", p[i].path,
			    (long long)p[i].first, (long long)p[i].last, p[i - 1].path);
		if (p[i].first > want)
			die("--merge: replicates %lld-%lld are in no part (a gap)", (long long)want,
			    (long long)p[i].first - 1);
	}
	if (p[n - 1].last != B)
		die("--merge: replicates %lld-%lld are in no part (a gap at the end)",
		    (long long)p[n - 1].last + 1, (long long)B);
	est = mpo_get(p[0].part, "estimates");
	K = est && est->type == MSGPACK_OBJECT_ARRAY ? (int)est->via.array.size : 0;
	mp.values = xreallocarray(NULL, (size_t)B, (size_t)(K ? K : 1) * sizeof *mp.values);
	mp.status = xcalloc((size_t)B, 1);
	for (int i = 0; i < n; i++) {
		const msgpack_object *v = mpo_get(p[i].part, "values"), *st = mpo_get(p[i].part, "status");
		size_t count = (size_t)(p[i].last - p[i].first + 1);

		if (!v || !st || v->type != MSGPACK_OBJECT_BIN || st->type != MSGPACK_OBJECT_BIN ||
		    v->via.bin.size != count * (size_t)K * sizeof(double) || st->via.bin.size != count)
			die("--merge: %s's replicates do not fill its range", p[i].path);
		memcpy(mp.values + (size_t)(p[i].first - 1) * (size_t)K, v->via.bin.ptr, v->via.bin.size);
		memcpy(mp.status + (p[i].first - 1), st->via.bin.ptr, count);
		if (!mp.why[0] && mpo_get(p[i].part, "why") &&
		    mpo_get(p[i].part, "why")->type == MSGPACK_OBJECT_STR)
			snprintf(mp.why, sizeof mp.why, "%.*s", (int)mpo_get(p[i].part, "why")->via.str.size,
			    mpo_get(p[i].part, "why")->via.str.ptr);
	}
	digest = mpo_strdup(mpo_get(p[0].part, "digest"));
	mp.digest = digest ? strtoull(digest, NULL, 16) : 0;
	free(digest);
	/* the run the parts are of */
	o.B = (int)B;
	o.seed = (uint64_t)seed;
	o.level = level;
	o.max_failed = max_failed;
	o.draws = (int)draws;
	method = mpo_strdup(mpo_get(p[0].part, "ci"));
	o.ci = method && method[0] == 'n' ? BOOTCI_NORMAL : method && method[0] == 'b' ?
	    BOOTCI_BCA : BOOTCI_PERCENTILE;
	free(method);
	o.fixed_ps = mpo_get(p[0].part, "fixed_ps") &&
	    mpo_get(p[0].part, "fixed_ps")->type == MSGPACK_OBJECT_BOOLEAN &&
	    mpo_get(p[0].part, "fixed_ps")->via.boolean;
	o.matching_refit = mpo_is_str(mpo_get(p[0].part, "matching"), "refit");
	o.resample = mpo_is_str(mpo_get(p[0].part, "resample"), "clusters") ? RESAMPLE_CLUSTERS :
	    mpo_is_str(mpo_get(p[0].part, "resample"), "poisson") ? RESAMPLE_POISSON : RESAMPLE_ROWS;
	o.resample_read = mpo_strdup(mpo_get(p[0].part, "resample_column"));
	o.resample_column = o.resample_read;
	o.range_first = o.range_last = 0;
	o.workers = NULL;
	first.in = p[0].path;
	boot_coordinate(&o, &first, &mp);
	free(o.resample_read);
	for (int i = 0; i < n; i++) {
		msgpack_unpacked_destroy(&p[i].u);
		free(p[i].raw.bytes);
	}
	free(p);
	free(mp.values);
	free(mp.status);
}

static void
boot_run(const void *params, const stage_roles *roles, const cli_common *cli)
{
	boot_params o = *(const boot_params *)params;

	(void)roles;
	if (cli->io.timeout_ms >= 0) /* --timeout: how long to wait on the others */
		o.idle_timeout = cli->io.timeout_ms / 1000.0;
	if (o.worker) {
		boot_worker(o.worker, cli->io.timeout_ms < 0 ? 60 : o.idle_timeout, &cli->io,
		    cli->quiet);
		return;
	}
	if (o.merge)
		boot_merge(&o, cli);
	else
		boot_coordinate(&o, cli, NULL);
}

static const char boot_usage[] =
    "usage: boot [-B N] [--seed S] [-j N] [--ci percentile|normal|bca] [--level L]\n"
    "            [--fixed-ps] [--max-failed F] [--workers ENDPOINT [--verify N]]\n"
    "            [--draws N]\n"
    "            [--cluster COL | --poisson [--poisson-key COL]]\n"
    "            [--matching weighted|refit] [stream options]\n"
    "       boot --worker ENDPOINT [--timeout SEC]\n"
    "       boot --range A-B [options] / boot --merge PART...\n"
    "\n"
    "Draws N resamples of the rows, replays the flow's recipe on each (refitting\n"
    "the propensity model, recomputing weights and matches) and gives every\n"
    "estimate upstream a bootstrap SE and confidence interval. Replicate i\n"
    "depends on (seed, i) alone: the output is the same bytes whatever -j and\n"
    "wherever the replicates run.\n"
    "\n"
    "  -B, --replicates N  resamples (default 1000)\n"
    "  -s, --seed S        random seed (default 1)\n"
    "  -j, --jobs N        local worker threads (default: one per core; 0 with\n"
    "                      --workers leaves the work to remote workers)\n"
    "  --ci METHOD         percentile (default), normal, or bca (bias-corrected\n"
    "                      and accelerated; acceleration from a 20-block jackknife)\n"
    "  --level L           confidence level (default 0.95)\n"
    "  --fixed-ps          use the stream's propensities as they are, without\n"
    "                      refitting (needed after a stage boot cannot replay)\n"
    "  --max-failed F      fail when more than this fraction of replicates fail\n"
    "                      (default 0.05)\n"
    "  --workers ENDPOINT  also serve remote workers here ('@tcp://*:5557')\n"
    "  --worker ENDPOINT   run as a remote worker of the coordinator there\n"
    "                      ('>tcp://coordinator:5557')\n"
    "  --verify N          recompute N replicates of every chunk a remote worker\n"
    "                      returns, at places it cannot foresee, and drop a worker\n"
    "                      whose numbers differ (default 1; 0 trusts the workers)\n"
    "  --chunk N           replicates per chunk handed out (default 10)\n"
    "  --chunk-timeout SEC hand a chunk out again after SEC (default 30)\n"
    "  --cluster COL       resample whole clusters (users of one workspace are not\n"
    "                      independent): as many clusters as there are, with\n"
    "                      replacement, each with all its rows\n"
    "  --poisson           each row gets a Poisson(1) count per replicate, drawn\n"
    "                      from (seed, replicate, the row's key) alone\n"
    "  --poisson-key COL   the row's key (a user id): the same row gets the same\n"
    "                      counts wherever it is (default: its place in the stream)\n"
    "  --matching M        match_att's intervals: weighted (default; Otsu & Rai\n"
    "                      2017: the full data's matches kept, their linear form\n"
    "                      reweighted by each resample, valid where re-matching is\n"
    "                      not) or refit (re-match every resample: the plain\n"
    "                      bootstrap, which Abadie & Imbens (2008) show invalid)\n"
    "  --range A-B         compute replicates A to B of the -B N only and write them\n"
    "                      as a part (the stream, then the result boot_part), for a\n"
    "                      scheduler to spread a bootstrap (Slurm arrays, parallel)\n"
    "  --merge PART...     combine parts (any number, any order; overlaps, gaps and\n"
    "                      parts of another stream or run are refused) into the same\n"
    "                      bytes as one run\n"
    "  --draws N           keep the first N replicate estimates of each estimate in\n"
    "                      the result boot, for report's plots (default 2000; 0:\n"
    "                      none)\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  gen | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier \\\n"
    "      | weight -e ate,att | match | boot -B 500 --seed 7 | report\n";

enum { OPT_CI = OPT_PROGRAM_BASE, OPT_LEVEL, OPT_FIXED_PS, OPT_MAX_FAILED, OPT_WORKERS,
	OPT_WORKER, OPT_CHUNK, OPT_CHUNK_TIMEOUT, OPT_DRAWS, OPT_CLUSTER, OPT_POISSON,
	OPT_POISSON_KEY, OPT_MATCHING, OPT_RANGE, OPT_MERGE, OPT_VERIFY };

static const struct option boot_longopts[] = {
	{ "replicates", required_argument, NULL, 'B' },
	{ "seed", required_argument, NULL, 's' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "ci", required_argument, NULL, OPT_CI },
	{ "level", required_argument, NULL, OPT_LEVEL },
	{ "fixed-ps", no_argument, NULL, OPT_FIXED_PS },
	{ "max-failed", required_argument, NULL, OPT_MAX_FAILED },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "worker", required_argument, NULL, OPT_WORKER },
	{ "verify", required_argument, NULL, OPT_VERIFY },
	{ "chunk", required_argument, NULL, OPT_CHUNK },
	{ "chunk-timeout", required_argument, NULL, OPT_CHUNK_TIMEOUT },
	{ "draws", required_argument, NULL, OPT_DRAWS },
	{ "cluster", required_argument, NULL, OPT_CLUSTER },
	{ "poisson", no_argument, NULL, OPT_POISSON },
	{ "poisson-key", required_argument, NULL, OPT_POISSON_KEY },
	{ "matching", required_argument, NULL, OPT_MATCHING },
	{ "range", required_argument, NULL, OPT_RANGE },
	{ "merge", no_argument, NULL, OPT_MERGE },
	{ NULL, 0, NULL, 0 },
};

static void
boot_defaults(void *params)
{
	boot_params *o = params;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	*o = (boot_params){ .B = 1000, .seed = 1, .jobs = cores > 0 ? (int)cores : 1,
		.ci = BOOTCI_PERCENTILE, .level = 0.95, .max_failed = 0.05, .chunk = 10,
		.chunk_timeout = 30, .idle_timeout = 600, .draws = 2000, .verify = 1 };
}

static void
boot_option(void *params, int opt, const char *arg)
{
	boot_params *o = params;

	switch (opt) {
	case 'B': o->B = (int)cli_int("-B", arg, 2, 10000000); break;
	case 's': o->seed = (uint64_t)cli_int("--seed", arg, 0, INT64_MAX); break;
	case 'j': o->jobs = (int)cli_int("-j", arg, 0, 256); break;
	case OPT_CI:
		if (!cli_choice(arg, "percentile,normal,bca"))
			die_usage("--ci wants percentile, normal or bca, not '%s'", arg);
		o->ci = arg[0] == 'p' ? BOOTCI_PERCENTILE : arg[0] == 'n' ? BOOTCI_NORMAL :
		    BOOTCI_BCA;
		break;
	case OPT_LEVEL: o->level = cli_double("--level", arg, 0.5, 0.999); break;
	case OPT_FIXED_PS: o->fixed_ps = 1; break;
	case OPT_MAX_FAILED: o->max_failed = cli_double("--max-failed", arg, 0, 1); break;
	case OPT_WORKERS: o->workers = arg; break;
	case OPT_WORKER: o->worker = arg; break;
	case OPT_CHUNK: o->chunk = (int)cli_int("--chunk", arg, 1, 100000); break;
	case OPT_VERIFY: o->verify = (int)cli_int("--verify", arg, 0, 100000); break;
	case OPT_CHUNK_TIMEOUT:
		o->chunk_timeout = cli_double("--chunk-timeout", arg, 0.1, 86400);
		break;
	case OPT_DRAWS: o->draws = (int)cli_int("--draws", arg, 0, 1000000); break;
	case OPT_CLUSTER:
		o->resample = RESAMPLE_CLUSTERS;
		o->resample_column = arg;
		break;
	case OPT_POISSON:
		if (o->resample == RESAMPLE_CLUSTERS)
			die_usage("--poisson and --cluster are two ways to resample: give one");
		o->resample = RESAMPLE_POISSON;
		break;
	case OPT_RANGE: {
		char *end;
		long a = strtol(arg, &end, 10), b = 0;

		if (end != arg && *end == '-')
			b = strtol(end + 1, &end, 10);
		if (*end != '\0' || a < 1 || b < a || b > 10000000)
			die_usage("--range wants A-B, replicates from 1 (e.g. 1-250), not '%s'", arg);
		o->range_first = (int)a;
		o->range_last = (int)b;
		break;
	}
	case OPT_MERGE: o->merge = 1; break;
	case OPT_MATCHING:
		if (!cli_choice(arg, "weighted,refit"))
			die_usage("--matching wants weighted or refit, not '%s'", arg);
		o->matching_refit = strcmp(arg, "refit") == 0;
		break;
	case OPT_POISSON_KEY:
		if (o->resample == RESAMPLE_CLUSTERS)
			die_usage("--poisson and --cluster are two ways to resample: give one");
		o->resample = RESAMPLE_POISSON;
		o->resample_column = arg;
		break;
	}
}

static void
boot_finish(void *params, const stage_roles *roles)
{
	boot_params *o = params;

	(void)roles;
	if (!o->worker && o->jobs == 0 && o->workers == NULL && !o->merge)
		die_usage("-j 0 leaves no one to do the work: give --workers too");
	if (o->range_last > o->B)
		die_usage("--range %d-%d goes past -B %d", o->range_first, o->range_last, o->B);
	if (o->merge && o->nparts == 0)
		die_usage("--merge wants the parts' files: boot --merge PART...");
	if (o->nparts > 0 && !o->merge)
		die_usage("boot reads its stream from --in or stdin; files are for --merge");
	if (o->merge && o->range_last)
		die_usage("--merge and --range exclude each other");
}

/* The options that make the entry again (cmdline.h); where the replicates
 * ran (-j, workers) changes no number and is not in the recipe. */
static int
boot_command(const void *params, const void *defaults, cmdline *cmd)
{
	const boot_params *o = params, *d = defaults;
	char n[32];

	snprintf(n, sizeof n, "%d", o->B);
	cmdline_opt(cmd, "-B", n);
	if (o->seed != d->seed) {
		snprintf(n, sizeof n, "%llu", (unsigned long long)o->seed);
		cmdline_opt(cmd, "--seed", n);
	}
	if (o->ci != d->ci)
		cmdline_opt(cmd, "--ci", bootci_name(o->ci));
	if (o->level != d->level)
		cmdline_num(cmd, "--level", o->level);
	if (o->fixed_ps)
		cmdline_word(cmd, "--fixed-ps");
	if (o->matching_refit)
		cmdline_opt(cmd, "--matching", "refit");
	if (o->resample == RESAMPLE_CLUSTERS)
		cmdline_opt(cmd, "--cluster", o->resample_column);
	else if (o->resample == RESAMPLE_POISSON && o->resample_column)
		cmdline_opt(cmd, "--poisson-key", o->resample_column);
	else if (o->resample == RESAMPLE_POISSON)
		cmdline_word(cmd, "--poisson");
	return 0;
}

static void
boot_operand(void *params, const char *arg)
{
	boot_params *o = params;

	o->parts = xreallocarray(o->parts, (size_t)o->nparts + 1, sizeof *o->parts);
	o->parts[o->nparts++] = arg;
}

static void
boot_params_free(void *params)
{
	boot_params *o = params;

	free(o->resample_read);
	free(o->parts);
	o->resample_read = NULL;
	o->parts = NULL;
}

const stage_module boot_module = {
	.name = "boot",
	.usage = boot_usage,
	.shortopts = "B:s:j:",
	.longopts = boot_longopts,
	.all_rows = 1,
	.params_size = sizeof(boot_params),
	.defaults = boot_defaults,
	.option = boot_option,
	.finish = boot_finish,
	.recipe_write = boot_recipe_write,
	.recipe_read = boot_recipe_read,
	.params_free = boot_params_free,
	.operand = boot_operand,
	.command = boot_command,
	.run = boot_run,
	.not_replayed = "the stream has been through boot already",
};
