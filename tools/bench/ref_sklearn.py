#!/usr/bin/python3
"""The opt-in study the usual way: pandas and scikit-learn, the bootstrap a
Python loop that refits the propensity model each time. Debian's
python3-sklearn, -pandas, -numpy. Prints one JSON line: the estimates and
the 95% percentile intervals.

usage: ref_sklearn.py CSV [REPLICATES]"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors


def study(df):
    X = pd.get_dummies(df[["engagement_tier", "query_confidence"]],
                       columns=["engagement_tier"], drop_first=True).astype(float)
    t = df["opt_in_agent_mode"].to_numpy()
    y = df["task_completed"].to_numpy()
    model = LogisticRegression(C=1.0, max_iter=1000).fit(X, t)
    e = model.predict_proba(X)[:, 1]
    w_ate = np.where(t == 1, 1 / e, 1 / (1 - e))
    w_att = np.where(t == 1, 1.0, e / (1 - e))
    def hajek(w):
        return (np.sum(w * t * y) / np.sum(w * t)
                - np.sum(w * (1 - t) * y) / np.sum(w * (1 - t)))
    treated, control = np.where(t == 1)[0], np.where(t == 0)[0]
    nn = NearestNeighbors(n_neighbors=1).fit(e[control].reshape(-1, 1))
    _, idx = nn.kneighbors(e[treated].reshape(-1, 1))
    att_nn = np.mean(y[treated] - y[control[idx[:, 0]]])
    smd = {}
    for col in ("query_confidence",):
        x = df[col].to_numpy()
        sd = np.sqrt((x[t == 1].var() + x[t == 0].var()) / 2)
        smd[col] = (np.average(x[t == 1], weights=w_ate[t == 1])
                    - np.average(x[t == 0], weights=w_ate[t == 0])) / sd
    return {"ipw_ate": hajek(w_ate), "ipw_att": hajek(w_att), "match_att": att_nn,
            "smd_query_confidence_ate": smd["query_confidence"]}


def main():
    df = pd.read_csv(sys.argv[1])
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    point = study(df)
    rng = np.random.default_rng(42)
    boots = [study(df.iloc[rng.integers(0, len(df), len(df))].reset_index(drop=True))
             for _ in range(reps)]
    ci = {k: list(np.percentile([b[k] for b in boots], [2.5, 97.5])) for k in
          ("ipw_ate", "ipw_att", "match_att")}
    print(json.dumps({"point": point, "ci": ci}))


main()
