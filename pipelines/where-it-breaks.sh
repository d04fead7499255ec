#!/usr/bin/env bash
# Where propensity scores break: every scenario of gen through the study
#   gen --scenario S | fitps | weight | match | balance --interactions
#       | boot | sensitivity
# and one table: the truth, the naive and adjusted estimates, whether the
# interval holds the truth, the diagnostics, and which of them flagged the
# trouble (or that none can).
# usage: pipelines/where-it-breaks.sh [--json FILE] [ROWS [SEED]]
#   (default 50000 users, seed 42; BOOT_REPS replicates, default 200)
set -euo pipefail
# --help prints the comment above
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
	sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
	exit 0
fi
here=$(cd "$(dirname "$0")/.." && pwd)
PATH="${PSFLOW_BIN:-$here/bin}:$PATH"
json=
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
	sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
fi
if [ "${1:-}" = --json ]; then
	json=${2:?--json wants a file}
	shift 2
fi
rows=${1:-50000} seed=${2:-42} reps=${BOOT_REPS:-200}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for s in reference realistic hidden-confounder no-overlap misspecified spillover; do
	gen -n "$rows" --seed "$seed" --scenario "$s" |
		fitps --quiet |
		weight --estimand ate,att --quiet |
		match -k 1 --quiet |
		balance --interactions |
		boot -B "$reps" --seed 7 --quiet |
		sensitivity |
		report --json >"$work/$s.json"
done

/usr/bin/python3 - "$work" "$json" <<'PY'
import json, sys
work, out = sys.argv[1], sys.argv[2]
scenarios = ["reference", "realistic", "hidden-confounder", "no-overlap", "misspecified", "spillover"]
table = []
for s in scenarios:
    d = json.load(open(f"{work}/{s}.json"))
    res = {r["name"]: r for r in d["results"]}
    truth = d["meta"]["truth"]
    ate, att, naive = res["ipw_ate"], res["match_att"], res["naive"]
    bal = res["balance"]
    adjusted = [r for r in bal["table"] if r["weight"] == "w_ate"]
    worst = max(adjusted, key=lambda r: abs(r["smd"]))
    pos = res["ps_model"]["positivity"]
    sens = {r["estimate"]: r for r in res["sensitivity"]["estimates"]}["ipw_ate"]
    ess = min(ate["ess_share"].values())
    covers = ate["ci"][0] <= truth["ate"] <= ate["ci"][1]
    flags = []
    if pos["warning"]:
        flags.append("positivity")
    if ess < 0.2:
        flags.append("ESS")
    if bal["failures_by_weight"]["w_ate"] > 0:
        flags.append("balance (%s)" % worst["covariate"])
    row = {
        "scenario": s,
        "truth_ate": truth["ate"], "truth_att": truth["att"],
        "naive": naive["estimate"],
        "ipw_ate": ate["estimate"], "ipw_ate_ci": ate["ci"], "ipw_ate_se": ate["se"],
        "covers": covers,
        "match_att": att["estimate"], "match_att_ci": att["ci"],
        "max_smd": worst["smd"], "max_smd_covariate": worst["covariate"],
        "balance_failures": bal["failures_by_weight"]["w_ate"],
        "positivity_warning": pos["warning"], "ess_share": ess,
        "evalue": sens["evalue"], "evalue_ci": sens["evalue_ci"],
        "flagged_by": flags,
    }
    table.append(row)
# what no diagnostic can see, said plainly
notes = {
    "hidden-confounder": "nothing in the data can: the E-value says how fragile it is",
    "spillover": "nothing in the data can: users share workspaces (workspace_id); cluster the bootstrap",
}
for row in table:
    row["note"] = "" if row["flagged_by"] else notes.get(row["scenario"], "nothing flagged")
def f(x):
    return f"{x:+.4f}"
head = ["scenario", "truth ATE", "naive", "IPW ATE [95% CI]", "covers", "1-NN ATT (truth)",
        "max |SMD| w_ate", "positivity", "E-value (CI)", "flagged by"]
lines = []
for r in table:
    lines.append([r["scenario"], f(r["truth_ate"]), f(r["naive"]),
                  f"{f(r['ipw_ate'])} [{f(r['ipw_ate_ci'][0])}, {f(r['ipw_ate_ci'][1])}]",
                  "yes" if r["covers"] else "NO",
                  f"{f(r['match_att'])} ({f(r['truth_att'])})",
                  f"{abs(r['max_smd']):.3f}", "WARN" if r["positivity_warning"] else "ok",
                  f"{r['evalue']:.2f} ({r['evalue_ci']:.2f})",
                  ", ".join(r["flagged_by"]) or r["note"]])
width = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(head)]
print("  ".join(h.ljust(w) for h, w in zip(head, width)).rstrip())
print("  ".join("-" * w for w in width))
for l in lines:
    print("  ".join(c.ljust(w) for c, w in zip(l, width)).rstrip())
if out:
    json.dump(table, open(out, "w"), indent=1)
PY
