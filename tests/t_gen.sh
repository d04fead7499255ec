# gen: deterministic whatever the batch size; the model's rates; options.
. "$TESTS/lib.sh"

gen -n 100000 --seed 7 --batch-rows 65536 | mp2csv >"$work/a.csv"
gen -n 100000 --seed 7 --batch-rows 999 | mp2csv >"$work/b.csv"
same "same seed, different batch sizes: identical values" "$work/a.csv" "$work/b.csv"
gen -n 100000 --seed 8 | mp2csv >"$work/c.csv"
check "another seed, other values" bash -c "! cmp -s '$work/a.csv' '$work/c.csv'"
check "the model's rates hold (tier shares, opt-in rates, effect)" $PY - "$work/a.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
n = len(rows)
assert n == 100000
share = {t: sum(r["engagement_tier"] == t for r in rows) / n for t in ("light", "medium", "heavy")}
for t, want in (("light", .55), ("medium", .30), ("heavy", .15)):
    assert abs(share[t] - want) < 0.01, (t, share[t])
for t, want in (("light", .12), ("medium", .35), ("heavy", .65)):
    g = [r for r in rows if r["engagement_tier"] == t]
    rate = sum(int(r["opt_in_agent_mode"]) for r in g) / len(g)
    assert abs(rate - want) < 0.015, (t, rate)
qc = [float(r["query_confidence"]) for r in rows]
assert abs(sum(qc) / n - 5 / 7) < 0.005 and min(qc) >= 0 and max(qc) <= 1
assert all(len(r["query_confidence"].split(".")[-1]) <= 4 for r in rows)
# within tier, the difference in completion is the effect, 0.08
light = [r for r in rows if r["engagement_tier"] == "light"]
def rate(g): return sum(int(r["task_completed"]) for r in g) / len(g)
d = rate([r for r in light if r["opt_in_agent_mode"] == "1"]) - rate([r for r in light if r["opt_in_agent_mode"] == "0"])
assert abs(d - 0.08) < 0.025, d
PY
gen -n 10 | mpcat | head -1 >"$work/head.json"
check "meta.truth holds the true ATE and ATT" grep -q '"truth":{"ate":0.08,"att":0.08' "$work/head.json"
check "roles are set for the study" grep -q '"roles":{"treatment":"opt_in_agent_mode","outcome":"task_completed","covariates":\["engagement_tier","query_confidence"\]}' "$work/head.json"
gen -n 0 | mpcat >"$work/zero.json"
check "-n 0 gives a head and an end" test "$(tail -1 "$work/zero.json")" = '{"kind":"end","rows":0,"batches":0}'
check "--help prints usage and an example, exit 0" bash -c "gen --help | grep -q 'example:'"
fails "a bad -n is a usage error" 2 "--rows wants a whole number, not 'many'" "gen -n many"
fails "an unknown option is a usage error" 2 "try 'gen --help'" "gen --frobnicate"
fails "a stray argument is a usage error" 2 "unexpected argument 'extra'" "gen extra"
