#!/usr/bin/python3
"""fitps --learner gbm against python3-xgboost with the same parameters.

usage: xgb_ref.py ROWS.csv REPORT.json [--grouped]
Rebuilds the design columns the ps_model result names (col, col_LEVEL,
products a:b) from the rows, trains xgboost.train on the units one by one
(or, with --grouped, on the distinct covariate rows weighted by their
treated and control counts, as psflow does) for the result's number of
trees, and prints the largest |ps - xgboost's| over the rows as JSON.
"""
import json
import os
import sys

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import designref  # noqa: E402


def main():
    rows, numeric, cats = designref.load(sys.argv[1])
    report = json.load(open(sys.argv[2]))
    m = [r for r in report["results"] if r["name"] == "ps_model"][0]
    X = designref.matrix(numeric, cats, m["features"], len(rows), intercept=False).astype(np.float32)
    t = numeric[report["roles"]["treatment"]]
    params = {"objective": "binary:logistic", "tree_method": "exact", "nthread": 1,
              "base_score": 0.5, "max_depth": m["depth"], "eta": m["eta"],
              "subsample": m["subsample"], "seed": m["seed"], "verbosity": 0}
    if "--grouped" in sys.argv:
        keys, inverse = np.unique(X, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        units = np.bincount(inverse, minlength=len(keys)).astype(float)
        treated = np.bincount(inverse, weights=t, minlength=len(keys))
        Xg = np.vstack([keys, keys])
        label = np.r_[np.ones(len(keys)), np.zeros(len(keys))]
        weight = np.r_[treated, units - treated]
        keep = weight > 0
        d = xgb.DMatrix(Xg[keep], label=label[keep], weight=weight[keep])
    else:
        d = xgb.DMatrix(X, label=t)
    booster = xgb.train(params, d, num_boost_round=m["trees"])
    pred = booster.predict(xgb.DMatrix(X))
    ps = numeric[report["roles"]["ps"]]
    print(json.dumps({"max_diff": float(np.max(np.abs(ps - pred))), "trees": m["trees"]}))


if __name__ == "__main__":
    main()
