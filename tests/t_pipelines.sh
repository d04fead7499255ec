# The ready flows in pipelines/, and swapping a stage for a foreign one.
. "$TESTS/lib.sh"
top="$TESTS/.."
export BOOT_REPS=50 # the flows bootstrap; fewer replicates keep the test short

"$top/pipelines/optin-study.sh" 20000 5 >"$work/study.txt"
check "optin-study.sh runs gen | fitps | weight | match | balance | boot | report" grep -q 'flow: gen | fitps | weight | match | balance | boot' "$work/study.txt"
check "  ... and reports IPW, matching and balance" grep -q 'match_att' "$work/study.txt"
"$top/pipelines/optin-csv.sh" "$REF_CSV" --l2 1 >"$work/csv.txt"
check "optin-csv.sh runs the flow on the reference CSV" grep -Eq 'ipw_ate +weight +ate +\+0\.0849' "$work/csv.txt"
"$top/pipelines/distributed.sh" 20000 50 >"$work/dist.txt"
check "distributed.sh: the flow over tcp with two boot workers" grep -Eq 'ipw_ate +weight +ate +[-+]0\.[0-9]+ +[0-9.]+ +95% \[' "$work/dist.txt"
fails "optin-csv.sh without a file is a usage error" 2 "usage:" "'$top/pipelines/optin-csv.sh'"

if ! $PY -c 'import sklearn' 2>/dev/null; then
	skip "foreign gradient-boosting fitps" "python3-sklearn is not installed (make test-deps installs it)"
	exit 0
fi
csv2mp "$REF_CSV" | $PY "$top/pipelines/foreign-fitps.py" -t opt_in_agent_mode \
	-x engagement_tier,query_confidence | weight -y task_completed -e ate,att | match |
	balance | report --json >"$work/foreign.json"
foreign_rc=$?
check "a Python stage swapped in for fitps: the flow runs to the end (exit $foreign_rc)" test "$foreign_rc" -eq 0
check "  ... its ps_model result and recipe entry travel on" $PY - "$work/foreign.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = [(r["stage"], r["name"]) for r in d["results"]]
assert ("foreign-fitps", "ps_model") in names, names
assert [s["stage"] for s in d["recipe"]] == ["foreign-fitps", "weight", "match", "balance"]
ate = [r for r in d["results"] if r["name"] == "ipw_ate"][0]["estimate"]
# a flexible model of the same confounders lands near the logistic one
assert abs(ate - 0.085) < 0.01, ate
PY
fails "the foreign stage refuses a stream without an end" 1 "without an end message" \
	"$PY '$TESTS/py/mkstream.py' no-end | $PY '$top/pipelines/foreign-fitps.py' -t n -x x"

for p in "$top"/pipelines/*.sh; do
	check "$(basename "$p") --help says what it runs, exit 0" bash -c \
		"bash '$p' --help >'$work/help.txt' && test \$(wc -l <'$work/help.txt') -ge 2"
done
check "foreign-fitps.py --help, exit 0" bash -c "$PY '$top/pipelines/foreign-fitps.py' --help | grep -q usage"
