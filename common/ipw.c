#include "ipw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "quantile.h"

static const char *names[EST_COUNT] = { "ate", "att", "atc", "ato" };

const char *
estimand_name(estimand e)
{
	return names[e];
}

int
estimand_parse(const char *name, estimand *e)
{
	for (int i = 0; i < EST_COUNT; i++)
		if (strcmp(name, names[i]) == 0) {
			*e = (estimand)i;
			return 0;
		}
	return -1;
}

double
ipw_weight(estimand e, int treated, double ps)
{
	switch (e) {
	case EST_ATE:
		return treated ? 1 / ps : 1 / (1 - ps);
	case EST_ATT:
		return treated ? 1 : ps / (1 - ps);
	case EST_ATC:
		return treated ? (1 - ps) / ps : 1;
	case EST_ATO:
		return treated ? 1 - ps : ps;
	case EST_COUNT:
		break;
	}
	return NAN;
}

int
ipw_effect(const double *w, const uint8_t *t, const double *y, size_t n,
    ipw_summary *s)
{
	double sum_wy[2] = { 0, 0 }, sum_w2[2] = { 0, 0 }, var[2] = { 0, 0 };

	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < n; i++) {
		int g = t[i];

		s->n[g]++;
		s->sum_w[g] += w[i];
		sum_wy[g] += w[i] * y[i];
		sum_w2[g] += w[i] * w[i];
		s->max_w[g] = fmax(s->max_w[g], w[i]);
		s->zero_w[g] += w[i] == 0;
	}
	for (int g = 0; g < 2; g++) {
		s->mean[g] = s->sum_w[g] > 0 ? sum_wy[g] / s->sum_w[g] : NAN;
		s->ess[g] = sum_w2[g] > 0 ? s->sum_w[g] * s->sum_w[g] / sum_w2[g] : 0;
	}
	s->estimate = s->mean[1] - s->mean[0];
	if (!(s->sum_w[0] > 0 && s->sum_w[1] > 0)) {
		s->se = NAN;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		double r = y[i] - s->mean[t[i]];

		var[t[i]] += w[i] * w[i] * r * r;
	}
	s->se = sqrt(var[0] / (s->sum_w[0] * s->sum_w[0]) +
	    var[1] / (s->sum_w[1] * s->sum_w[1]));
	return 0;
}

size_t
ipw_truncate(double *w, const uint8_t *t, size_t n, double q)
{
	double *v = xmalloc((n ? n : 1) * sizeof *v);
	size_t capped = 0;

	for (int g = 0; g < 2; g++) {
		size_t m = 0;
		double cap;

		for (size_t i = 0; i < n; i++)
			if (t[i] == g && w[i] > 0)
				v[m++] = w[i];
		if (m == 0)
			continue;
		sort_doubles(v, m);
		cap = quantile_sorted(v, m, q);
		for (size_t i = 0; i < n; i++)
			if (t[i] == g && w[i] > cap) {
				w[i] = cap;
				capped++;
			}
	}
	free(v);
	return capped;
}
