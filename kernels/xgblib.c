/* xgblib — XGBoost's C API, loaded when a program first boosts.
 *
 * As libzmq (transport/zmqlib.c): linking libxgboost would load it and its
 * C++ runtime into every program at start, though only fitps --learner gbm
 * and the replays of its models use it. So the functions psflow calls are
 * defined here with XGBoost's own prototypes (xgboost/c_api.h, Debian's
 * libxgboost-dev) and forward to the system's library (its soname from
 * pkg-config's libdir, at build time), opened on first use. A missing
 * library makes every call fail with -1 and XGBGetLastError() saying so:
 * the kernel reports it, nothing exits here. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include <xgboost/c_api.h>

#ifndef PSFLOW_XGB_SONAME
#error "PSFLOW_XGB_SONAME (libxgboost's soname) is set by the Makefile"
#endif

static struct {
	int ok;
	char why[512];
	const char *(*last_error)(void);
	int (*dmatrix_from_mat)(const float *, bst_ulong, bst_ulong, float, DMatrixHandle *);
	int (*dmatrix_free)(DMatrixHandle);
	int (*dmatrix_set_float)(DMatrixHandle, const char *, const float *, bst_ulong);
	int (*booster_create)(const DMatrixHandle[], bst_ulong, BoosterHandle *);
	int (*booster_free)(BoosterHandle);
	int (*booster_set_param)(BoosterHandle, const char *, const char *);
	int (*booster_update)(BoosterHandle, int, DMatrixHandle);
	int (*booster_predict)(BoosterHandle, DMatrixHandle, const char *, const bst_ulong **,
	    bst_ulong *, const float **);
	int (*booster_save)(BoosterHandle, const char *, bst_ulong *, const char **);
	int (*booster_load)(BoosterHandle, const void *, bst_ulong);
	int (*booster_rounds)(BoosterHandle, int *);
} x;

static pthread_once_t loaded = PTHREAD_ONCE_INIT;

/* Function pointers from dlsym: POSIX guarantees the conversion. */
#define BIND(field, name)                                                   \
	do {                                                                \
		if ((*(void **)&x.field = dlsym(lib, name)) == NULL) {      \
			snprintf(x.why, sizeof x.why, "%s has no %s: psflow " \
			    "needs XGBoost 1.7", PSFLOW_XGB_SONAME, name);    \
			return;                                             \
		}                                                           \
	} while (0)

static void
load(void)
{
	void *lib = dlopen(PSFLOW_XGB_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (lib == NULL) {
		snprintf(x.why, sizeof x.why, "boosting needs XGBoost (%s), which cannot be "
		    "loaded: %s (Debian: apt-get install libxgboost0)", PSFLOW_XGB_SONAME,
		    dlerror());
		return;
	}
	BIND(last_error, "XGBGetLastError");
	BIND(dmatrix_from_mat, "XGDMatrixCreateFromMat");
	BIND(dmatrix_free, "XGDMatrixFree");
	BIND(dmatrix_set_float, "XGDMatrixSetFloatInfo");
	BIND(booster_create, "XGBoosterCreate");
	BIND(booster_free, "XGBoosterFree");
	BIND(booster_set_param, "XGBoosterSetParam");
	BIND(booster_update, "XGBoosterUpdateOneIter");
	BIND(booster_predict, "XGBoosterPredictFromDMatrix");
	BIND(booster_save, "XGBoosterSaveModelToBuffer");
	BIND(booster_load, "XGBoosterLoadModelFromBuffer");
	BIND(booster_rounds, "XGBoosterBoostedRounds");
	x.ok = 1;
}

#define LIB_OR_FAIL                                                         \
	do {                                                                \
		pthread_once(&loaded, load);                                \
		if (!x.ok)                                                  \
			return -1;                                          \
	} while (0)

const char *
XGBGetLastError(void)
{
	pthread_once(&loaded, load);
	return x.ok ? x.last_error() : x.why;
}

int
XGDMatrixCreateFromMat(const float *data, bst_ulong nrow, bst_ulong ncol, float missing,
    DMatrixHandle *out)
{
	LIB_OR_FAIL;
	return x.dmatrix_from_mat(data, nrow, ncol, missing, out);
}

int
XGDMatrixFree(DMatrixHandle h)
{
	LIB_OR_FAIL;
	return x.dmatrix_free(h);
}

int
XGDMatrixSetFloatInfo(DMatrixHandle h, const char *field, const float *array, bst_ulong len)
{
	LIB_OR_FAIL;
	return x.dmatrix_set_float(h, field, array, len);
}

int
XGBoosterCreate(const DMatrixHandle dmats[], bst_ulong len, BoosterHandle *out)
{
	LIB_OR_FAIL;
	return x.booster_create(dmats, len, out);
}

int
XGBoosterFree(BoosterHandle h)
{
	LIB_OR_FAIL;
	return x.booster_free(h);
}

int
XGBoosterSetParam(BoosterHandle h, const char *name, const char *value)
{
	LIB_OR_FAIL;
	return x.booster_set_param(h, name, value);
}

int
XGBoosterUpdateOneIter(BoosterHandle h, int iter, DMatrixHandle train)
{
	LIB_OR_FAIL;
	return x.booster_update(h, iter, train);
}

int
XGBoosterPredictFromDMatrix(BoosterHandle h, DMatrixHandle dm, const char *config,
    const bst_ulong **shape, bst_ulong *dim, const float **result)
{
	LIB_OR_FAIL;
	return x.booster_predict(h, dm, config, shape, dim, result);
}

int
XGBoosterSaveModelToBuffer(BoosterHandle h, const char *config, bst_ulong *len,
    const char **out)
{
	LIB_OR_FAIL;
	return x.booster_save(h, config, len, out);
}

int
XGBoosterLoadModelFromBuffer(BoosterHandle h, const void *buf, bst_ulong len)
{
	LIB_OR_FAIL;
	return x.booster_load(h, buf, len);
}

int
XGBoosterBoostedRounds(BoosterHandle h, int *out)
{
	LIB_OR_FAIL;
	return x.booster_rounds(h, out);
}
