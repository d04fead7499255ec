# Doubly robust estimates (aipw) and the regression after matching (match
# --adjust), against independent computations: the outcome models by
# statsmodels (GLM binomial, OLS, WLS) and the estimates and SEs by numpy
# (tests/py/aipw_ref.py), on the reference data and the realistic and
# misspecified scenarios; on misspecified, AIPW with the right outcome model
# recovers the truth where IPW with the wrong propensity model does not.
. "$TESTS/lib.sh"

compare() { # name, stream: aipw's numbers against the reference
	mp2csv <"$2" >"$work/rows.csv" 2>/dev/null
	report --json <"$2" >"$work/rep.json"
	$PY "$TESTS/py/aipw_ref.py" "$work/rows.csv" "$work/rep.json" >"$work/ref.json"
	check "$1: aipw's four estimates and two SEs as statsmodels and numpy (1e-8), coefficients (1e-6)" \
		$PY - "$work/rep.json" "$work/ref.json" <<'PY'
import json, sys
got = {r["name"]: r for r in json.load(open(sys.argv[1]))["results"] if r["stage"] == "aipw"}
ref = json.load(open(sys.argv[2]))
assert ref["coef_diff"] < 1e-6, ref["coef_diff"]
assert set(got) == {"gcomp_ate", "gcomp_att", "aipw_ate", "aipw_att"}, set(got)
for name, (est, se) in ((k, v) for k, v in ref.items() if k != "coef_diff"):
    assert abs(got[name]["estimate"] - est) < 1e-8, (name, got[name]["estimate"], est)
    if se is None:
        assert got[name]["se"] is None, name
    else:
        assert abs(got[name]["se"] - se) < 1e-8, (name, got[name]["se"], se)
PY
}

csv2mp "$REF_CSV" | fitps "${STUDY[@]}" --quiet | aipw --quiet >"$work/ref.mp"
compare "reference data (logistic outcome models)" "$work/ref.mp"
gen -n 20000 --seed 3 --scenario realistic |
	fitps -x engagement_tier,past_engagement_score,account_age_months,feature_usage_count --quiet |
	aipw --quiet >"$work/real.mp"
compare "realistic scenario (continuous covariates)" "$work/real.mp"
gen -n 50000 --seed 7 --scenario misspecified | fitps -x engagement_tier,query_confidence --quiet |
	weight -e ate --quiet | aipw --family linear --formula 'engagement_tier*query_confidence' --quiet \
	>"$work/mis.mp"
compare "misspecified scenario (linear, with the interaction)" "$work/mis.mp"
report --json <"$work/mis.mp" >"$work/mis.json"
check "misspecified: IPW with the main-effects propensity misses the truth by more than 5 SE; AIPW with the right outcome model is within 2 SE" \
	$PY - "$work/mis.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
truth = d["meta"]["truth"]["ate"]
r = {x["name"]: x for x in d["results"]}
ipw, dr = r["ipw_ate"], r["aipw_ate"]
assert abs(ipw["estimate"] - truth) > 5 * ipw["se"], (ipw["estimate"], truth, ipw["se"])
assert abs(dr["estimate"] - truth) < 2 * dr["se"], (dr["estimate"], truth, dr["se"])
PY

# boot replays aipw: the outcome models refitted on every resample
gen -n 4000 --seed 5 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence --quiet |
	aipw --quiet >"$work/b.mp"
boot -B 30 -j 1 --quiet <"$work/b.mp" >"$work/b1.mp"
boot -B 30 -j 2 --quiet <"$work/b.mp" >"$work/b2.mp"
same "boot replays aipw: the same bytes at -j 1 and -j 2" "$work/b1.mp" "$work/b2.mp"
report --json <"$work/b1.mp" >"$work/b1.json"
check "  ... every aipw estimate has a bootstrap interval around it" $PY -c "
import json; d = json.load(open('$work/b1.json'))
rs = [r for r in d['results'] if r['stage'] == 'aipw']
assert len(rs) == 4 and all(r['ci'][0] < r['estimate'] < r['ci'][1] and r['replicates'] == 30 for r in rs), rs"
check "  ... and the plain bootstrap SD of the AIPW ATE is near its influence-function SE (within 40%)" $PY -c "
import json; d = json.load(open('$work/b1.json'))
r = [r for r in d['results'] if r['name'] == 'aipw_ate'][0]
assert 0.6 < r['se'] / r['se_analytic'] < 1.4, r"

fails "aipw --family: usage error naming the choices" 2 "--family wants auto, linear or logistic" "aipw --family probit </dev/null"
fails "aipw -e atc: usage error" 2 "-e wants ate, att or both" "aipw -e atc </dev/null"
fails "aipw with a term constant in an arm: singular, named" 1 "the outcome model 'engagement_tier,k' is singular in an arm" \
	"gen -n 500 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier --quiet | $PY -c '
import sys, msgpack
out = sys.stdout.buffer
for m in msgpack.Unpacker(sys.stdin.buffer, raw=False):
    if m[\"kind\"] == \"head\":
        m[\"columns\"].append({\"name\": \"k\", \"type\": \"f64\"})
    if m[\"kind\"] == \"batch\":
        m[\"columns\"][\"k\"] = [1.0] * m[\"rows\"]
    out.write(msgpack.packb(m, use_bin_type=True))' | $PY '$TESTS/py/reseal.py' | aipw --formula engagement_tier,k"
fails "aipw before fitps: no propensity, named" 1 "no propensity \\(run fitps first\\) column" \
	"gen -n 100 | aipw --formula engagement_tier"

# match --adjust: MatchIt's recommended regression on the matched sample
LALONDE="$DATA/lalonde.csv"
XL=age,educ,race,married,nodegree,re74,re75
csv2mp "$LALONDE" | match -t treat -y re78 --ps ps_glm -k 2 --no-replace --ties matchit --adjust --adjust-formula "$XL" \
	--quiet | report --json >"$work/adj2.json"
# R: matchit(ratio = 2) (the same pairs as psflow here), lm(re78 ~ treat * (X),
# weights), the treated units' mean of predicted Y(1) - Y(0): 1425.1791782253
near "match --adjust on LaLonde, -k 2: as MatchIt's vignette in R (lm(Y ~ T * X, weights) over the treated)" \
	"$(jget "$work/adj2.json" "[r['estimate'] for r in d['results'] if r['name'] == 'match_reg_att'][0]")" 1425.1791782253 1e-6
csv2mp "$LALONDE" | match -t treat -y re78 --ps ps_glm --ties first --adjust --adjust-formula "$XL" --quiet >"$work/adj1.mp"
mp2csv <"$work/adj1.mp" >"$work/adj1.csv" 2>/dev/null
report --json <"$work/adj1.mp" >"$work/adj1.json"
check "match --adjust with replacement: statsmodels' WLS of Y ~ T * X on the matched rows, the effect over the treated" \
	$PY - "$work/adj1.csv" "$work/adj1.json" <<'PY'
import csv, json, sys
import numpy as np, statsmodels.api as sm
rows = [r for r in csv.DictReader(open(sys.argv[1])) if float(r["w_match"]) > 0]
X = np.array([[float(r["age"]), float(r["educ"]), r["race"] == "hispan", r["race"] == "white",
               float(r["married"]), float(r["nodegree"]), float(r["re74"]), float(r["re75"])] for r in rows], float)
t = np.array([float(r["treat"]) for r in rows])
y = np.array([float(r["re78"]) for r in rows])
w = np.array([float(r["w_match"]) for r in rows])
def design(tv):
    return np.column_stack([np.ones(len(rows)), tv, X, X * tv[:, None]])
fit = sm.WLS(y, design(t), weights=w).fit()
tr = t == 1
eff = fit.predict(design(np.ones(len(rows))))[tr] - fit.predict(design(np.zeros(len(rows))))[tr]
want = np.average(eff, weights=w[tr])
got = [r for r in json.load(open(sys.argv[2]))["results"] if r["name"] == "match_reg_att"][0]["estimate"]
assert abs(got - want) < 1e-6 * abs(want), (got, want)
PY
boot -B 20 --fixed-ps --quiet <"$work/adj1.mp" | report --json >"$work/adjb.json"
check "boot replays match --adjust: match_reg_att gets an interval" $PY -c "
import json; r = [r for r in json.load(open('$work/adjb.json'))['results'] if r['name'] == 'match_reg_att'][0]
assert r['ci'][0] < r['estimate'] < r['ci'][1] and r['replicates'] == 20, r"
