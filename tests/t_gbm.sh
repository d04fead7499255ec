# fitps --learner gbm: XGBoost through its C API against python3-xgboost
# with the same parameters, the trees chosen for balance (twang's stop
# methods) checked by numpy, deterministic bytes, saved models, boot's
# refits, and the usage errors.
. "$TESTS/lib.sh"

if ! $PY -c 'import xgboost' 2>/dev/null; then
	skip "fitps --learner gbm against python3-xgboost" "python3-xgboost is not installed (apt-get install python3-xgboost)"
	exit 0
fi

against_python() { # name, stream
	mp2csv <"$2" >"$work/rows.csv" 2>/dev/null
	report --json <"$2" >"$work/rep.json"
	for mode in "" --grouped; do
		$PY "$TESTS/py/xgb_ref.py" "$work/rows.csv" "$work/rep.json" $mode >"$work/x.json"
		check "$1: the propensities of python3-xgboost ${mode:+(on the weighted distinct rows) }to 1e-6" \
			$PY -c "import json; d = json.load(open('$work/x.json')); assert d['max_diff'] < 1e-6, d"
	done
}

gen -n 20000 --seed 4 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence \
	--learner gbm --trees 200 --quiet >"$work/ref.mp"
against_python "reference scenario, es.mean" "$work/ref.mp"
gen -n 6000 --seed 4 --scenario realistic |
	fitps -x engagement_tier,past_engagement_score,account_age_months --learner gbm --trees 120 --depth 4 \
	--eta 0.2 --stop ks.max --stop-estimand att --quiet >"$work/real.mp"
against_python "realistic scenario, ks.max on ATT weights, depth 4, eta 0.2" "$work/real.mp"

report --json <"$work/ref.mp" >"$work/ref.json"
mp2csv <"$work/ref.mp" >"$work/ref.csv" 2>/dev/null
check "the trees chosen minimise the criterion, and numpy gives the criterion at them (mean |SMD|, pooled sample SD, ATE weights)" \
	$PY - "$work/ref.json" "$work/ref.csv" <<'PY'
import csv, json, sys
import numpy as np
m = [r for r in json.load(open(sys.argv[1]))["results"] if r["name"] == "ps_model"][0]
curve = m["criterion_by_trees"]
assert len(curve) == m["trees_max"] == 200 and m["trees"] == int(np.argmin(curve)) + 1, m["trees"]
assert abs(m["criterion"] - min(curve)) < 1e-15
rows = list(csv.DictReader(open(sys.argv[2])))
t = np.array([r["opt_in_agent_mode"] == "1" for r in rows])
e = np.array([float(r["ps"]) for r in rows])
cols = {"engagement_tier_light": [r["engagement_tier"] == "light" for r in rows],
        "engagement_tier_medium": [r["engagement_tier"] == "medium" for r in rows],
        "query_confidence": [float(r["query_confidence"]) for r in rows]}
w = np.where(t, 1 / e, 1 / (1 - e))
smd = []
for name in m["features"]:
    x = np.array(cols[name], float)
    binary = set(np.unique(x)) <= {0.0, 1.0}
    var = [x[g].var(ddof=0 if binary else 1) for g in (t, ~t)]
    sd = np.sqrt(sum(var) / 2)
    smd.append(abs(np.average(x[t], weights=w[t]) - np.average(x[~t], weights=w[~t])) / sd)
# the choice is made on margins summed in double, the stream's ps come from
# XGBoost's own float prediction: they differ in the 7th digit
assert abs(np.mean(smd) - m["criterion"]) < 1e-5, (np.mean(smd), m["criterion"])
PY

gen -n 20000 --seed 4 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence \
	--learner gbm --trees 200 --quiet --save-model "$work/m.psm" >"$work/again.mp"
same "the same bytes from a second run (one thread, a fixed seed)" "$work/ref.mp" "$work/again.mp"
gen -n 20000 --seed 4 | fitps --model "$work/m.psm" --quiet | mp2csv >"$work/scored.csv" 2>/dev/null
mp2csv <"$work/ref.mp" >"$work/fitted.csv" 2>/dev/null
check "--save-model then --model: the saved booster scores every row as the fit did" $PY -c "
import csv
a = [r['ps'] for r in csv.DictReader(open('$work/scored.csv'))]
b = [r['ps'] for r in csv.DictReader(open('$work/fitted.csv'))]
assert len(a) == 20000 and a == b"
check "  ... the model file holds XGBoost's own model and the trees chosen" $PY -c "
import msgpack; m = msgpack.unpackb(open('$work/m.psm', 'rb').read(), raw=False)
assert m['learner'] == 'gbm' and m['trees'] == $(jget "$work/ref.json" "[r['trees'] for r in d['results'] if r['name'] == 'ps_model'][0]") and len(m['xgboost']) > 1000, m.keys()"

# boot refits the boosted model (the trees chosen) on every resample
gen -n 3000 --seed 8 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence \
	--learner gbm --trees 60 --quiet | weight -e ate --quiet >"$work/b.mp"
boot -B 12 -j 1 --quiet <"$work/b.mp" >"$work/b1.mp"
boot -B 12 -j 2 --quiet <"$work/b.mp" >"$work/b2.mp"
same "boot replays gbm: the same bytes at -j 1 and -j 2" "$work/b1.mp" "$work/b2.mp"
check "  ... its full-data refit reproduced the stream's propensities, and ipw_ate has an interval" $PY -c "
import json, subprocess
d = json.loads(subprocess.run(['report', '--json'], stdin=open('$work/b1.mp'), capture_output=True).stdout)
r = [r for r in d['results'] if r['name'] == 'ipw_ate'][0]
b = [r for r in d['results'] if r['name'] == 'boot'][0]
assert r['ci'][0] < r['estimate'] < r['ci'][1] and b['propensities'] == 'refitted in every replicate', (r, b)"

fails "--trees without --learner gbm: usage error" 2 "boosting's: give --learner gbm" "fitps -t t -x x --trees 10 </dev/null"
fails "--l2 with --learner gbm: usage error" 2 "the logistic model's, not --learner gbm's" "fitps -t t -x x --learner gbm --l2 1 </dev/null"
fails "--stop: the choices named" 2 "--stop wants es.mean, ks.max or none" "fitps -t t -x x --learner gbm --stop best </dev/null"
fails "--learner: the choices named" 2 "--learner wants logistic or gbm" "fitps -t t -x x --learner forest </dev/null"
$PY -c "
import msgpack
m = msgpack.unpackb(open('$work/m.psm', 'rb').read(), raw=False)
del m['xgboost']
open('$work/bad.psm', 'wb').write(msgpack.packb(m, use_bin_type=True))
m['xgboost'] = b'not ubjson'
open('$work/junk.psm', 'wb').write(msgpack.packb(m, use_bin_type=True))"
fails "a gbm model file without XGBoost's bytes: refused, named" 1 "bad.psm: not a psflow model: a gbm model needs its 'xgboost' bytes" \
	"gen -n 100 | fitps --model '$work/bad.psm'"
fails "a gbm model file whose bytes XGBoost cannot read: refused, named" 1 "junk.psm: XGBoost: reading the model" \
	"gen -n 100 | fitps --model '$work/junk.psm'"
