#!/usr/bin/python3
"""The opt-in study as a Python user would write it fast: vectorised numpy,
exact Newton fits of the scikit-learn objective (C = 1), 1-NN matching with
every tied control averaged (psflow's --ties all), the bootstrap a Python
loop. Debian's python3-numpy. Prints one JSON line like ref_sklearn.py.

usage: ref_numpy.py CSV [REPLICATES] [--realistic] [--time]

--realistic reads gen --scenario realistic's columns (the tier's dummies and
the three continuous covariates) and fits the unpenalised MLE, as the
bench's realistic flow does; --time prints the seconds of the load, the
full-data study and each replicate instead of the intervals (the bench
times a few replicates and scales them to its -B)."""
import csv
import json
import sys
import time

import numpy as np


def load(path, realistic=False):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    tier = np.array([r["engagement_tier"] for r in rows])
    if realistic:
        num = [np.array([float(r[k]) for r in rows]) for k in
               ("past_engagement_score", "account_age_months", "feature_usage_count")]
        X = np.column_stack([np.ones(len(rows)), tier == "light", tier == "medium"] + num).astype(float)
    else:
        qc = np.array([float(r["query_confidence"]) for r in rows])
        X = np.column_stack([np.ones(len(rows)), qc, tier == "light", tier == "medium"]).astype(float)
    t = np.array([int(r["opt_in_agent_mode"]) for r in rows])
    y = np.array([int(r["task_completed"]) for r in rows], dtype=float)
    return X, t, y


def fit(X, t, C=1.0):
    b = np.zeros(X.shape[1])
    pen = np.full(X.shape[1], 0.0 if C is None else 1 / C)
    pen[0] = 0
    for _ in range(100):
        p = 1 / (1 + np.exp(-X @ b))
        g = X.T @ (t - p) - pen * b
        H = (X * (p * (1 - p))[:, None]).T @ X + np.diag(pen)
        step = np.linalg.solve(H, g)
        b += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return 1 / (1 + np.exp(-X @ b))


def study(X, t, y, C=1.0):
    e = fit(X, t, C)
    def hajek(w):
        return (np.sum(w * t * y) / np.sum(w * t)
                - np.sum(w * (1 - t) * y) / np.sum(w * (1 - t)))
    ate = hajek(np.where(t == 1, 1 / e, 1 / (1 - e)))
    att = hajek(np.where(t == 1, 1.0, e / (1 - e)))
    # 1-NN with all tied controls averaged: sort controls, search both sides
    ec, yc = e[t == 0], y[t == 0]
    order = np.argsort(ec, kind="stable")
    ec, yc = ec[order], yc[order]
    csum = np.concatenate([[0], np.cumsum(yc)])
    et, yt = e[t == 1], y[t == 1]
    pos = np.searchsorted(ec, et)
    left = np.clip(pos - 1, 0, len(ec) - 1)
    right = np.clip(pos, 0, len(ec) - 1)
    dl = np.where(pos > 0, et - ec[left], np.inf)
    dr = np.where(pos < len(ec), ec[right] - et, np.inf)
    d = np.minimum(dl, dr)
    # all controls at exactly distance d on either side
    lo_val = np.where(dl == d, ec[left], np.nan)
    hi_val = np.where(dr == d, ec[right], np.nan)
    lo = np.where(np.isnan(lo_val), pos, np.searchsorted(ec, np.nan_to_num(lo_val), "left"))
    lo_end = np.where(np.isnan(lo_val), pos, np.searchsorted(ec, np.nan_to_num(lo_val), "right"))
    hi = np.where(np.isnan(hi_val), pos, np.searchsorted(ec, np.nan_to_num(hi_val), "left"))
    hi_end = np.where(np.isnan(hi_val), pos, np.searchsorted(ec, np.nan_to_num(hi_val), "right"))
    same = (lo == hi) & (lo_end == hi_end)  # d == 0: one tie block
    total = (csum[lo_end] - csum[lo]) + np.where(same, 0, csum[hi_end] - csum[hi])
    count = (lo_end - lo) + np.where(same, 0, hi_end - hi)
    match = np.mean(yt - total / count)
    return {"ipw_ate": ate, "ipw_att": att, "match_att": match}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    realistic, timing = "--realistic" in sys.argv, "--time" in sys.argv
    C = None if realistic else 1.0
    start = time.perf_counter()
    X, t, y = load(args[0], realistic)
    loaded = time.perf_counter()
    reps = int(args[1]) if len(args) > 1 else 500
    point = study(X, t, y, C)
    pointed = time.perf_counter()
    rng = np.random.default_rng(42)
    n = len(t)
    boots = []
    for _ in range(reps):
        i = rng.integers(0, n, n)
        boots.append(study(X[i], t[i], y[i], C))
    done = time.perf_counter()
    if timing:
        print(json.dumps({"point": point, "load_s": loaded - start, "point_s": pointed - loaded,
                          "replicates": reps, "per_replicate_s": (done - pointed) / reps}))
        return
    ci = {k: list(np.percentile([b[k] for b in boots], [2.5, 97.5])) for k in point}
    print(json.dumps({"point": point, "ci": ci}))


if __name__ == "__main__":
    main()
