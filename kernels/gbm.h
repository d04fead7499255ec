/* gbm — boosted propensity models: XGBoost's gradient boosting of the
 * treatment on the covariates (its C API, kernels/xgblib.c), with the
 * number of trees chosen for balance as twang does.
 *
 * The model is fitted on the distinct covariate rows, each with its units
 * and treated units (a row of u units, s treated, is two weighted rows:
 * label 1 weight s, label 0 weight u - s), in one canonical order (by
 * covariate values), single-threaded, with the exact greedy split search:
 * so the fit is the same bits whoever calls it (fitps on the rows, boot on
 * a resample's groups) and in any thread, and equals XGBoost's on the
 * units one by one up to the rounding of the weighted sums. Row
 * subsampling (subsample < 1) samples distinct rows, not units.
 *
 * Choosing the trees (twang's stop.method): after each tree k the
 * propensities give weights (ATE: t/e + (1-t)/(1-e); ATT: t + (1-t)
 * e/(1-e)) and, over the covariates' design columns, the weighted
 * standardised mean differences (SD of the raw groups: pooled for the ATE,
 * the treated's for the ATT; sample variances, p(1-p) for 0/1 columns)
 * and Kolmogorov-Smirnov distances; es.mean takes the k with the smallest
 * mean |SMD|, ks.max the smallest largest KS (the first such k).
 *
 * Ownership: a gbm_model owns its booster (gbm_model_free); arrays are the
 * caller's. Nothing here exits: failures return -1 with why. (rule:
 * base/README.md) */
#ifndef PSFLOW_GBM_H
#define PSFLOW_GBM_H

#include <stddef.h>
#include <stdint.h>

typedef enum { GBM_STOP_NONE, GBM_STOP_ES_MEAN, GBM_STOP_KS_MAX } gbm_stop;

const char *gbm_stop_name(gbm_stop s);
int gbm_stop_parse(const char *name, gbm_stop *s); /* 0, or -1 unknown */

typedef struct {
	int trees;        /* boosting rounds: all (stop none) or the most tried */
	int depth;        /* max_depth */
	double eta;       /* learning rate */
	double subsample; /* rows sampled per tree */
	uint64_t seed;
	gbm_stop stop;
	int stop_att;     /* the balance criterion's weights: ATT (1) or ATE (0) */
} gbm_opts;

void gbm_opts_default(gbm_opts *o); /* 500, 3, 0.1, 1, 0, es.mean, ATE */

typedef struct {
	void *booster;
	int trees; /* the trees predictions use */
} gbm_model;

/* Fits on n distinct rows: X column-major (n x p, column 0 the intercept,
 * not used), units[i] and treated[i] per row (rows of no units are left
 * out). ps (n) receives the propensities at the trees used; curve (o->trees
 * doubles, or NULL) the criterion after each tree when o->stop chooses;
 * *criterion its value at the choice (NaN with stop none). */
int gbm_fit(const gbm_opts *o, const double *X, size_t n, int p, const double *units,
    const double *treated, gbm_model *m, double *ps, double *curve, double *criterion,
    char *why, size_t whylen);
/* The model's propensities of n rows (X as above). */
int gbm_predict(const gbm_model *m, const double *X, size_t n, int p, double *ps, char *why,
    size_t whylen);
/* XGBoost's own model (UBJSON) into a new *bytes (free it), and back, with
 * the number of trees to predict with. */
int gbm_save(const gbm_model *m, char **bytes, size_t *len, char *why, size_t whylen);
int gbm_load(gbm_model *m, const void *bytes, size_t len, int trees, char *why, size_t whylen);
void gbm_model_free(gbm_model *m);

#endif
