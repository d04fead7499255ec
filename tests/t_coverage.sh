# The coverage study, small (make test-slow runs 500 data sets a scenario):
# 40 data sets of the reference scenario, every interval method; those
# psflow recommends must cover at least 85% of the time (the Monte Carlo
# error of 40 is about 3.4 points), and the run is deterministic.
. "$TESTS/lib.sh"
$PY "$TESTS/../tools/coverage/coverage.py" --scenario reference --datasets 40 --rows 1500 --boot 100 \
	--jobs 2 --json "$work/cov.json" >"$work/cov.txt" 2>"$work/cov.err"
rc=$?
check "the coverage study runs (exit $rc)" test "$rc" -eq 0
check "every estimate and interval method is in the table (14 rows)" \
	test "$($PY -c "import json; print(len(json.load(open('$work/cov.json'))))")" = 14
check "the recommended intervals cover the truth in at least 85% of 40 data sets" $PY - "$work/cov.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
rec = [r for r in rows if "plain bootstrap" not in r["method"]]
bad = [(r["estimate"], r["method"], r["coverage"]) for r in rec if r["coverage"] < 0.85]
assert not bad and len(rec) == 13, bad
PY
