# Several outcomes in one flow (weight, match, aipw -y a,b): each outcome's
# results are those of a flow with that outcome alone, bit for bit, boot's
# intervals included; names, roles, report and sensitivity follow; the
# refusals.
. "$TESTS/lib.sh"
X=engagement_tier,past_engagement_score,account_age_months,feature_usage_count

# the realistic scenario with a second, continuous outcome (revenue)
gen --scenario realistic -n 4000 --seed 3 --quiet | mp2csv --quiet | $PY -c "
import csv, random, sys
random.seed(1)
r = csv.DictReader(sys.stdin)
w = csv.DictWriter(sys.stdout, fieldnames=r.fieldnames + ['revenue'], lineterminator='\n')
w.writeheader()
for x in r:
    x['revenue'] = '%.2f' % (10 + 5 * float(x['task_completed']) + 0.1 * float(x['past_engagement_score'])
                             + 3 * int(x['opt_in_agent_mode']) + random.gauss(0, 2))
    w.writerow(x)" >"$work/rev.csv"
csv2mp "$work/rev.csv" --quiet | fitps -t opt_in_agent_mode -y task_completed -x "$X" --quiet >"$work/f.mp"

weight -e ate,att -y task_completed,revenue --quiet <"$work/f.mp" |
	match -y task_completed,revenue --no-replace --adjust --adjust-family linear --quiet |
	aipw -y task_completed,revenue --family linear --quiet | tee "$work/multi.mp" |
	boot -B 30 --quiet | report --json >"$work/multi.json"
for y in task_completed revenue; do
	weight -e ate,att -y "$y" --quiet <"$work/f.mp" | match --no-replace --adjust --adjust-family linear --quiet |
		aipw --family linear --quiet | boot -B 30 --quiet | report --json >"$work/one-$y.json"
done
check "-y task_completed,revenue: each outcome's estimates, SEs and boot intervals are its own flow's, bit for bit" \
	$PY - "$work/multi.json" "$work/one-task_completed.json" "$work/one-revenue.json" <<'PY'
import json, sys
multi = {x["name"]: x for x in json.load(open(sys.argv[1]))["results"]}
for path, suffix, outcome in ((sys.argv[2], "", "task_completed"), (sys.argv[3], ".revenue", "revenue")):
    one = {x["name"]: x for x in json.load(open(path))["results"]}
    names = [k for k in one if "estimate" in one[k]]
    assert len(names) == 9, names
    for k in names:
        m = multi[k + suffix]
        assert m["outcome"] == outcome, (k, m.get("outcome"))
        for f in ("estimate", "se", "ci", "n", "replicates"):
            assert m[f] == one[k][f], (k, f, m[f], one[k][f])
boot = multi["boot"]
assert boot["outcomes"] == ["task_completed", "revenue"] and len(boot["estimates"]) == 18, boot
PY
check "  ... the outcome role stays the first; the recipe lists both; aipw adds y1_hat.revenue and y0_hat.revenue" \
	$PY - "$work/multi.mp" <<'PY'
import json, subprocess, sys
d = json.loads(subprocess.run(["report", "--json"], stdin=open(sys.argv[1]), capture_output=True).stdout)
assert d["roles"]["outcome"] == "task_completed", d["roles"]
assert [e.get("outcomes") for e in d["recipe"] if e["stage"] in ("weight", "match", "aipw")] == \
    [["task_completed", "revenue"]] * 3, d["recipe"]
cols = subprocess.run(["mp2csv", "--quiet"], stdin=open(sys.argv[1]), capture_output=True, text=True).stdout.split("\n")[0].split(",")
assert {"y1_hat", "y0_hat", "y1_hat.revenue", "y0_hat.revenue", "w_ate", "w_att", "w_match", "match_set"} <= set(cols), cols
PY
check "  ... report's rerun line gives -y task_completed,revenue" bash -c \
	"report <'$work/multi.mp' 2>/dev/null | grep -qE '\\| weight -e ate,att -y task_completed,revenue|\\| weight.* -y task_completed,revenue'"
gen -n 3000 --seed 4 --quiet | fitps "${STUDY[@]}" --quiet | weight -y task_completed,user_id --quiet | report >"$work/truth.txt"
check "report judges only the generated outcome against gen's truth (truth and bias '-' for ipw_ate.user_id)" bash -c \
	"grep -E '^  ipw_ate\\.user_id .* -  +-\$' '$work/truth.txt' && grep -E '^  ipw_ate  .*\\+0\\.0800' '$work/truth.txt'"
weight -e ate -y task_completed,revenue --quiet <"$work/f.mp" | sensitivity --quiet | report --json >"$work/sens.json"
check "sensitivity takes each estimate's own outcome: binary for task_completed, continuous for revenue" $PY -c "
import json
r = [x for x in json.load(open('$work/sens.json'))['results'] if x['name'] == 'sensitivity'][0]
kind = {e['estimate']: e['outcome'] for e in r['estimates']}
assert kind == {'naive': 'binary', 'ipw_ate': 'binary', 'naive.revenue': 'continuous', 'ipw_ate.revenue': 'continuous'}, kind"

# --- refusals ------------------------------------------------------------------
fails "-y naming one column twice: a usage error" 2 "-y names 'revenue' twice" \
	"weight -y revenue,revenue <'$work/f.mp'"
fails "-y naming the treatment among the outcomes: a usage error" 2 "-y names 'opt_in_agent_mode', which is the treatment" \
	"weight -y task_completed,opt_in_agent_mode <'$work/f.mp'"
fails "-y naming a covariate among the outcomes: a usage error" 2 "-x names 'past_engagement_score', which is an outcome" \
	"weight -y task_completed,past_engagement_score <'$work/f.mp'"
fails "-y naming a column that is not there: said, with the columns there are" 1 "outcome column 'nope' is not in the stream" \
	"match -y task_completed,nope <'$work/f.mp'"
fails "aipw --family auto that differs between the outcomes: a usage error (the recipe holds one)" 2 \
	"--family auto is logistic for 'task_completed' but not for 'revenue'" \
	"aipw -y task_completed,revenue <'$work/f.mp'"
fails "match --adjust with --adjust-family auto that differs: a usage error" 2 \
	"--adjust-family auto is logistic for 'task_completed' but not for 'revenue'" \
	"match -y task_completed,revenue --adjust <'$work/f.mp'"
fails "boot --workers with several outcomes: said not built" 1 "several outcomes .*not built for several yet" \
	"boot -B 10 --workers '@tcp://127.0.0.1:0' <'$work/multi.mp'"
