#!/usr/bin/python3
"""MatchIt's greedy nearest-neighbour matching without replacement, written
from its documentation and the shape of its C++ (nn_matchC): an independent
reference for `match --no-replace --ties matchit`.

Every unit is sorted by distance, then row (R's sort.list); the treated are
served from the largest distance down (m.order = "largest"; equal distances
lowest row first, as order(decreasing = TRUE)), in `ratio` rounds of one
control each. A treated unit's candidates are the nearest available control
to its left and to its right in that order (skipping treated units and used
controls; a caliper stops the search on that side); it takes the nearer,
the left on a tie.

--int-abs reproduces MatchIt 4.5.1, whose C++ calls abs() on doubles and so
compares truncated integers: it always takes the left candidate when both
exist, and its caliper never binds (MatchIt issue #163).

--exact COLS (comma-separated) matches within equal values of those
columns: a control of another value is skipped and the search goes on, as
MatchIt's exact.

usage: matchit_nn.py CSV TREAT_COL DISTANCE_COL OUTCOME_COL RATIO [--caliper W]
       [--exact COLS] [--int-abs]
prints JSON: treated_matched, controls_used, estimate (the ATT with MatchIt's
weights) and pairs [[treated row, control row, round], ...] (0-based rows).
"""
import csv
import json
import sys


def match(treat, dist, ratio, caliper=None, int_abs=False, exact=None):
    n = len(treat)
    order = sorted(range(n), key=lambda i: (dist[i], i))
    pos = {u: p for p, u in enumerate(order)}
    used = [False] * n
    treated = sorted([i for i in range(n) if treat[i]], key=lambda i: (-dist[i], i))
    gap = (lambda a, b: float(int(abs(a - b)))) if int_abs else (lambda a, b: abs(a - b))
    pairs = []
    for r in range(ratio):
        for i in treated:
            found = []
            for step in (-1, 1):
                p = pos[i] + step
                while 0 <= p < n:
                    u = order[p]
                    if treat[u] or used[u] or (exact and exact[u] != exact[i]):
                        p += step
                        continue
                    if caliper is not None and gap(dist[i], dist[u]) > caliper:
                        u = None
                    break
                else:
                    u = None
                found.append(u)
            left, right = found
            if left is not None and right is not None:
                k = left if gap(dist[left], dist[i]) <= gap(dist[right], dist[i]) else right
            else:
                k = left if left is not None else right
            if k is None:
                continue
            used[k] = True
            pairs.append((i, k, r + 1))
    return pairs


def att(pairs, treat, y):
    m = {}
    for i, j, _ in pairs:
        m.setdefault(i, []).append(j)
    diffs = [y[i] - sum(y[j] for j in js) / len(js) for i, js in m.items()]
    return len(m), sum(diffs) / len(diffs)


def main():
    a = sys.argv[1:]
    path, tcol, dcol, ycol, ratio = a[0], a[1], a[2], a[3], int(a[4])
    caliper = float(a[a.index("--caliper") + 1]) if "--caliper" in a else None
    rows = list(csv.DictReader(open(path)))
    treat = [r[tcol] in ("1", "TRUE", "true") for r in rows]
    dist = [float(r[dcol]) for r in rows]
    y = [float(r[ycol]) for r in rows]
    exact = None
    if "--exact" in a:
        cols = a[a.index("--exact") + 1].split(",")
        exact = [tuple(r[c] for c in cols) for r in rows]
    pairs = match(treat, dist, ratio, caliper, "--int-abs" in a, exact)
    matched, estimate = att(pairs, treat, y)
    print(json.dumps({"treated_matched": matched, "controls_used": len(pairs),
                      "estimate": estimate, "pairs": pairs}))


if __name__ == "__main__":
    main()
