#!/usr/bin/python3
"""Coverage of psflow's 95% intervals, proven by simulation: data sets from
gen, the study run on each, and the share of intervals that hold the truth,
with its Monte Carlo error.

usage: coverage.py [--scenario reference|realistic|spillover] [--datasets R]
                   [--rows N] [--boot B] [--jobs J] [--seed0 S] [--json FILE]

For each data set: gen | fitps | weight -e ate,att | match | aipw | boot -B B
(and boot --matching refit for the plain bootstrap of matching; on spillover
weight --cluster and boot --cluster workspace_id too). The truth is the
population's: the effect of a very large sample of the scenario (gen's
sample truth at 2,000,000 users). Prints one line per estimate and interval
method: coverage, its Monte Carlo error sqrt(p (1 - p) / R), mean width; and
with --json the same as a list.
"""
import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

COVARIATES = {
    "reference": "engagement_tier,query_confidence",
    "realistic": "engagement_tier,past_engagement_score,account_age_months,feature_usage_count",
    "spillover": "engagement_tier,query_confidence",
}
Z = 1.959963984540054


def run(cmd):
    p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s\n%s" % (cmd, p.stderr[-2000:]))
    return p.stdout


def population_truth(scenario, extra=""):
    out = run("gen -n 2000000 --seed 987654 --scenario %s %s | report --json" % (scenario, extra))
    t = json.loads(out)["meta"]["truth"]
    return {"ate": t["ate"], "att": t["att"]}


def one(args, seed, tmp):
    s = args.scenario
    cluster = s == "spillover"
    pre = os.path.join(tmp, "pre-%d.mp" % seed)
    run("gen -n %d --seed %d --scenario %s %s | fitps -t opt_in_agent_mode -y task_completed -x %s --quiet"
        " | weight -e ate,att --quiet | match --quiet | aipw --quiet >%s"
        % (args.rows, seed, s, args.gen_args, COVARIATES[s], pre))
    out = {}

    def grab(cmd, label_of):
        d = json.loads(run(cmd))
        for r in d["results"]:
            if "estimate" in r and r.get("estimand") in ("ate", "att"):
                for label, ci in label_of(r).items():
                    if ci:
                        out[(r["name"], label)] = ci

    def analytic(r):
        se = r.get("se_analytic")
        return [r["estimate"] - Z * se, r["estimate"] + Z * se] if se else None

    def ai2016(r):
        se = r.get("se_ai2016")
        return [r["estimate"] - Z * se, r["estimate"] + Z * se] if se else None

    grab("boot -B %d --seed %d --quiet <%s | report --json" % (args.boot, seed, pre),
         lambda r: {"analytic (%s)" % analytic_name(r): analytic(r), "bootstrap": r.get("ci"),
                    "analytic (Abadie-Imbens 2016)": ai2016(r)})
    grab("boot -B %d --seed %d --matching refit --quiet <%s 2>/dev/null | report --json"
         % (args.boot, seed, pre),
         lambda r: {"plain bootstrap (re-matched)": r.get("ci")} if r["name"].startswith("match") else {})
    if cluster:
        cl = os.path.join(tmp, "cl-%d.mp" % seed)
        run("gen -n %d --seed %d --scenario %s %s | fitps -t opt_in_agent_mode -y task_completed -x %s --quiet"
            " | weight -e ate,att --cluster workspace_id --quiet >%s"
            % (args.rows, seed, s, args.gen_args, COVARIATES[s], cl))
        grab("boot -B %d --seed %d --cluster workspace_id --quiet <%s | report --json" % (args.boot, seed, cl),
             lambda r: {"analytic (cluster-robust sandwich)": analytic(r),
                        "cluster bootstrap": r.get("ci")} if r["name"].startswith("ipw") else {})
        os.unlink(cl)
    os.unlink(pre)
    return out


def analytic_name(r):
    m = r.get("se_method", "")
    if r["name"].startswith("match"):
        return "Abadie-Imbens"
    if m.startswith("M-estimation"):
        return "sandwich"
    if m.startswith("influence"):
        return "influence function"
    return m or "SE"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="reference", choices=sorted(COVARIATES))
    ap.add_argument("--datasets", type=int, default=500)
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed0", type=int, default=1)
    ap.add_argument("--gen-args", default="", help="more gen options (--spillover 0)")
    ap.add_argument("--json")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless every recommended (default) method covers 93-97%%")
    args = ap.parse_args()
    tmp = os.environ.get("TMPDIR", "/tmp")
    truth = population_truth(args.scenario, args.gen_args)
    hits, widths, counts = {}, {}, {}
    seeds = range(args.seed0, args.seed0 + args.datasets)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for done, res in enumerate(pool.map(lambda s: one(args, s, tmp), seeds)):
            for (name, method), ci in res.items():
                estimand = "ate" if name.endswith("ate") else "att"
                key = (name, method)
                counts[key] = counts.get(key, 0) + 1
                hits[key] = hits.get(key, 0) + (ci[0] <= truth[estimand] <= ci[1])
                widths[key] = widths.get(key, 0) + (ci[1] - ci[0])
            if sys.stderr.isatty():
                print("\r%d/%d data sets" % (done + 1, args.datasets), end="", file=sys.stderr)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    rows = []
    for key in sorted(counts):
        n = counts[key]
        p = hits[key] / n
        rows.append({"scenario": (args.scenario + " " + args.gen_args).strip(), "estimate": key[0], "method": key[1],
                     "datasets": n, "coverage": p, "mc_error": (p * (1 - p) / n) ** 0.5,
                     "mean_width": widths[key] / n, "truth": truth["ate" if key[0].endswith("ate") else "att"]})
    print("scenario %s%s: %d data sets of %d users, B = %d, truth ATE %+.4f ATT %+.4f"
          % (args.scenario, " " + args.gen_args if args.gen_args else "", args.datasets, args.rows,
             args.boot, truth["ate"], truth["att"]))
    for r in rows:
        print("  %-10s %-34s %5.1f%% +- %.1f  width %.4f" % (r["estimate"], r["method"],
              100 * r["coverage"], 100 * r["mc_error"], r["mean_width"]))
    if args.json:
        json.dump(rows, open(args.json, "w"), indent=1)
    if args.check:
        bad = [r for r in rows if recommended(r) and not 0.93 <= r["coverage"] <= 0.97]
        for r in bad:
            print("NOT COVERING 93-97%%: %s %s %.1f%%" % (r["estimate"], r["method"],
                  100 * r["coverage"]), file=sys.stderr)
        sys.exit(1 if bad else 0)


def recommended(r):
    """The interval each estimate gets by default: boot's (the weighted
    bootstrap for matching; on clustered data the cluster bootstrap) and
    the analytic SEs psflow reports; not the plain bootstrap of matching,
    nor the unclustered ones on clustered data."""
    if "plain bootstrap" in r["method"]:
        return False
    if r["scenario"].startswith("spillover"):
        return "cluster" in r["method"]
    return True


if __name__ == "__main__":
    main()
