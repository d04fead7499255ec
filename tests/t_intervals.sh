# Honest intervals: the M-estimation (sandwich) SE of the IPW estimates
# against an independent computation (the stacked estimating equations
# differentiated numerically, tests/py/ipw_sandwich_ref.py), every estimand,
# with a penalty, trimming, capping and stabilising, and clustered.
. "$TESTS/lib.sh"

sandwich() { # name, gen args, fitps args, weight args, [cluster column]
	gen -n 8000 --seed 3 $2 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence \
		$3 --quiet | weight $4 --quiet >"$work/w.mp"
	mp2csv <"$work/w.mp" >"$work/w.csv" 2>/dev/null
	report --json <"$work/w.mp" >"$work/w.json"
	$PY "$TESTS/py/ipw_sandwich_ref.py" "$work/w.csv" "$work/w.json" ${5:-} >"$work/ref.json"
	check "$1: the sandwich SE as the numerically differentiated estimating equations (1e-6 relative)" \
		$PY - "$work/w.json" "$work/ref.json" <<'PY'
import json, sys
got = {r["name"]: r for r in json.load(open(sys.argv[1]))["results"] if r["name"].startswith("ipw_")}
ref = json.load(open(sys.argv[2]))
assert set(got) == set(ref) and ref, (set(got), set(ref))
for k, v in ref.items():
    assert abs(got[k]["se"] - v) < 1e-6 * v, (k, got[k]["se"], v)
    assert got[k]["se_method"].startswith("M-estimation"), got[k]["se_method"]
PY
}
sandwich "ATE, ATT, ATC, ATO" "" "" "-e ate,att,atc,ato"
sandwich "--l2 0.5 (the penalty in A and B)" "" "--l2 0.5" "-e ate,att"
sandwich "--trim 0.15,0.6 (trimmed weights held at 0)" "" "" "-e ate,att,ato --trim 0.15,0.6"
sandwich "--truncate 0.95 (capped weights held fixed)" "" "" "-e ate,att --truncate 0.95"
sandwich "--stabilize (the same SE as unstabilised)" "" "" "-e ate --stabilize"
sandwich "--cluster workspace_id (cluster-robust, G/(G-1))" "--scenario spillover" "" "-e ate,att --cluster workspace_id" workspace_id
report --json <"$work/w.mp" >"$work/cl.json"
check "  ... the result names the clusters and their number" $PY -c "
import json; r = [r for r in json.load(open('$work/cl.json'))['results'] if r['name'] == 'ipw_ate'][0]
assert r['cluster'] == 'workspace_id' and r['clusters'] > 20 and 'cluster-robust' in r['se_method'], r"
gen -n 3000 --seed 3 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier --learner gbm --trees 30 --quiet |
	weight --quiet | report --json >"$work/gbm.json"
check "weights from a boosted model: the SE holds the weights fixed and says why" $PY -c "
import json; r = [r for r in json.load(open('$work/gbm.json'))['results'] if r['name'] == 'ipw_ate'][0]
assert r['se_method'] == 'weights held fixed' and 'boosted' in r['se_why'], r"
fails "weight --cluster on an f64 column: refused" 1 "cluster column 'query_confidence' is f64" \
	"gen -n 100 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier --quiet | weight --cluster query_confidence"
