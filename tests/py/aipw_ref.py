#!/usr/bin/python3
"""AIPW and g-computation computed independently of psflow: the outcome
model of each arm fitted by statsmodels (GLM binomial or OLS), the
estimates and influence-function SEs by numpy from outreg.h's formulas.

usage: aipw_ref.py ROWS.csv REPORT.json
ROWS.csv is the flow's rows (mp2csv), REPORT.json its report --json; the
design is rebuilt from the term names of the aipw result (col, col_LEVEL,
products a:b). Prints JSON: {name: [estimate, se or null]}, and the
coefficients' largest difference from psflow's as "coef_diff".
"""
import json
import os
import sys

import numpy as np
import statsmodels.api as sm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import designref  # noqa: E402


def main():
    rows, numeric, cats = designref.load(sys.argv[1])
    report = json.load(open(sys.argv[2]))
    roles = report["roles"]
    res = {r["name"]: r for r in report["results"] if r["stage"] == "aipw"}
    first = next(iter(res.values()))
    terms = [t["term"] for t in first["model_treated"]][1:]
    X = designref.matrix(numeric, cats, terms, len(rows))
    t = numeric[roles["treatment"]] == 1
    y = numeric[roles["outcome"]]
    e = numeric[roles["ps"]]
    fam = first["outcome_model"]
    betas = {}
    m = {}
    for arm, sel in ((1, t), (0, ~t)):
        if fam == "logistic":
            fit = sm.GLM(y[sel], X[sel], family=sm.families.Binomial()).fit(tol=1e-13, maxiter=200)
        else:
            fit = sm.OLS(y[sel], X[sel]).fit()
        betas[arm] = fit.params
        m[arm] = fit.predict(X)
    m1, m0 = m[1], m[0]
    n, n1 = len(y), t.sum()
    out = {"gcomp_ate": [np.mean(m1 - m0), None], "gcomp_att": [np.mean((m1 - m0)[t]), None]}
    a = m1 - m0 + t * (y - m1) / e - (~t) * (y - m0) / (1 - e)
    ate = a.mean()
    out["aipw_ate"] = [ate, np.sqrt(((a - ate) ** 2).sum()) / n]
    w = e / (1 - e)
    at = (y - m0)[t].mean()
    delta = (w * (y - m0))[~t].sum() / w[~t].sum()
    phi = np.where(t, (y - m0 - at) / (n1 / n), -w * (y - m0 - delta) / (w[~t].sum() / n))
    out["aipw_att"] = [at - delta, np.sqrt((phi ** 2).sum()) / n]
    diff = 0
    for arm, key in ((1, "model_treated"), (0, "model_control")):
        got = np.array([c["coef"] for c in first[key]])
        diff = max(diff, float(np.max(np.abs(got - betas[arm]) / np.maximum(1, np.abs(betas[arm])))))
    out = {k: [float(v[0]), None if v[1] is None else float(v[1])] for k, v in out.items()}
    out["coef_diff"] = diff
    print(json.dumps(out))


if __name__ == "__main__":
    main()
