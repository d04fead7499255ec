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

# boot --cluster and --poisson: deterministic, on workers too, keyed
gen -n 6000 --seed 3 --scenario spillover | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence \
	--quiet | weight -e ate --quiet >"$work/sp.mp"
boot -B 40 -j 1 --cluster workspace_id --quiet <"$work/sp.mp" >"$work/c1.mp"
boot -B 40 -j 2 --cluster workspace_id --quiet <"$work/sp.mp" >"$work/c2.mp"
same "boot --cluster: the same bytes at -j 1 and -j 2" "$work/c1.mp" "$work/c2.mp"
port=$(free_port)
boot --worker ">tcp://127.0.0.1:$port" --quiet & w1=$!
boot -B 40 -j 0 --cluster workspace_id --workers "@tcp://127.0.0.1:$port" --quiet <"$work/sp.mp" >"$work/cw.mp"
wait $w1
same "  ... and on a remote worker" "$work/c1.mp" "$work/cw.mp"
report --json <"$work/c1.mp" >"$work/c1.json"
check "  ... the boot result names the clusters resampled" $PY -c "
import json; b = [r for r in json.load(open('$work/c1.json'))['results'] if r['name'] == 'boot'][0]
assert b['resample'] == 'clusters with replacement' and b['cluster'] == 'workspace_id' and b['clusters'] > 100, b"
boot -B 60 --poisson-key user_id --quiet <"$work/sp.mp" | report --json >"$work/p1.json"
# the same rows in the reverse order: each user keeps its counts
$PY - "$work/sp.mp" "$work/rev.mp" <<'PY'
import sys, msgpack
msgs = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
head = msgs[0]
batches = [m for m in msgs if m["kind"] == "batch"]
rest = [m for m in msgs[1:] if m["kind"] not in ("batch", "end")]
types = {c["name"]: {"f64": "<f8", "i64": "<i8", "bool": "u1", "cat": "<i4"}[c["type"]] for c in head["columns"]}
import numpy as np
cols = {k: np.concatenate([np.frombuffer(b["columns"][k], types[k]) for b in batches]) for k in types}
n = len(cols["user_id"])
out = open(sys.argv[2], "wb")
out.write(msgpack.packb(head, use_bin_type=True))
out.write(msgpack.packb({"kind": "batch", "rows": n, "columns": {k: v[::-1].tobytes() for k, v in cols.items()}}, use_bin_type=True))
for m in rest:
    out.write(msgpack.packb(m, use_bin_type=True))
out.write(msgpack.packb({"kind": "end", "rows": n, "batches": 1}, use_bin_type=True))
PY
boot -B 60 --poisson-key user_id --fixed-ps --quiet <"$work/rev.mp" | report --json >"$work/p2.json"
boot -B 60 --poisson-key user_id --fixed-ps --quiet <"$work/sp.mp" | report --json >"$work/p3.json"
check "boot --poisson-key: the rows in reverse order give the same replicates (each user its own counts)" $PY -c "
import json
a = [r for r in json.load(open('$work/p2.json'))['results'] if r['name'] == 'boot'][0]['draws']['ipw_ate']
b = [r for r in json.load(open('$work/p3.json'))['results'] if r['name'] == 'boot'][0]['draws']['ipw_ate']
assert len(a) == 60 and max(abs(x - y) for x, y in zip(a, b)) < 1e-12, max(abs(x - y) for x, y in zip(a, b))"
check "boot --poisson: its SE near the multinomial bootstrap's (within 25%)" $PY -c "
import json, subprocess
p = [r for r in json.load(open('$work/p1.json'))['results'] if r['name'] == 'ipw_ate'][0]
m = json.loads(subprocess.run(['bash', '-c', 'boot -B 60 --quiet <$work/sp.mp | report --json'], capture_output=True).stdout)
m = [r for r in m['results'] if r['name'] == 'ipw_ate'][0]
assert 0.75 < p['se'] / m['se'] < 1.25, (p['se'], m['se'])"
fails "--poisson with --cluster: usage error" 2 "two ways to resample: give one" "boot --cluster a --poisson </dev/null"
fails "boot --cluster on a column that is not there: named" 1 "cluster column 'nope' is not in the stream" "boot -B 5 --cluster nope --quiet <'$work/sp.mp'"

# boot --range and --merge: parts give the same bytes as one run
gen -n 4000 --seed 9 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence --quiet |
	weight -e ate,att --quiet | match --quiet >"$work/r.mp"
boot -B 90 --seed 7 --ci bca --quiet <"$work/r.mp" >"$work/full.mp"
boot -B 90 --seed 7 --ci bca --range 1-20 --quiet <"$work/r.mp" >"$work/p1.mp"
boot -B 90 --seed 7 --ci bca --range 21-77 -j 1 --quiet <"$work/r.mp" >"$work/p2.mp"
boot -B 90 --seed 7 --ci bca --range 78-90 --quiet <"$work/r.mp" >"$work/p3.mp"
boot --merge "$work/p3.mp" "$work/p1.mp" "$work/p2.mp" --quiet >"$work/merged.mp"
same "boot --range in three parts, --merge in any order: the same bytes as one run (BCa too)" "$work/full.mp" "$work/merged.mp"
port=$(free_port)
boot --worker ">tcp://127.0.0.1:$port" --quiet & w1=$!
boot -B 90 --seed 7 --ci bca --range 21-77 -j 0 --workers "@tcp://127.0.0.1:$port" --quiet <"$work/r.mp" >"$work/p2w.mp"
wait $w1
boot --merge "$work/p1.mp" "$work/p2w.mp" "$work/p3.mp" --quiet >"$work/mergedw.mp"
same "  ... a part computed by a remote worker fits in" "$work/full.mp" "$work/mergedw.mp"
fails "--merge with a gap: refused, naming the missing replicates" 1 "replicates 21-77 are in no part" \
	"boot --merge '$work/p1.mp' '$work/p3.mp'"
fails "--merge with an overlap: refused" 1 "overlaps" "boot --merge '$work/p1.mp' '$work/p1.mp' '$work/p2.mp' '$work/p3.mp'"
boot -B 90 --seed 8 --ci bca --range 21-77 --quiet <"$work/r.mp" >"$work/other-seed.mp"
fails "--merge with a part of another run (seed): refused, naming the key" 1 "differ in 'seed'" \
	"boot --merge '$work/p1.mp' '$work/other-seed.mp' '$work/p3.mp'"
gen -n 4000 --seed 10 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence --quiet |
	weight -e ate,att --quiet | match --quiet | boot -B 90 --seed 7 --ci bca --range 21-77 --quiet >"$work/other-data.mp"
fails "--merge with a part of another stream: refused by its digest" 1 "differ in 'digest'" \
	"boot --merge '$work/p1.mp' '$work/other-data.mp' '$work/p3.mp'"
fails "--merge of a stream that is no part: named" 1 "is not a part of a bootstrap" "boot --merge '$work/full.mp'"
fails "--range past -B: usage error" 2 "--range 80-120 goes past -B 100" "boot -B 100 --range 80-120 </dev/null"
fails "--range malformed: usage error" 2 "--range wants A-B" "boot --range 5 </dev/null"
fails "operands without --merge: usage error" 2 "files are for --merge" "boot /tmp/x </dev/null"
if command -v parallel >/dev/null 2>&1; then
	"$TESTS/../pipelines/parallel-boot.sh" 6000 60 3 >"$work/par.txt" 2>"$work/par.err"
	check "pipelines/parallel-boot.sh: GNU parallel runs the slices, the merge reports intervals" \
		grep -Eq '^  ipw_ate +weight +ate +[-+][0-9.]+ +[0-9.]+ +95% \[' "$work/par.txt"
else
	skip "pipelines/parallel-boot.sh" "GNU parallel is not installed (apt-get install parallel)"
fi

# match: the Abadie-Imbens (2016) SE beside the 2006 one, or why not
gen -n 3000 --seed 4 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence --quiet |
	match --quiet | report --json >"$work/ai.json"
check "match_att has se_ai2016 (the propensity's estimation included) near its AI 2006 SE" $PY -c "
import json; r = [r for r in json.load(open('$work/ai.json'))['results'] if r['name'] == 'match_att'][0]
assert 0.7 < r['se_ai2016'] / r['se'] < 1.3, r"
gen -n 3000 --seed 4 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence --l2 1 --quiet |
	match --quiet | report --json >"$work/ai2.json"
check "  ... a penalised model gets none, and says why" $PY -c "
import json; r = [r for r in json.load(open('$work/ai2.json'))['results'] if r['name'] == 'match_att'][0]
assert 'se_ai2016' not in r and r['se_ai2016_why'] == 'the propensity model is penalised (--l2)', r"
# a covariate of the propensity model altered after fitps (a foreign stage
# between): a missing value, or one value for every row, leaves no SE and
# says why (match still matches, exit 0)
gen -n 3000 --seed 4 | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence \
	--quiet >"$work/ai-fit.mp"
ai_alter() { # WHAT (nan: row 7's query_confidence; const: every row's 0.5) OUT
	$PY -c "
import array, sys, msgpack
out = sys.stdout.buffer
for m in msgpack.Unpacker(sys.stdin.buffer, raw=False):
    if m['kind'] == 'batch':
        q = array.array('d', m['columns']['query_confidence'])
        for i in (range(7, 8) if sys.argv[1] == 'nan' else range(len(q))):
            q[i] = float('nan') if sys.argv[1] == 'nan' else 0.5
        m['columns']['query_confidence'] = q.tobytes()
    out.write(msgpack.packb(m, use_bin_type=True))" "$1" <"$work/ai-fit.mp" | $PY "$TESTS/py/reseal.py" |
		match --quiet | report --json >"$2"
}
ai_alter nan "$work/ai3.json"
check "  ... a covariate missing after fitps: none, naming the column and row" $PY -c "
import json; r = [r for r in json.load(open('$work/ai3.json'))['results'] if r['name'] == 'match_att'][0]
assert 'se_ai2016' not in r and r['se_ai2016_why'] == \"the propensity model's columns cannot be read: covariate 'query_confidence' has 1 missing, NaN or infinite values (the first at row 7, counting from 0)\", r"
ai_alter const "$work/ai4.json"
check "  ... a covariate made constant after fitps: none, the information matrix singular" $PY -c "
import json; r = [r for r in json.load(open('$work/ai4.json'))['results'] if r['name'] == 'match_att'][0]
assert 'se_ai2016' not in r and r['se_ai2016_why'] == \"the adjustment's information matrix is singular\", r"
