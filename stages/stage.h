/* stage — what most filters do around their kernel: read the whole stream,
 * check that the columns they need are there and of the right kind, keep
 * upstream results to pass on, and write the stream on with their additions.
 *
 * Ownership: a stage_input owns its reader, rows and the copies of upstream
 * results. */
#ifndef PSFLOW_STAGE_H
#define PSFLOW_STAGE_H

#include <stdio.h>

#include "cli.h"
#include "design.h"
#include "ipw.h"
#include "passing.h"
#include "pshist.h"
#include "stream.h"

typedef struct {
	mpraw *items;
	int n;
} rawlist;

void rawlist_add(rawlist *l, const mpraw *raw); /* copies */
void rawlist_free(rawlist *l);

typedef struct {
	stream_in *in;
	stream_head *head;
	table rows;      /* every row of the input, when read_all was called */
	passing *apart; /* the columns stage_read_all_holding keeps apart, or NULL */
	rawlist results; /* upstream results, to pass on */
	/* the output stage_stream opened, kept here (in the caller's frame) so
	 * that it stays reachable when a check after the stream dies: leak
	 * checkers then see it, whatever the compiler kept in registers */
	stream_out *out;
} stage_input;

/* Opens the input and reads the head. */
void stage_open(stage_input *si, const cli_common *cli);
/* The -t a stage was given (stage_main says, before run): a text treatment
 * `COL=LEVEL` that is not a column yet is made one at stage_open, a bool
 * column of that name which the stream carries on. */
void stage_note_treatment_option(const char *treatment);
/* The common support (the head's support role: a bool column, 0 outside):
 * stage_main says whether the stage sees every row (all_rows: fitps, boot)
 * or, as the others, only the rows inside. Those see the rows inside
 * numbered among themselves (stage_read_all, stage_stream,
 * stage_read_all_passing keep only them; stage_row names a row by its
 * place in the stream), and stage_write and stage_stream put the rows
 * outside back in their places: the columns the stage added are 0 there
 * for weights (w_*) and bools, missing otherwise. */
void stage_note_support(int all_rows);
/* The column a rule makes (fitps --common-support, weight --trim). */
#define STAGE_SUPPORT_COLUMN "in_support"
/* The rows left out so far as outside the support. */
size_t stage_outside_support(void);
/* Does this stage see only the rows inside a support (the stream has one,
 * and the stage is not all_rows)? */
int stage_inside_only(void);
/* A row as the stage numbers it, as the stream does (from 0). */
size_t stage_stream_row(size_t row);

/* --dropped FILE: the rows a stage leaves out (missing values, outside the
 * common support, trimmed, unmatched), one CSV line each: row (the stream's,
 * from 0), line (the CSV line, when the stream came from one), the
 * --dropped-id column's value when given, reason. */
typedef struct {
	FILE *f;
	const char *path;
	int idc;
	size_t count;
	int64_t first_line; /* the source's lines, as when it was opened */
	int lines;
} stage_dropped;

/* Opens path (NULL: d lists nothing) with id_col from schema (NULL:
 * none); dies when it cannot. */
void stage_dropped_open(stage_dropped *d, const char *path, const char *id_col,
    const table *schema);
/* Row r of rows, at stream row stream_row. */
void stage_dropped_row(stage_dropped *d, const table *rows, size_t r, size_t stream_row,
    const char *reason);
/* Dies when the file could not be written whole. */
void stage_dropped_close(stage_dropped *d);
/* A stream row as messages name it: "row 8, line 10 of users.csv" when the
 * stream came from csv2mp with one line per row and no stage dropped rows
 * since (the head's meta says so), else "row 8, counting from 0". One of
 * four static buffers: valid for a message or two. */
const char *stage_row(size_t row);
/* What stage_row knows of the source: set from the head (stage_open does). */
void stage_note_source(const stream_head *h);
/* A stage that drops rows: later stages cannot name CSV lines any more
 * (the head's "csv" source is taken out of its meta). */
void stage_rows_renumbered(stream_head *h);
/* Reads every row and result up to the end. */
void stage_read_all(stage_input *si);
/* The same, for a stage that adds nothing to the rows: writes si->head with
 * the stage's recipe entry (si->head itself is left as it came), then each
 * batch on as it is read, so that the next stage has the rows while this
 * one works. si->rows keeps the columns keep() accepts (keep NULL: all).
 * Returns the output, still open for the results (upstream's are kept in
 * si->results) and the end. */
stream_out *stage_read_all_passing(stage_input *si, const cli_common *cli,
    const mpseq *recipe, int (*keep)(const char *column, void *ctx), void *ctx);
/* Where stage_read_all_holding puts the columns it passes on. */
typedef struct {
	size_t memory_bytes; /* held in memory up to this; then a temporary file */
	const char *dir;     /* the file's directory (NULL: $TMPDIR, else /tmp) */
} stage_spill_opts;
/* stage_read_all for a stage that holds every row but reads few of the
 * columns (match): si->rows holds only the input columns hold() accepts
 * (STAGE_HOLD, or STAGE_HOLD_ONCE: read once, then given back with
 * stage_release_column, the column being kept apart too) and the common
 * support's; the others (STAGE_PASS) are kept apart in the stream's
 * order, in memory while they take up to o->memory_bytes and past that in
 * an unlinked temporary file in o->dir, as sort(1) spills its runs (at a
 * hundred million rows the columns a stage passes on unread are gigabytes
 * of its peak). stage_write_held puts them back in their places. Dies
 * when the file cannot be made or written, naming its directory. */
enum { STAGE_PASS, STAGE_HOLD, STAGE_HOLD_ONCE };
void stage_read_all_holding(stage_input *si, int (*hold)(const char *column, void *ctx),
    void *ctx, const stage_spill_opts *o);
/* Gives back the values of a STAGE_HOLD_ONCE column of si->rows (the
 * writer takes it from the columns kept apart); dies on another. si->rows
 * may gain columns after, but no rows. */
void stage_release_column(stage_input *si, const char *name);
void stage_input_free(stage_input *si);

/* Streaming: writes `head`, then for each batch calls fn (si->rows holds
 * that batch only, with any columns the stage added after the input's) and
 * writes the batch on; upstream results are passed on as they come. Returns
 * after the input's end, with the output still open for the stage's own
 * results and end. */
typedef void (*stage_batch_fn)(table *rows, void *ctx);
stream_out *stage_stream(stage_input *si, const cli_common *cli,
    const stream_head *head, stage_batch_fn fn, void *ctx);

/* Column contracts. Each dies with a message that names the column, the
 * role it plays, the option that sets it and the columns that do exist. */
int stage_column(const table *schema, const char *name, const char *role,
    const char *option);
int stage_numeric_column(const table *schema, const char *name, const char *role,
    const char *option);
/* A role that must be set: dies naming the option that sets it. */
const char *stage_role(const char *value, const char *role, const char *option);
/* Dies (usage) when two roles name one column: -t and -y alike give an
 * "effect" of exactly 1 with SE 0; a treatment or outcome among the
 * covariates makes the model predict it from itself. */
void stage_check_roles(const stream_head *h);

/* The treatment column as 0/1 bytes. Dies on a value that is not 0 or 1
 * (naming it and its row), on missing values, and when either group is
 * empty. */
void stage_treatment(const column *c, size_t n, uint8_t *t);
/* A numeric column as doubles; dies on missing/NaN/Inf values, saying how
 * many rows have them and the first one. */
void stage_finite(const column *c, size_t n, double *out, const char *role);

/* The messages of the checks above, for stages that check a batch at a
 * time and report at the end (row numbers count from the stream's start). */
_Noreturn void stage_die_treatment_value(const char *name, size_t row, double v);
_Noreturn void stage_die_groups(const char *name, size_t n, size_t treated);
_Noreturn void stage_die_nonfinite(const char *role, const char *name, size_t count,
    size_t first);
_Noreturn void stage_die_ps_range(const char *name, size_t row, double v);

/* The same checks a batch at a time, for streaming stages: a problem is
 * noted (its first row, a count) and the stage dies of it at the end with
 * the message above, so that it reports what the held-rows checks would.
 * treatment_check counts the rows it has seen: its `rows` is the next
 * batch's first row in the stream. */
typedef struct {
	size_t rows, treated;
	size_t bad_row; /* SIZE_MAX: none */
	double bad_value;
} treatment_check;
typedef struct {
	size_t bad, first;
	size_t huge, huge_first; /* values past STAGE_MAX_MAGNITUDE */
	double huge_value;
} finite_check;

/* The largest magnitude a value may have: sums of squares of a hundred
 * million such values (variances, sandwich SEs) stay finite, where 1e154
 * made an SE of exactly 0 and 1e307 every estimate NaN. */
#define STAGE_MAX_MAGNITUDE 1e100

void treatment_check_init(treatment_check *c);
/* t[r]: the batch's treatment column as 0/1 (a bad value as 0); scratch
 * holds n doubles. Returns nonzero once any value was bad. */
int treatment_check_batch(treatment_check *c, const column *col, size_t n,
    double *scratch, uint8_t *t);
/* Dies as stage_treatment would, after the last batch. */
void treatment_check_end(const treatment_check *c, const char *name);
/* Notes missing, NaN and infinite values among x[0..n), the batch starting
 * at stream row row0, and values past STAGE_MAX_MAGNITUDE. Returns nonzero
 * once any was. */
int finite_check_batch(finite_check *c, const double *x, size_t n, size_t row0);
void finite_check_end(const finite_check *c, const char *role, const char *name);

/* The propensity column as doubles; dies on a missing value or one outside
 * [0, 1], naming the row. */
void stage_ps(const column *c, size_t n, double *out);

/* Several outcomes in one flow (weight, match, aipw -y a,b): the outcomes
 * a stage estimates for, from -y's comma-separated list or the head's
 * outcome role; the first is the role from then on (the later stages' and
 * the columns' default). Each must be a numeric column, named once, and
 * neither the treatment nor the propensity. Results for the first keep
 * their names; those for the others are NAME.OUTCOME; with several, every
 * result has "outcome". The list is the stage's (recipe_write_roles writes
 * it as "outcomes"). */
typedef struct {
	char **names;
	int *cols;  /* in si->rows */
	int n;
} stage_outcomes;

/* Sets the head's outcome role to the first (option NULL: keeps the
 * head's); dies (usage) on a bad list. Call after stage_open, before
 * stage_check_roles; the columns are looked up in si->rows. */
void stage_outcomes_get(stage_input *si, const char *option, stage_outcomes *o);
void stage_outcomes_free(stage_outcomes *o);
/* The stage's outcomes so far (for recipe_write_roles): NULL before. */
const stage_outcomes *stage_outcomes_current(void);

/* The outcomes a stream's estimates are for: role (the outcome role,
 * first; NULL: none) and every recipe entry's "outcomes", in order, each
 * once (free with stage_outcome_list_free). */
typedef struct {
	char **names;
	int n;
} stage_outcome_list;
void stage_recipe_outcomes(const stream_head *h, const char *role, stage_outcome_list *l);
void stage_outcome_list_free(stage_outcome_list *l);
int stage_outcome_list_has(const stage_outcome_list *l, const char *column);

/* A result for outcome k of o (o NULL: one outcome): result_begin with
 * the name as above, and "outcome" when there are several. */
void stage_result_begin(mpseq *m, const char *stage, const char *name,
    const stage_outcomes *o, int k);

/* The arrays most estimators need, from the roles in the head (each may be
 * overridden by an option; NULL keeps the head's). Dies naming whatever is
 * missing or malformed. Free with stage_arrays_free. ps is the propensity
 * column's own data when that is stored as doubles (checked, not copied:
 * ten million rows save 80 MB), so it lives as long as the input's rows;
 * else a copy, owned here (ps_copy). */
typedef struct {
	size_t n;
	uint8_t *t;
	double *y;
	const double *ps;
	double *ps_copy;
} stage_arrays;
void stage_arrays_get(stage_input *si, const char *treatment, const char *outcome,
    const char *ps, int need_ps, stage_arrays *a);
void stage_arrays_free(stage_arrays *a);

/* The positivity check's band by default: [0.05, 0.95]. */
#define POSITIVITY_LO 0.05
#define POSITIVITY_HI 0.95
/* A positivity warning is given past this share of either group outside
 * the band. */
#define POSITIVITY_WARN 0.02
/* An effective-sample-size warning is given below this share of a group. */
#define ESS_WARN 0.2

/* Adds "positivity" to a result: the band, each group's share outside it,
 * and whether either share passes POSITIVITY_WARN. */
void stage_positivity(mpseq *result, const ipw_positivity *p);
/* The warning on stderr (unless quiet) when either share passes
 * POSITIVITY_WARN, naming the shares and what to do. */
void stage_positivity_warn(const ipw_positivity *p, int quiet);

/* The head's covariates as one comma-separated -x spec (allocated), or
 * NULL when it has none. */
char *stage_covariate_spec(const stream_head *h);
/* Does the spec (fitps's -x syntax: items a, a:b, a*b, comma-separated)
 * name the column? */
int spec_names_column(const char *spec, const char *column);

/* The model matrix of a spec (fitps's -x syntax) for the rows: n x p,
 * column-major, column 0 the intercept, into a new *X, and its terms into
 * *d (design_free it; d NULL: not wanted). origin names where the spec came
 * from. Returns p, or -1 with why. */
int stage_spec_design(const char *spec, const table *rows, const char *origin, design *d,
    double **X, char *why, size_t whylen);
/* The logistic propensity model the stream's ps came from: the recipe's
 * last fitps entry, when it fitted (not boosted, not scored) the column
 * named ps. Returns 0 with its design against schema in d (design_free
 * it) and its penalty in *C (0: none), or -1 with *why_not saying why
 * there is none. */
int stage_ps_model(const stream_head *h, const char *ps, const table *schema, design *d,
    double *C, const char **why_not);
/* The covariates spec of the recipe's last fitps entry (the columns
 * stage_ps_model reads), a copy to free, or NULL. */
char *stage_ps_model_spec(const stream_head *h);
/* fitps's recipe key "missing_fills" ({column: fill, nil for a category})
 * into f (design_fills_free it), *present set to whether the key is
 * there. Returns 0, or -1 with why. */
int stage_recipe_fills(const msgpack_object *e, const char *stage, design_fills *f,
    int *present, char *why, size_t whylen);
/* A design's model matrix built a block of rows at a time, for a kernel
 * that takes its covariates so (row_block_fn, rowblock.h): stage_design_block(ctx,
 * first, count, X) with ctx a stage_design_blocks fills X (count x p,
 * column-major) from rows [first, first + count); on a problem it returns
 * non-zero with it in why. Borrows d and rows. */
typedef struct {
	const design *d;
	const table *rows;
	char why[512];     /* the first problem */
	_Atomic int taken; /* why is written (a kernel's threads may fail at once) */
} stage_design_blocks;
int stage_design_block(void *ctx, size_t first, size_t count, double *X);
/* Are the n values all 0 or 1? */
int stage_binary(const double *y, size_t n);

/* Adds "ps_hist" to a result: the propensity's bins by group (PROTOCOL.md:
 * bins, first, treated, control; the occupied bins only), for report's
 * overlap plot. Nothing is added when every bin is empty. */
void stage_ps_hist(mpseq *result, const pshist *h);

/* Writes head (with this stage's recipe entry already added), then rows,
 * upstream results, then the given results (NULL-terminated), then end. */
void stage_write(const cli_common *cli, const stream_head *head, const table *rows,
    const rawlist *upstream, mpseq *const *results, int nresults);

/* stage_write in two halves, for a stage with work left once its columns
 * are final: stage_write_rows writes the head and starts the rows in a
 * thread of their own, and the stage finishes its results meanwhile
 * (results follow the rows in a stream, PROTOCOL.md); stage_write_results
 * waits for the rows, then writes the rest and frees the writer. The same
 * bytes as stage_write. Between the halves the head, the rows and the
 * stage's common support are read by that thread: nothing may change them.
 * A die() between them still tells the next stage why, between two whole
 * messages (the stream's frame lock, stream.c). */
typedef struct stage_writer stage_writer;
stage_writer *stage_write_rows(const cli_common *cli, const stream_head *head,
    const table *rows);
/* The same for the rows stage_read_all_holding read: head's columns in
 * head's order, each from the columns kept apart or else from si->rows
 * (those held and those the stage added). */
stage_writer *stage_write_held(const cli_common *cli, const stream_head *head,
    const stage_input *si);
void stage_write_results(stage_writer *w, const rawlist *upstream, mpseq *const *results,
    int nresults);

#endif
