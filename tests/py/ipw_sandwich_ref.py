#!/usr/bin/python3
"""The M-estimation SE of Hajek IPW estimates, computed independently of
psflow's analytic derivatives: the stacked estimating equations (logit,
treated mean, controls' mean) differentiated numerically (central
differences), then A^-1 B A^-T.

usage: ipw_sandwich_ref.py ROWS.csv REPORT.json [CLUSTER_COL]
prints JSON {ipw_<estimand>: se}; a weight that is 0 in the stream while
its formula is not (trimmed) stays 0, as psflow holds it fixed.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import designref  # noqa: E402

FORMS = {  # (treated weight, control weight) of e
    "ate": (lambda e: 1 / e, lambda e: 1 / (1 - e)),
    "att": (lambda e: np.ones_like(e), lambda e: e / (1 - e)),
    "atc": (lambda e: (1 - e) / e, lambda e: np.ones_like(e)),
    "ato": (lambda e: 1 - e, lambda e: e),
}


def main():
    rows, numeric, cats = designref.load(sys.argv[1])
    report = json.load(open(sys.argv[2]))
    cluster = sys.argv[3] if len(sys.argv) > 3 else None
    roles = report["roles"]
    model = [r for r in report["results"] if r["name"] == "ps_model"][0]
    C = model["l2"] or 0
    terms = [t["term"] for t in model["terms"]]
    X = designref.matrix(numeric, cats, terms[1:], len(rows))
    beta = np.array([t["coef"] for t in model["terms"]])
    t = numeric[roles["treatment"]] == 1
    y = numeric[roles["outcome"]]
    n, p = X.shape
    D = np.ones(p)
    D[0] = 0
    out = {}
    for r in report["results"]:
        if r["stage"] != "weight" or not r["name"].startswith("ipw_"):
            continue
        est = r["estimand"]
        wstream = numeric[r["weight_column"]]
        f1, f0 = FORMS[est]
        if r.get("stabilized"):  # ATE weights times their group's share
            share = t.mean()
            f1 = (lambda g, s: lambda e: g(e) * s)(FORMS[est][0], share)
            f0 = (lambda g, s: lambda e: g(e) * s)(FORMS[est][1], 1 - share)
        e0 = 1 / (1 + np.exp(-X @ beta))
        formula0 = np.where(t, f1(e0), f0(e0))
        # trimmed or capped: held at the stream's value (e0 is the stream's ps to rounding)
        fixed = np.abs(wstream - formula0) > 1e-9 * np.abs(formula0)

        def psi(theta):
            b, m1, m0 = theta[:p], theta[p], theta[p + 1]
            e = 1 / (1 + np.exp(-X @ b))
            w = np.where(fixed, wstream, np.where(t, f1(e), f0(e)))
            g = (t - e)[:, None] * X - (D * b / C / n if C > 0 else 0)
            return np.column_stack([g, t * w * (y - m1), (~t) * w * (y - m0)])

        w = wstream
        theta = np.r_[beta, np.sum(t * w * y) / np.sum(t * w), np.sum(~t * w * y) / np.sum(~t * w)]
        q = p + 2
        A = np.zeros((q, q))
        for j in range(q):
            h = 1e-6 * max(1.0, abs(theta[j]))
            up, dn = theta.copy(), theta.copy()
            up[j] += h
            dn[j] -= h
            A[:, j] = -(psi(up).sum(0) - psi(dn).sum(0)) / (2 * h)
        P = psi(theta)
        if cluster:
            ids = [row[cluster] for row in rows]
            keys = {}
            U = []
            for i, k in enumerate(ids):
                if k not in keys:
                    keys[k] = len(U)
                    U.append(np.zeros(q))
                U[keys[k]] += P[i]
            U = np.array(U)
            G = len(U)
            B = U.T @ U * G / (G - 1)
        else:
            B = P.T @ P
        Ai = np.linalg.inv(A)
        V = Ai @ B @ Ai.T
        c = np.zeros(q)
        c[p], c[p + 1] = 1, -1
        out[r["name"]] = float(np.sqrt(c @ V @ c))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
