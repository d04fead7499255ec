/* module: every stage's recipe entry, written and read side by side, comes
 * back as it was written (write, read, write: the same bytes), for the
 * defaults and for options set as the command line sets them; a corrupt
 * entry comes back as a status and a message naming the entry (recipe_read
 * never exits). The registry finds each module by its recipe name. */
#include <string.h>

#include "boot.h"
#include "check.h"
#include "fitps.h"
#include "gen.h"
#include "match.h"
#include "balance.h"
#include "replay.h"
#include "sensitivity.h"
#include "weight.h"

/* write -> read -> write gives the same bytes */
static int
round_trip(const stage_module *m, const void *params, const stream_head *h)
{
	mpseq a, b;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	size_t off = 0;
	char why[256];
	void *back = calloc(1, m->params_size);
	int same;

	stage_recipe_entry(m, params, h, &a);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mpseq_pack(&a, &pk);
	msgpack_unpacked_init(&u);
	msgpack_unpack_next(&u, sb.data, sb.size, &off);
	same = m->recipe_read(back, &u.data, why, sizeof why) == 0;
	if (same) {
		stage_recipe_entry(m, back, h, &b);
		same = a.sb.size == b.sb.size && memcmp(a.sb.data, b.sb.data, a.sb.size) == 0;
		mpseq_free(&b);
	} else
		printf("#   %s: %s\n", m->name, why);
	if (m->params_free)
		m->params_free(back);
	free(back);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	mpseq_free(&a);
	return same;
}

/* recipe_read of an entry given as JSON-ish pairs: returns its status and
 * the message in why */
static int
read_entry(const stage_module *m, mpseq *e, char *why, size_t whylen)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	size_t off = 0;
	void *params = calloc(1, m->params_size);
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mpseq_pack(e, &pk);
	msgpack_unpacked_init(&u);
	msgpack_unpack_next(&u, sb.data, sb.size, &off);
	why[0] = '\0';
	rc = m->recipe_read(params, &u.data, why, whylen);
	if (m->params_free)
		m->params_free(params);
	free(params);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	mpseq_free(e);
	return rc;
}

/* params of m after its defaults and the given options (opt, arg pairs) */
static void *
with_options(const stage_module *m, stage_roles *roles, const int *opts,
    const char *const *args, int n)
{
	void *p = calloc(1, m->params_size);

	if (m->defaults)
		m->defaults(p);
	for (int i = 0; i < n; i++)
		m->option(p, opts[i], args[i]);
	if (m->finish)
		m->finish(p, roles);
	return p;
}

static int
option_val(const stage_module *m, const char *name)
{
	for (int i = 0; m->longopts[i].name; i++)
		if (strcmp(m->longopts[i].name, name) == 0)
			return m->longopts[i].val;
	return -1;
}

int
main(void)
{
	const stage_module *all[] = { &gen_module, &fitps_module, &weight_module,
		&match_module, &balance_module, &boot_module, &sensitivity_module };
	stream_head h;
	stage_roles roles = { 0 };
	char why[256];

	stream_head_init(&h);
	h.treatment = "t", h.outcome = "y", h.ps = "ps";
	stream_head_set_covariates(&h, "a,b:c");
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		const stage_module *m = all[i];
		void *p = with_options(m, &roles, NULL, NULL, 0);
		char name[128];

		snprintf(name, sizeof name, "%s: found by name in the registry", m->name);
		CHECK(stage_module_find(m->name) == m, name);
		snprintf(name, sizeof name, "%s: the defaults' recipe entry reads back as written",
		    m->name);
		CHECK(round_trip(m, p, &h), name);
		if (m->params_free)
			m->params_free(p);
		free(p);
	}
	CHECK(stage_module_find("foreign-fitps") == NULL, "a stage not psflow's: not found");
	CHECK(boot_module.replay == NULL && boot_module.not_replayed != NULL &&
	    gen_module.replay == NULL && balance_module.replay == NULL &&
	    sensitivity_module.replay == NULL && sensitivity_module.not_replayed == NULL &&
	    fitps_module.replay && fitps_module.replay->ps && weight_module.replay &&
	    match_module.replay, "replays: fitps makes propensities, weight and match "
	    "estimate, gen and balance have nothing to replay, boot refuses");
	{
		const int o[] = { 'e', option_val(&weight_module, "trim"),
			option_val(&weight_module, "truncate"), option_val(&weight_module, "stabilize") };
		const char *a[] = { "att,ato", "0.05,0.9", "0.99", NULL };
		void *p = with_options(&weight_module, &roles, o, a, 4);
		const weight_params *w = p;

		CHECK(w->estimands[EST_ATT] && w->estimands[EST_ATO] && !w->estimands[EST_ATE] &&
		    w->adjust.trim_lo == 0.05 && w->adjust.trim_hi == 0.9 &&
		    w->adjust.truncate_q == 0.99 && w->adjust.stabilize,
		    "weight: -e att,ato --trim 0.05,0.9 --truncate 0.99 --stabilize");
		CHECK(round_trip(&weight_module, p, &h), "weight: every option reads back as written");
		free(p);
	}
	{
		const int o[] = { 'k', option_val(&match_module, "no-replace"),
			option_val(&match_module, "caliper"), option_val(&match_module, "on") };
		const char *a[] = { "3", NULL, "0.2", "logit" };
		void *p = with_options(&match_module, &roles, o, a, 4);
		const match_params *mp = p;

		CHECK(mp->nn.k == 3 && !mp->nn.replace && mp->caliper_sd == 0.2 && mp->on_logit &&
		    mp->nn.ties == TIES_FIRST,
		    "match: -k 3 --no-replace --caliper 0.2 --on logit (ties first)");
		CHECK(round_trip(&match_module, p, &h), "match: every option reads back as written");
		free(p);
	}
	{
		const int o[] = { option_val(&fitps_module, "l2"),
			option_val(&fitps_module, "max-iter"), option_val(&fitps_module, "tol"),
			option_val(&fitps_module, "drop-missing"), option_val(&fitps_module, "ps-name") };
		const char *a[] = { "0.5", "40", "1e-9", NULL, "score" };
		void *p = with_options(&fitps_module, &roles, o, a, 5);

		CHECK(round_trip(&fitps_module, p, &h),
		    "fitps: --l2 --max-iter --tol --drop-missing --ps-name read back as written");
		free(p);
	}
	{
		const int o[] = { 'B', 's', option_val(&boot_module, "ci"),
			option_val(&boot_module, "level"), option_val(&boot_module, "fixed-ps") };
		const char *a[] = { "77", "9", "bca", "0.9", NULL };
		void *p = with_options(&boot_module, &roles, o, a, 5);

		CHECK(round_trip(&boot_module, p, &h), "boot: every option reads back as written");
		free(p);
	}
	{
		const int o[] = { option_val(&gen_module, "scenario"), option_val(&gen_module, "reveal"),
			option_val(&gen_module, "confounding") };
		const char *a[] = { "hidden-confounder", NULL, "2" };
		void *p = with_options(&gen_module, &roles, o, a, 3);

		CHECK(round_trip(&gen_module, p, &h), "gen: --scenario --reveal --confounding read back");
		free(p);
	}
	{
		const int o[] = { option_val(&weight_module, "trim") };
		const char *a[] = { "auto" };
		void *p = with_options(&weight_module, &roles, o, a, 1);

		CHECK(((weight_params *)p)->adjust.trim_auto && round_trip(&weight_module, p, &h),
		    "weight: --trim auto reads back as written");
		free(p);
	}
	{
		const int o[] = { option_val(&sensitivity_module, "alpha"),
			option_val(&sensitivity_module, "gamma-max") };
		const char *a[] = { "0.1", "5" };
		void *p = with_options(&sensitivity_module, &roles, o, a, 2);

		CHECK(round_trip(&sensitivity_module, p, &h), "sensitivity: --alpha --gamma-max read back");
		free(p);
	}
	{
		const int o[] = { option_val(&balance_module, "sd"),
			option_val(&balance_module, "threshold"), option_val(&balance_module, "interactions") };
		const char *a[] = { "control", "0.05", NULL };
		void *p = with_options(&balance_module, &roles, o, a, 3);

		CHECK(round_trip(&balance_module, p, &h), "balance: --sd --threshold --interactions read back");
		free(p);
	}

	/* corrupt entries: a status and a message, never an exit */
	{
		mpseq e;

		mpseq_map(&e);
		mpseq_str(&e, "stage", "weight");
		CHECK(read_entry(&weight_module, &e, why, sizeof why) == -1 &&
		    strstr(why, "weight entry has no list of estimands"),
		    "weight: an entry without estimands");
		mpseq_map(&e);
		msgpack_pack_array(mpseq_key(&e, "estimands"), 1);
		mp_pack_cstr(&e.pk, "atx");
		CHECK(read_entry(&weight_module, &e, why, sizeof why) == -1 &&
		    strstr(why, "unknown estimand"), "weight: an unknown estimand");
		mpseq_map(&e);
		msgpack_pack_array(mpseq_key(&e, "estimands"), 1);
		mp_pack_cstr(&e.pk, "ate");
		mpseq_str(&e, "trim", "wide");
		CHECK(read_entry(&weight_module, &e, why, sizeof why) == -1 &&
		    strstr(why, "'trim' that is not [LO, HI]"), "weight: a trim that is text");
		mpseq_map(&e);
		mpseq_f64(&e, "k", 0);
		CHECK(read_entry(&match_module, &e, why, sizeof why) == -1 &&
		    strstr(why, "match entry has k = 0"), "match: k = 0");
		mpseq_map(&e);
		mpseq_str(&e, "replace", "yes");
		CHECK(read_entry(&match_module, &e, why, sizeof why) == -1 &&
		    strstr(why, "'replace' that is not true or false"), "match: replace as text");
		mpseq_map(&e);
		mpseq_str(&e, "covariates", "a,b");
		mpseq_str(&e, "tol", "small");
		CHECK(read_entry(&fitps_module, &e, why, sizeof why) == -1 &&
		    strstr(why, "fitps entry has a 'tol' that is not a number"), "fitps: tol as text");
		mpseq_map(&e);
		mpseq_i64(&e, "covariates", 3);
		CHECK(read_entry(&fitps_module, &e, why, sizeof why) == -1 &&
		    strstr(why, "'covariates' that is not a string"), "fitps: covariates as a number");
		mpseq_map(&e);
		mpseq_str(&e, "sd", "median");
		CHECK(read_entry(&balance_module, &e, why, sizeof why) == -1 &&
		    strstr(why, "unknown 'sd'"), "balance: an unknown sd");
		mpseq_map(&e);
		mpseq_str(&e, "scenario", "chaos");
		CHECK(read_entry(&gen_module, &e, why, sizeof why) == -1 &&
		    strstr(why, "gen entry names an unknown scenario"), "gen: an unknown scenario");
		mpseq_map(&e);
		mpseq_str(&e, "ci", "studentized");
		CHECK(read_entry(&boot_module, &e, why, sizeof why) == -1 &&
		    strstr(why, "boot entry has an unknown 'ci'"), "boot: an unknown ci");
		mpseq_map(&e);
		mpseq_str(&e, "alpha", "small");
		CHECK(read_entry(&sensitivity_module, &e, why, sizeof why) == -1 &&
		    strstr(why, "sensitivity entry has a 'alpha' that is not a number"),
		    "sensitivity: alpha as text");
		mpseq_map(&e);
		msgpack_pack_array(mpseq_key(&e, "estimands"), 1);
		mp_pack_cstr(&e.pk, "ate");
		mpseq_str(&e, "trim", "auto");
		CHECK(read_entry(&weight_module, &e, why, sizeof why) == 0,
		    "weight: trim \"auto\" reads");
	}
	h.treatment = h.outcome = h.ps = NULL;
	stream_head_free(&h);
	CHECK_DONE();
}
