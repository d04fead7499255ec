#!/usr/bin/python3
"""The README's coverage table from make test-slow's three JSON files.

usage: table.py REFERENCE.json REALISTIC.json CLUSTERED.json
"""
import json
import sys

LABELS = {
    "bootstrap": "bootstrap percentile",
    "analytic (sandwich)": "sandwich SE",
    "analytic (influence function)": "influence-function SE",
    "analytic (Abadie-Imbens)": "Abadie-Imbens (2006) SE",
    "analytic (Abadie-Imbens 2016)": "Abadie-Imbens (2016) SE",
    "plain bootstrap (re-matched)": "plain bootstrap, re-matched (not the default)",
}
# (estimate, method; the clustered column's method when it differs)
ORDER = [
    ("ipw_ate", "analytic (sandwich)", "analytic (cluster-robust sandwich)"),
    ("ipw_ate", "bootstrap", "cluster bootstrap"),
    ("ipw_att", "analytic (sandwich)", "analytic (cluster-robust sandwich)"),
    ("ipw_att", "bootstrap", "cluster bootstrap"),
    ("aipw_ate", "analytic (influence function)", None),
    ("aipw_ate", "bootstrap", None),
    ("aipw_att", "analytic (influence function)", None),
    ("aipw_att", "bootstrap", None),
    ("gcomp_ate", "bootstrap", None),
    ("gcomp_att", "bootstrap", None),
    ("match_att", "analytic (Abadie-Imbens)", None),
    ("match_att", "analytic (Abadie-Imbens 2016)", None),
    ("match_att", "bootstrap", None),
    ("match_att", "plain bootstrap (re-matched)", None),
]


def cell(rows, est, method):
    for r in rows:
        if r["estimate"] == est and r["method"] == method:
            return "%.1f%% ± %.1f" % (100 * r["coverage"], 100 * r["mc_error"])
    return "—"


def main():
    ref, real, cl = (json.load(open(f)) for f in sys.argv[1:4])
    print("| estimate | interval | reference (2,000 users) | realistic (4,000, continuous) "
          "| clustered (2,000 in workspaces) |")
    print("|---|---|---|---|---|")
    for est, method, cl_method in ORDER:
        label = LABELS[method]
        if est == "match_att" and method == "bootstrap":
            label = "weighted bootstrap (Otsu & Rai; the default)"
        c = cell(cl, est, cl_method or method)
        if cl_method:
            c += " (cluster-robust)" if "sandwich" in cl_method else " (cluster bootstrap)"
        print("| %s | %s | %s | %s | %s |" % (est, label, cell(ref, est, method),
              cell(real, est, method), c))


if __name__ == "__main__":
    main()
