# Where it breaks: every scenario through the study (pipelines/where-it-
# breaks.sh), each claim of the table asserted, and the new diagnostics
# checked against independent computations (numpy, exact binomial tails).
. "$TESTS/lib.sh"
top="$TESTS/.."

BOOT_REPS=50 "$top/pipelines/where-it-breaks.sh" --json "$work/table.json" 20000 3 >"$work/table.txt" 2>"$work/table.err"
rc=$?
check "where-it-breaks.sh runs every scenario (exit $rc)" test "$rc" -eq 0
check "  ... and prints one row per scenario" test "$(grep -cE '^(reference|realistic|hidden-confounder|no-overlap|misspecified|spillover) ' "$work/table.txt")" -eq 6
row() { jget "$work/table.json" "[r for r in d if r['scenario'] == '$1'][0]$2"; }
check "reference: the interval holds the truth, and no diagnostic fires" \
	test "$(row reference "['covers'] and not [r for r in d if r['scenario'] == 'reference'][0]['flagged_by']")" = True
check "realistic: the effect varies, so the truths differ (ATT > ATE), and IPW's interval holds the ATE" \
	test "$(row realistic "['truth_att'] > [r for r in d if r['scenario'] == 'realistic'][0]['truth_ate'] + 0.01 and [r for r in d if r['scenario'] == 'realistic'][0]['covers']")" = True
check "hidden-confounder: IPW misses the truth by more than 3 SE" \
	test "$(row hidden-confounder "['ipw_ate'] - [r for r in d if r['scenario'] == 'hidden-confounder'][0]['truth_ate'] > 3 * [r for r in d if r['scenario'] == 'hidden-confounder'][0]['ipw_ate_se']")" = True
check "  ... and no diagnostic can see it: the table says so, and the E-value is given" \
	bash -c "grep -E '^hidden-confounder .*nothing in the data can: the E-value says how fragile it is' '$work/table.txt'"
check "no-overlap: the positivity warning fires" test "$(row no-overlap "['positivity_warning']")" = True
check "misspecified: balance with interactions fails under the main-effects model" \
	test "$(row misspecified "['balance_failures'] > 0")" = True
check "spillover: the table says nothing in the data can see it, and names the workspaces" \
	bash -c "grep -E '^spillover .*users share workspaces \\(workspace_id\\)' '$work/table.txt'"
check "every failure scenario is flagged by a diagnostic, or the table says none can" $PY - "$work/table.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1])):
    if r["scenario"] != "reference":
        assert r["flagged_by"] or r["note"].startswith("nothing in the data can"), r
PY

# the fixes the scenarios' help names
gen -n 20000 --seed 3 --scenario hidden-confounder --reveal |
	fitps -x engagement_tier,query_confidence,motivation --quiet | weight -e ate --quiet |
	boot -B 50 --quiet | report --json >"$work/reveal.json"
check "hidden-confounder --reveal, motivation in -x: the interval holds the truth again" $PY -c "
import json; d = json.load(open('$work/reveal.json'))
r = [r for r in d['results'] if r['name'] == 'ipw_ate'][0]
assert r['ci'][0] <= d['meta']['truth']['ate'] <= r['ci'][1], (r['ci'], d['meta']['truth'])"
gen -n 20000 --seed 3 --scenario misspecified | fitps -x 'engagement_tier*query_confidence' --quiet |
	weight -e ate --quiet | balance --interactions -x engagement_tier,query_confidence |
	report --json >"$work/inter.json"
check "misspecified: with -x 'engagement_tier*query_confidence' every row, interactions included, passes" $PY -c "
import json; d = json.load(open('$work/inter.json'))
b = [r for r in d['results'] if r['name'] == 'balance'][0]
assert b['failures_by_weight']['w_ate'] == 0, b['failures_by_weight']
assert any(r.get('term') == 'interaction' for r in b['table'])"
gen -n 20000 --seed 3 --scenario no-overlap | fitps --quiet >"$work/no.mp" 2>/dev/null
weight -e ate --quiet <"$work/no.mp" | report --json >"$work/plain.json"
weight -e ate --trim auto --quiet <"$work/no.mp" | report --json >"$work/crump.json"
check "no-overlap: --trim auto shrinks the IPW SE by more than half, and says its band" $PY -c "
import json
a, b = ([r for r in json.load(open(f))['results'] if r['name'] == 'ipw_ate'][0] for f in ('$work/plain.json', '$work/crump.json'))
assert b['se'] < a['se'] / 2 and b['trim_rule'] == 'crump' and 0 < b['trim_band'][0] < 0.2, (a['se'], b)"
fails "fitps warns of poor overlap on stderr" 0 "fitps: warning: positivity: .* outside \\[0.05, 0.95\\]" \
	"gen -n 20000 --seed 3 --scenario no-overlap | fitps >/dev/null"
fails "weight warns when a group's effective sample size is under a fifth" 0 "under w_att the controls' effective sample size is" \
	"weight -e att <'$work/no.mp' >/dev/null"

weight -e ate,att --quiet <"$work/no.mp" | balance | sensitivity | report >"$work/no.txt"
check "report on no-overlap: a Warnings section names positivity, the effective sample size and balance" \
	bash -c "sed -n '/^Warnings/,\$p' '$work/no.txt' | grep -q '^  positivity: ' &&
	    sed -n '/^Warnings/,\$p' '$work/no.txt' | grep -q \"ipw_att: the controls' effective sample size is\" &&
	    sed -n '/^Warnings/,\$p' '$work/no.txt' | grep -q '^  balance: .* rows fail the threshold after adjustment'"
check "  ... and the sensitivity section prints the E-values and says why no Rosenbaum bounds" \
	bash -c "grep -q '^Sensitivity to a hidden confounder' '$work/no.txt' && grep -q 'Rosenbaum bounds: not computed: no matching estimate upstream' '$work/no.txt'"
gen -n 20000 --seed 3 | fitps --quiet | weight -e ate --quiet | balance | report >"$work/ref.txt"
check "report on the reference study: no Warnings section" bash -c "! grep -q '^Warnings' '$work/ref.txt'"

# independent checks of the new numbers
mp2csv <"$work/no.mp" >"$work/no.csv" 2>/dev/null
check "Crump's band agrees with a grid search of the variance bound (numpy)" $PY - "$work/no.csv" "$work/crump.json" <<'PY'
import csv, json, sys
import numpy as np
ps = np.array([float(r["ps"]) for r in csv.DictReader(open(sys.argv[1]))])
r = [r for r in json.load(open(sys.argv[2]))["results"] if r["name"] == "ipw_ate"][0]
g = 1 / (ps * (1 - ps))
best = None
for a in np.linspace(0.0005, 0.3, 6000):     # the bound over kept units: sum g / n^2
    keep = (ps >= a) & (ps <= 1 - a)
    v = g[keep].sum() / keep.sum() ** 2
    if best is None or v < best[0]:
        best = (v, keep.sum(), a)
lo = r["trim_band"][0]
ours = ((ps >= lo) & (ps <= 1 - lo)).sum()
assert ours == best[1], (ours, best)
assert r["trimmed"]["treated"] + r["trimmed"]["control"] == len(ps) - ours, r["trimmed"]
PY
gen -n 20000 --seed 3 | fitps --quiet | weight -e ate --quiet | match -k 1 --no-replace --quiet |
	sensitivity >"$work/sens.mp"
report --json <"$work/sens.mp" >"$work/sens.json"
mp2csv <"$work/sens.mp" >"$work/sens.csv" 2>/dev/null
check "E-values: RR from the outcome means, RR + sqrt(RR (RR - 1)), the CI limit's likewise" $PY - "$work/sens.json" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
res = {r["name"]: r for r in d["results"]}
rows = {r["estimate"]: r for r in res["sensitivity"]["estimates"]}
for name in ("naive", "ipw_ate", "match_att"):
    r, s = res[name], rows[name]
    m0 = r["mean_outcome"]["control"]
    rr = (m0 + r["estimate"]) / m0
    lo = r["estimate"] - 1.959963984540054 * r["se"]
    assert abs(s["rr"] - rr) < 1e-12 and abs(s["evalue"] - (rr + math.sqrt(rr * (rr - 1)))) < 1e-12, (name, s)
    rl = (m0 + lo) / m0
    assert abs(s["evalue_ci"] - (rl + math.sqrt(rl * (rl - 1)))) < 1e-9, (name, s["evalue_ci"])
    assert abs(s["tipping"][0]["effect_to_null"] - r["estimate"] / 0.1) < 1e-12
PY
check "Rosenbaum bounds from the matched pairs agree with an exact binomial tail (Python)" $PY - "$work/sens.csv" "$work/sens.json" <<'PY'
import csv, json, math, sys
from fractions import Fraction
pairs = {}
for r in csv.DictReader(open(sys.argv[1])):
    if r["match_set"] != "":
        pairs.setdefault(r["match_set"], {})[r["opt_in_agent_mode"]] = int(r["task_completed"])
wins = sum(1 for p in pairs.values() if p["1"] == 1 and p["0"] == 0)
losses = sum(1 for p in pairs.values() if p["1"] == 0 and p["0"] == 1)
rb = [r for r in json.load(open(sys.argv[2]))["results"] if r["name"] == "sensitivity"][0]["rosenbaum"]
n = wins + losses
def upper(gamma):      # P(Bin(n, g/(1+g)) >= wins), summed exactly in log space
    p = gamma / (1 + gamma)
    return sum(math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                        + k * math.log(p) + (n - k) * math.log1p(-p)) for k in range(wins, n + 1))
assert rb["pairs"] == len(pairs) and rb["discordant"] == n, (rb, len(pairs), n)
g = rb["gamma"]
assert upper(g) <= 0.05 < upper(g + 1e-4), (g, upper(g), upper(g + 1e-4))
assert abs(rb["p_gamma_1"] - upper(1)) <= 1e-9 * max(1e-300, upper(1)) + 1e-300, (rb["p_gamma_1"], upper(1))
PY
printf 't,y,b,z\n0,1,0,0.5\n1,0,1,0.7\n1,1,0,0.2\n0,0,1,0.9\n1,1,1,0.4\n0,0,0,0.1\n' |
	csv2mp -t t -y y -x b,z | balance --interactions | report --json >"$work/binsq.json"
check "balance --interactions: the square of a numeric covariate, not of a 0/1 one (it is its own; cobalt leaves it out)" \
	$PY -c "
import json, sys; d = json.load(open(sys.argv[1]))
rows = [r for r in d['results'] if r.get('name') == 'balance'][0]['table']
got = sorted(set((r['covariate'], r.get('term')) for r in rows))
assert got == [('b', None), ('b:z', 'interaction'), ('z', None), ('z^2', 'square')], got" "$work/binsq.json"
gen -n 20000 --seed 3 --scenario misspecified | fitps --quiet | weight -e ate --quiet >"$work/mis.mp"
balance --interactions <"$work/mis.mp" | report --json >"$work/misbal.json"
mp2csv <"$work/mis.mp" >"$work/mis.csv" 2>/dev/null
check "balance --interactions: a product's SMD, variance ratio and a square's SMD agree with numpy" $PY - "$work/mis.csv" "$work/misbal.json" <<'PY'
import csv, json, sys
import numpy as np
rows = list(csv.DictReader(open(sys.argv[1])))
t = np.array([r["opt_in_agent_mode"] == "1" for r in rows])
w = np.array([float(r["w_ate"]) for r in rows])
qc = np.array([float(r["query_confidence"]) for r in rows])
heavy = np.array([r["engagement_tier"] == "heavy" for r in rows], float)
table = [r for r in json.load(open(sys.argv[2]))["results"] if r["name"] == "balance"][0]["table"]
for label, x in (("engagement_tier_heavy:query_confidence", heavy * qc), ("query_confidence^2", qc * qc)):
    # pooled sample SD (w_ate: the ATE's), cov.wt's unbiased weighted variances
    sd = np.sqrt((x[t].var(ddof=1) + x[~t].var(ddof=1)) / 2)
    mt, mc = np.average(x[t], weights=w[t]), np.average(x[~t], weights=w[~t])
    def wvar(v, u, m): return (u * (v - m) ** 2).sum() / (u.sum() - (u * u).sum() / u.sum())
    vt, vc = wvar(x[t], w[t], mt), wvar(x[~t], w[~t], mc)
    row = [r for r in table if r["covariate"] == label and r["weight"] == "w_ate"][0]
    assert abs(row["smd"] - (mt - mc) / sd) < 1e-9 and abs(row["var_ratio"] - vt / vc) < 1e-9, (label, row)
PY
fails "sensitivity without an estimate upstream" 1 "no estimate upstream to judge" "gen -n 100 | fitps -x engagement_tier | sensitivity"
gen -n 5000 --seed 3 | fitps --quiet | weight -e ate --quiet | match --quiet | sensitivity | report --json >"$work/repl.json"
check "sensitivity after matching with replacement says why it gives no Rosenbaum bounds" $PY -c "
import json; d = json.load(open('$work/repl.json'))
rb = [r for r in d['results'] if r['name'] == 'sensitivity'][0]['rosenbaum']
assert rb == {'computed': False, 'why': 'they need 1:1 matched pairs: match -k 1 --no-replace'}, rb"
