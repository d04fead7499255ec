/* aipw — doubly robust estimates: an outcome model per arm, then the
 * g-computation (regression) and augmented IPW estimates of the ATE and
 * the ATT, with influence-function standard errors (kernels/outreg.h).
 *
 * Contract: needs treatment, outcome and propensity (roles, or -t/-y/--ps)
 * and the outcome model's terms (--formula, fitps's -x syntax; default the
 * stream's covariates); adds the columns y1_hat and y0_hat (each unit's
 * predicted outcome under treatment and under control); makes the results
 * gcomp_<estimand> and aipw_<estimand> for ate and att (-e), each with the
 * outcome models' coefficients. Holds every row. boot replays it: the
 * outcome models are refitted on each resample, on the refitted
 * propensities. */
#include "aipw.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "design.h"
#include "err.h"
#include "mpo.h"
#include "replay.h"
#include "stage.h"
#include "xalloc.h"

/* The outcome model's terms: --formula, or the stream's covariates. */
static const char *
formula_of(const aipw_params *o, const stream_head *h, char **owned)
{
	*owned = NULL;
	if (o->formula)
		return o->formula;
	*owned = stage_covariate_spec(h);
	return *owned;
}

/* Both arms' models and the estimates, for the stage and its replay alike;
 * m1, m0 receive the predictions. Returns OUTREG_OK, a status, or 1 when
 * the estimates cannot be made (an arm empty, a propensity of 0 or 1). */
static int
fit_and_estimate(outreg_family f, const double *X, size_t n, int p, const uint8_t *t,
    const double *y, const double *e, double *beta1, double *beta0, double *m1, double *m0,
    outreg_estimates *est)
{
	int rc = outreg_fit_arms(f, X, n, p, t, y, NULL, beta1, beta0);

	if (rc != OUTREG_OK)
		return rc;
	outreg_predict(f, X, n, p, beta1, m1);
	outreg_predict(f, X, n, p, beta0, m0);
	return outreg_estimate(t, y, e, m1, m0, n, est) == 0 ? OUTREG_OK : 1;
}

static void
coefficients(mpseq *m, const char *key, const design *d, const double *beta)
{
	mpseq terms;

	mpseq_array(&terms);
	for (int k = 0; k <= d->nterms; k++) {
		mpseq term;

		mpseq_map(&term);
		mpseq_str(&term, "term", k ? d->terms[k - 1].name : "(intercept)");
		mpseq_f64(&term, "coef", beta[k]);
		mpseq_take(&terms, NULL, &term);
	}
	mpseq_take(m, key, &terms);
}

static void
aipw_result(mpseq *m, const char *name, const char *estimand, double estimate, double se,
    size_t n, const aipw_params *o, const char *formula, const design *d,
    const double *beta1, const double *beta0, const stage_outcomes *outs, int k)
{
	stage_result_begin(m, "aipw", name, outs, k);
	mpseq_str(m, "estimand", estimand);
	mpseq_f64(m, "estimate", estimate);
	if (isnan(se))
		mpseq_nil(m, "se");
	else
		mpseq_f64(m, "se", se);
	mpseq_nil(m, "ci");
	mpseq_i64(m, "n", (int64_t)n);
	mpseq_str(m, "se_method", isnan(se) ? "none (boot gives one)" : "influence function");
	mpseq_str(m, "outcome_model", outreg_family_name(o->family));
	mpseq_str(m, "formula", formula);
	coefficients(m, "model_treated", d, beta1);
	coefficients(m, "model_control", d, beta0);
}

_Noreturn static void
die_status(int rc, const char *formula)
{
	if (rc == OUTREG_EMPTY)
		die("an arm has no unit to fit the outcome model on");
	if (rc == OUTREG_SINGULAR)
		die("the outcome model '%s' is singular in an arm (a term constant among "
		    "the treated or the controls, or a combination of others): drop it "
		    "from --formula", formula);
	if (rc == OUTREG_NO_FIT)
		die("the logistic outcome model '%s' did not converge in an arm "
		    "(separation?): try --family linear or fewer terms", formula);
	die("a propensity of 0 or 1 makes the AIPW weights infinite: trim such units "
	    "upstream (weight --trim), or fit a model that keeps them inside (0, 1)");
}

/* The prediction columns of outcome k: y1_hat and y0_hat for the first,
 * y1_hat.OUTCOME and y0_hat.OUTCOME for the others; their first index. */
static int
prediction_columns(stage_input *si, const aipw_params *o, const stage_outcomes *outs, int k)
{
	char name[2][512];
	int first = -1;

	if (k == 0)
		return stage_claim_columns(&aipw_module, o, &si->rows, &si->head->schema, NULL);
	snprintf(name[0], sizeof name[0], "y1_hat.%s", outs->names[k]);
	snprintf(name[1], sizeof name[1], "y0_hat.%s", outs->names[k]);
	for (int j = 0; j < 2; j++) {
		int c;

		if (table_find(&si->head->schema, name[j]) >= 0)
			die("the stream has a column '%s' already (did aipw run twice?)", name[j]);
		c = table_add_column(&si->rows, name[j], COL_F64, NULL, 0);
		table_add_column(&si->head->schema, name[j], COL_F64, NULL, 0);
		first = j == 0 ? c : first;
	}
	return first;
}

static void
aipw_run(const void *params, const stage_roles *roles, const cli_common *cli)
{
	aipw_params o = *(const aipw_params *)params;
	stage_input si;
	stage_arrays a;
	design d;
	double *X, *beta1, *beta0, *m1, *m0, *y;
	char *owned, why[512];
	const char *formula;
	outreg_estimates est;
	stage_outcomes outs;
	mpseq *results, **list;
	int p, nres = 0, first, rc, family_auto = o.family_auto;

	stage_open(&si, cli);
	stage_read_all(&si);
	stream_head_set_role(&si.head->treatment, roles->treatment);
	stream_head_set_role(&si.head->ps, roles->ps);
	stage_outcomes_get(&si, roles->outcome, &outs);
	stage_arrays_get(&si, NULL, NULL, NULL, 1, &a);
	formula = formula_of(&o, si.head, &owned);
	if (formula == NULL || formula[0] == '\0')
		die("no outcome model: name its terms with --formula (or -x at fitps)");
	if ((p = stage_spec_design(formula, &si.rows, "--formula", &d, &X, why, sizeof why)) < 0)
		die("%s", why);
	y = xreallocarray(NULL, a.n + 1, sizeof *y);
	if (family_auto)
		o.family = stage_binary(a.y, a.n) ? OUTREG_LOGISTIC : OUTREG_LINEAR;
	/* one family for every outcome: the recipe holds one, which boot refits */
	for (int k = 1; k < outs.n && family_auto; k++) {
		stage_finite(&si.rows.cols[outs.cols[k]], a.n, y, "outcome");
		if ((stage_binary(y, a.n) ? OUTREG_LOGISTIC : OUTREG_LINEAR) != o.family)
			die_usage("--family auto is %s for '%s' but not for '%s': give --family "
			    "(one for every outcome)", outreg_family_name(o.family), outs.names[0],
			    outs.names[k]);
	}
	results = xcalloc(4 * (size_t)outs.n, sizeof *results);
	list = xcalloc(4 * (size_t)outs.n + 1, sizeof *list);
	beta1 = xcalloc((size_t)p, sizeof *beta1);
	beta0 = xcalloc((size_t)p, sizeof *beta0);
	for (int k = 0; k < outs.n; k++) {
		first = prediction_columns(&si, &o, &outs, k);
		m1 = si.rows.cols[first].data;
		m0 = si.rows.cols[first + 1].data;
		if (k == 0)
			memcpy(y, a.y, a.n * sizeof *y);
		else
			stage_finite(&si.rows.cols[outs.cols[k]], a.n, y, "outcome");
		if ((rc = fit_and_estimate(o.family, X, a.n, p, a.t, y, a.ps, beta1, beta0, m1, m0,
		    &est)) != OUTREG_OK)
			die_status(rc, formula);
		if (k == 0) {
			aipw_params rec = o;

			rec.formula = formula;
			stage_add_recipe(&aipw_module, &rec, si.head);
		}
		if (o.ate)
			aipw_result(&results[nres++], "gcomp_ate", "ate", est.gcomp_ate, NAN, a.n, &o,
			    formula, &d, beta1, beta0, &outs, k);
		if (o.att)
			aipw_result(&results[nres++], "gcomp_att", "att", est.gcomp_att, NAN, a.n, &o,
			    formula, &d, beta1, beta0, &outs, k);
		if (o.ate)
			aipw_result(&results[nres++], "aipw_ate", "ate", est.aipw_ate, est.aipw_ate_se,
			    a.n, &o, formula, &d, beta1, beta0, &outs, k);
		if (o.att)
			aipw_result(&results[nres++], "aipw_att", "att", est.aipw_att, est.aipw_att_se,
			    a.n, &o, formula, &d, beta1, beta0, &outs, k);
	}
	for (int k = 0; k < nres; k++)
		list[k] = &results[k];
	stage_write(cli, si.head, &si.rows, &si.results, list, nres);
	for (int k = 0; k < nres; k++)
		mpseq_free(&results[k]);
	free(results), free(list), free(y);
	stage_outcomes_free(&outs);
	design_free(&d);
	free(X), free(beta1), free(beta0), free(owned);
	stage_arrays_free(&a);
	stage_input_free(&si);
}

static int
aipw_adds(const void *params, const char **names, int max)
{
	(void)params;
	if (max < 2)
		return 0;
	names[0] = "y1_hat";
	names[1] = "y0_hat";
	return 2;
}

/* The recipe entry, written and read side by side: the family as it was
 * resolved, so that a replay fits the same model. */
static void
aipw_recipe_write(const void *params, const stream_head *h, mpseq *entry)
{
	const aipw_params *o = params;
	mpseq list;

	mpseq_array(&list);
	if (o->ate)
		mpseq_str(&list, NULL, "ate");
	if (o->att)
		mpseq_str(&list, NULL, "att");
	mpseq_take(entry, "estimands", &list);
	mpseq_str(entry, "family", outreg_family_name(o->family));
	mpseq_str(entry, "formula", o->formula);
	recipe_write_roles(entry, h);
}

static int
aipw_recipe_read(void *params, const msgpack_object *e, char *why, size_t whylen)
{
	aipw_params *o = params;
	const msgpack_object *list = mpo_get(e, "estimands");
	char *family = NULL;

	memset(o, 0, sizeof *o);
	if (list == NULL || list->type != MSGPACK_OBJECT_ARRAY) {
		snprintf(why, whylen, "the recipe's aipw entry has no list of estimands");
		return -1;
	}
	for (uint32_t i = 0; i < list->via.array.size; i++) {
		if (mpo_is_str(&list->via.array.ptr[i], "ate"))
			o->ate = 1;
		else if (mpo_is_str(&list->via.array.ptr[i], "att"))
			o->att = 1;
		else {
			snprintf(why, whylen, "the recipe's aipw entry names an unknown estimand");
			return -1;
		}
	}
	if (recipe_get_str(e, "aipw", "family", &family, why, whylen) ||
	    recipe_get_str(e, "aipw", "formula", &o->formula_read, why, whylen)) {
		free(family);
		return -1;
	}
	if (!family || !cli_choice(family, "linear,logistic") || !o->formula_read) {
		snprintf(why, whylen, "the recipe's aipw entry has no family (linear or "
		    "logistic) or no formula");
		free(family);
		return -1;
	}
	o->family = strcmp(family, "logistic") == 0 ? OUTREG_LOGISTIC : OUTREG_LINEAR;
	o->formula = o->formula_read;
	free(family);
	return 0;
}

static void
aipw_params_free(void *params)
{
	aipw_params *o = params;

	free(o->formula_read);
	free(o->row_x);
	o->formula_read = NULL;
	o->row_x = NULL;
}

/* The options that make the entry again (cmdline.h). */
static int
aipw_command(const void *params, const void *defaults, cmdline *cmd)
{
	const aipw_params *o = params;

	(void)defaults;
	if (!(o->ate && o->att))
		cmdline_opt(cmd, "-e", o->ate ? "ate" : "att");
	cmdline_opt(cmd, "--family", outreg_family_name(o->family));
	cmdline_opt(cmd, "--formula", o->formula);
	return 0;
}

/* Replay: the four estimates on a replicate's units, computed once for
 * all (they share the fits). */
enum { TARGET_GCOMP_ATE, TARGET_GCOMP_ATT, TARGET_AIPW_ATE, TARGET_AIPW_ATT };

static int
aipw_target(const void *params, const char *name)
{
	const aipw_params *o = params;

	if (o->ate && strcmp(name, "gcomp_ate") == 0)
		return TARGET_GCOMP_ATE;
	if (o->att && strcmp(name, "gcomp_att") == 0)
		return TARGET_GCOMP_ATT;
	if (o->ate && strcmp(name, "aipw_ate") == 0)
		return TARGET_AIPW_ATE;
	if (o->att && strcmp(name, "aipw_att") == 0)
		return TARGET_AIPW_ATT;
	return -1;
}

typedef struct {
	uint64_t replicate;
	replicate_status status;
	outreg_estimates est;
} aipw_scratch;

static replicate_status
replicate_estimates(const aipw_params *o, replay_view *v, aipw_scratch *s)
{
	const replay_units *u = replay_view_units(v);
	size_t n = u->n;
	int p = o->p, rc;
	double *X = xreallocarray(NULL, n + 1, (size_t)p * sizeof *X);
	double *m1 = xreallocarray(NULL, n + 1, sizeof *m1);
	double *m0 = xreallocarray(NULL, n + 1, sizeof *m0);
	double *b1 = xcalloc((size_t)p, sizeof *b1), *b0 = xcalloc((size_t)p, sizeof *b0);

	for (int c = 0; c < p; c++)
		for (size_t i = 0; i < n; i++)
			X[(size_t)c * n + i] = o->row_x[(size_t)c * o->nrows + u->row[i]];
	rc = fit_and_estimate(o->family, X, n, p, u->t, u->y, u->ps, b1, b0, m1, m0, &s->est);
	free(X), free(m1), free(m0), free(b1), free(b0);
	return rc == OUTREG_OK ? REPLICATE_OK : rc == 1 ? REPLICATE_INFINITE_WEIGHT :
	    REPLICATE_OUTCOME_FAILED;
}

static replicate_status
aipw_estimate(const void *params, int target, replay_view *v, double *out)
{
	const aipw_params *o = params;
	aipw_scratch **sp = (aipw_scratch **)replay_view_scratch(v);

	if (*sp == NULL) {
		*sp = xcalloc(1, sizeof **sp);
		(*sp)->replicate = replay_view_replicate(v) - 1;
	}
	if ((*sp)->replicate != replay_view_replicate(v)) {
		(*sp)->status = replicate_estimates(o, v, *sp);
		(*sp)->replicate = replay_view_replicate(v);
	}
	if ((*sp)->status != REPLICATE_OK)
		return (*sp)->status;
	*out = target == TARGET_GCOMP_ATE ? (*sp)->est.gcomp_ate :
	    target == TARGET_GCOMP_ATT ? (*sp)->est.gcomp_att :
	    target == TARGET_AIPW_ATE ? (*sp)->est.aipw_ate : (*sp)->est.aipw_att;
	return REPLICATE_OK;
}

static int
aipw_reads(const void *params, const char *column)
{
	const aipw_params *o = params;

	return o->formula && spec_names_column(o->formula, column);
}

static int
aipw_prepare_rows(void *params, const table *rows, const uint8_t *inside, char *why,
    size_t whylen)
{
	aipw_params *o = params;
	design d;

	/* every row's terms: a replicate's fits take the rows inside its own
	 * support (replay_view_units) */
	(void)inside;
	o->nrows = rows->nrows;
	if ((o->p = stage_spec_design(o->formula, rows, "--formula", &d, &o->row_x, why, whylen)) < 0)
		return -1;
	design_free(&d);
	return 0;
}

static const replay_ops aipw_replay = {
	.target = aipw_target,
	.estimate = aipw_estimate,
	.scratch_free = free,
	.reads = aipw_reads,
	.prepare_rows = aipw_prepare_rows,
};

/* Options. */
enum { OPT_FAMILY = OPT_PROGRAM_BASE, OPT_FORMULA };

static const struct option aipw_longopts[] = {
	{ "estimand", required_argument, NULL, 'e' },
	{ "family", required_argument, NULL, OPT_FAMILY },
	{ "formula", required_argument, NULL, OPT_FORMULA },
	{ NULL, 0, NULL, 0 },
};

static const char aipw_usage[] =
    "usage: aipw [-e ate,att] [--family auto|linear|logistic] [--formula TERMS]\n"
    "            [-t COL] [-y COL] [--ps COL] [stream options]\n"
    "\n"
    "Doubly robust estimates. Fits a model of the outcome in each arm, then\n"
    "gives the regression (g-computation) estimate and the augmented IPW\n"
    "estimate (Robins, Rotnitzky & Zhao 1994; Glynn & Quinn 2010), which stays\n"
    "consistent if either the outcome model or the propensity model is right,\n"
    "with an influence-function standard error. Adds y1_hat and y0_hat, each\n"
    "unit's predicted outcome treated and untreated.\n"
    "\n"
    "  -e, --estimand LIST  ate, att or both (default ate,att): results\n"
    "                       gcomp_ate, aipw_ate, gcomp_att, aipw_att\n"
    "  --family F           the outcome model: auto (default: logistic for a 0/1\n"
    "                       outcome, else linear), linear or logistic\n"
    "  --formula TERMS      its terms, in fitps's -x syntax (a*b, a:b, levels);\n"
    "                       default the stream's covariates (fitps's -x)\n"
    "  -t, -y, --ps COL     override the treatment, outcome, propensity roles\n"
    "  -y A,B               several outcomes: the results for each, B's named NAME.B\n"
    "                       (the first stays the outcome role)\n"
    "\n" CLI_COMMON_HELP
    "\nexample:\n"
    "  gen --scenario misspecified | fitps -t opt_in_agent_mode -y task_completed \\\n"
    "      -x engagement_tier,query_confidence \\\n"
    "      | aipw --family linear --formula 'engagement_tier*query_confidence' | report\n";

static void
aipw_defaults(void *params)
{
	aipw_params *o = params;

	memset(o, 0, sizeof *o);
	o->ate = o->att = 1;
	o->family_auto = 1;
}

static void
aipw_option(void *params, int opt, const char *arg)
{
	aipw_params *o = params;

	switch (opt) {
	case 'e': {
		char *list = xstrdup(arg), *save = NULL;

		for (char *c = list; *c; c++) /* ATE as ate */
			*c = (char)tolower((unsigned char)*c);
		o->ate = o->att = 0;
		for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (strcmp(tok, "ate") == 0)
				o->ate = 1;
			else if (strcmp(tok, "att") == 0)
				o->att = 1;
			else
				die_usage("-e wants ate, att or both, not '%s'", tok);
		}
		free(list);
		if (!o->ate && !o->att)
			die_usage("-e names no estimand");
		break;
	}
	case OPT_FAMILY:
		if (!cli_choice(arg, "auto,linear,logistic"))
			die_usage("--family wants auto, linear or logistic, not '%s'", arg);
		o->family_auto = arg[0] == 'a';
		o->family = arg[1] == 'o' ? OUTREG_LOGISTIC : OUTREG_LINEAR;
		break;
	case OPT_FORMULA: o->formula = arg; break;
	}
}

const stage_module aipw_module = {
	.name = "aipw",
	.usage = aipw_usage,
	.shortopts = "e:",
	.longopts = aipw_longopts,
	.role_options = ROLE_TREATMENT | ROLE_OUTCOME | ROLE_PS,
	.params_size = sizeof(aipw_params),
	.defaults = aipw_defaults,
	.option = aipw_option,
	.recipe_write = aipw_recipe_write,
	.recipe_read = aipw_recipe_read,
	.params_free = aipw_params_free,
	.adds = aipw_adds,
	.run = aipw_run,
	.replay = &aipw_replay,
	.command = aipw_command,
};
