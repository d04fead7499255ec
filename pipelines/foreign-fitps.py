#!/usr/bin/python3
"""foreign-fitps: a propensity stage written in Python, to show that any
stage of a psflow flow can be swapped for one in another language.

It reads a psflow stream (Debian's python3-msgpack), fits a gradient-boosting
classifier (python3-sklearn) of the treatment on the covariates named in the
head's roles (categorical ones one-hot), adds the column `ps` (little-endian
f64 bin), sets the role `ps`, appends its own recipe entry and a `ps_model`
result, passes every upstream result on, and ends the stream with the
counts. `boot` cannot replay this stage (it is not psflow's); it says so
unless told to use the propensities as they are (--fixed-ps).

usage: foreign-fitps.py [-t TREATMENT] [-x COV1,COV2] < stream > stream"""
import argparse
import struct
import sys
import zlib

import msgpack

WIDTH = {"f64": ("<%dd", 8), "i64": ("<%dq", 8), "bool": ("<%dB", 1), "cat": ("<%di", 4)}


def fail(msg):
    sys.stderr.write("foreign-fitps: %s\n" % msg)
    sys.exit(1)


def column_values(col, data, n):
    if isinstance(data, bytes):
        fmt, w = WIDTH[col["type"]]
        if len(data) != n * w:
            fail("column %s: %d bytes for %d rows" % (col["name"], len(data), n))
        return list(struct.unpack(fmt % n, data))
    if col["type"] == "cat":
        levels = {l: i for i, l in enumerate(col["levels"])}
        return [-1 if v is None else levels[v] if isinstance(v, str) else v for v in data]
    return [float("nan") if v is None else v for v in data]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-t", "--treatment")
    ap.add_argument("-x", "--covariates")
    args = ap.parse_args()
    try:
        import numpy as np
        from sklearn.ensemble import GradientBoostingClassifier
        from sklearn.metrics import roc_auc_score
    except ImportError as e:
        fail("needs python3-sklearn and python3-numpy (%s)" % e)

    unpacker = msgpack.Unpacker(sys.stdin.buffer, raw=False, max_buffer_size=1 << 30)
    msgs = iter(unpacker)
    head = next(msgs, None)
    if not head or head.get("kind") != "head":
        fail("the input is not a psflow stream (no head)")
    if head.get("version") != 1:
        fail("stream version %r is not 1" % head.get("version"))
    cols = head["columns"]
    names = [c["name"] for c in cols]
    roles = head.setdefault("roles", {})
    if args.treatment:
        roles["treatment"] = args.treatment
    if args.covariates:
        roles["covariates"] = args.covariates.split(",")
    treat, covs = roles.get("treatment"), roles.get("covariates") or []
    if treat not in names or not covs or any(c not in names for c in covs):
        fail("needs a treatment and covariates in the stream (-t, -x)")
    if "ps" in names:
        fail("the stream already has a column 'ps'")

    data = {n: [] for n in names}
    results, rows, batches, ended = [], 0, 0, False
    for m in msgs:
        kind = m.get("kind")
        if kind == "batch":
            for c in cols:
                data[c["name"]].extend(column_values(c, m["columns"][c["name"]], m["rows"]))
            rows += m["rows"]
            batches += 1
        elif kind == "result":
            results.append(m)
        elif kind == "end":
            if (m["rows"], m["batches"]) != (rows, batches):
                fail("the end counts disagree with what arrived: data were lost")
            ended = True
            break
    if not ended:
        fail("the input ended after %d rows without an end message" % rows)

    by_name = {c["name"]: c for c in cols}
    features, owner = [], []
    for cv in covs:
        c, v = by_name[cv], np.array(data[cv], dtype=float)
        if c["type"] == "cat":
            for code in range(1, len(c["levels"])):
                features.append((v == code).astype(float))
                owner.append(cv)
        else:
            features.append(v)
            owner.append(cv)
    X = np.column_stack(features)
    t = np.array(data[treat], dtype=float)
    if not np.isin(t, (0, 1)).all():
        fail("treatment %s must be 0/1" % treat)
    model = GradientBoostingClassifier(random_state=0).fit(X, t)
    ps = model.predict_proba(X)[:, 1]
    if ps.min() <= 0 or ps.max() >= 1:
        fail("the model gave propensities of 0 or 1")

    cols.append({"name": "ps", "type": "f64"})
    roles["ps"] = "ps"
    head.setdefault("recipe", []).append(
        {"stage": "foreign-fitps", "model": "gradient-boosting", "treatment": treat,
         "covariates": ",".join(covs)})
    out = sys.stdout.buffer
    sent = {"results": 0, "crc32": 0}

    def pack(m):
        # the end counts the results and checksums every message before it
        b = msgpack.packb(m, use_bin_type=True)
        if m["kind"] != "end":
            sent["crc32"] = zlib.crc32(b, sent["crc32"])
        sent["results"] += m["kind"] == "result"
        out.write(b)

    pack(head)
    step = 65536
    for start in range(0, rows, step):
        n = min(step, rows - start)
        batch = {}
        for c in cols[:-1]:
            fmt, _ = WIDTH[c["type"]]
            batch[c["name"]] = struct.pack(fmt % n, *data[c["name"]][start:start + n])
        batch["ps"] = struct.pack("<%dd" % n, *ps[start:start + n])
        pack({"kind": "batch", "rows": n, "columns": batch})
    for r in results:
        pack(r)
    pack({"kind": "result", "stage": "foreign-fitps", "name": "ps_model",
          "model": "gradient-boosting", "n": rows, "auc": float(roc_auc_score(t, ps)),
          "ps_range": {"treated": [float(ps[t == 1].min()), float(ps[t == 1].max())],
                       "control": [float(ps[t == 0].min()), float(ps[t == 0].max())]},
          # a covariate's importance: the sum over its features
          "terms": [{"term": "importance:" + cv,
                     "coef": float(sum(v for o, v in zip(owner, model.feature_importances_)
                                       if o == cv))} for cv in covs]})
    pack({"kind": "end", "rows": rows, "batches": (rows + step - 1) // step,
          "results": sent["results"], "crc32": sent["crc32"]})


if __name__ == "__main__":
    main()
