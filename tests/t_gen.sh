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

# -- scenarios (gen --scenario): each deterministic whatever the batch size,
# with its columns and the sample's truth; what each breaks is in
# t_breaks.sh
gen -n 200000 --seed 42 | cksum >"$work/ref.sum"
check "--scenario reference is the default, bytes unchanged" bash -c \
	"gen -n 200000 --seed 42 --scenario reference | cksum | cmp -s - '$work/ref.sum'"
# (cksum of the reference stream before the scenarios existed, 200,000 users,
# seed 42: the reference data's generator must not move. The end has since
# gained the results count and the CRC-32: checked with the end as it was.)
gen -n 200000 --seed 42 | $PY -c "
import sys, msgpack
raw = sys.stdin.buffer.read()
u = msgpack.Unpacker(raw=False); u.feed(raw); at = 0
for m in u:
    if m['kind'] == 'end':
        assert set(m) == {'kind', 'rows', 'batches', 'results', 'crc32'}, m
        sys.stdout.buffer.write(raw[:at] + msgpack.packb({'kind': 'end', 'rows': m['rows'], 'batches': m['batches']}))
    at = u.tell()" | cksum >"$work/ref-old-end.sum"
check "the reference stream is the same bytes as before the scenarios" \
	test "$(cut -d' ' -f1-2 "$work/ref-old-end.sum")" = "$(cat "$TESTS/golden/gen-reference-200000.cksum")"
for s in realistic hidden-confounder no-overlap misspecified spillover; do
	gen -n 30000 --seed 5 --scenario "$s" --batch-rows 4096 | mp2csv 2>/dev/null >"$work/$s-a.csv"
	gen -n 30000 --seed 5 --scenario "$s" --batch-rows 333 | mp2csv 2>/dev/null >"$work/$s-b.csv"
	same "$s: identical values whatever the batch size" "$work/$s-a.csv" "$work/$s-b.csv"
	gen -n 30000 --seed 5 --scenario "$s" | mpcat | head -1 >"$work/$s.head"
done
check "each scenario's head names it and holds the sample's truth, computed from the users' own effects" \
	$PY - "$work" <<'PY'
import csv, json, sys
work = sys.argv[1]
for s in ("realistic", "hidden-confounder", "no-overlap", "misspecified", "spillover"):
    h = json.loads(open(f"{work}/{s}.head").read())
    assert h["meta"]["scenario"] == s and h["recipe"][0]["scenario"] == s, h["meta"]
    t = h["meta"]["truth"]
    assert set(("ate", "att", "atc")) <= set(t), t
    if s == "realistic":
        assert t["att"] > t["ate"] + 0.01, t          # the effect varies: ATT != ATE
    else:
        assert abs(t["ate"] - 0.08) < 0.002 and abs(t["att"] - 0.08) < 0.002, (s, t)
PY
check "realistic: continuous and count covariates, almost every row distinct" $PY - "$work/realistic-a.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
keys = {(r["engagement_tier"], r["past_engagement_score"], r["account_age_months"], r["feature_usage_count"]) for r in rows}
assert len(keys) > 0.9 * len(rows), len(keys)
score = [float(r["past_engagement_score"]) for r in rows]
assert 0 <= min(score) and max(score) <= 100
assert all(int(r["account_age_months"]) >= 1 and int(r["feature_usage_count"]) >= 0 for r in rows)
# within a tier the effect is E x .5 / 1 / 1.75 (light / medium / heavy)
PY
check "no-overlap: enterprise accounts almost always opt in, restricted ones almost never" $PY - "$work/no-overlap-a.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
share = lambda a: sum(r["account_type"] == a for r in rows) / len(rows)
rate = lambda a: sum(int(r["opt_in_agent_mode"]) for r in rows if r["account_type"] == a) / sum(r["account_type"] == a for r in rows)
assert abs(share("enterprise") - 0.1) < 0.01 and abs(share("restricted") - 0.1) < 0.01
assert rate("enterprise") > 0.98 and rate("restricted") < 0.02, (rate("enterprise"), rate("restricted"))
PY
check "spillover: workspaces of 2 to 300 users, numbered in order" $PY - "$work/spillover-a.csv" <<'PY'
import collections, csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
size = collections.Counter(int(r["workspace_id"]) for r in rows)
ids = [int(r["workspace_id"]) for r in rows]
assert ids == sorted(ids) and ids[0] == 0
sizes = [size[w] for w in sorted(size)][:-1]   # the last may be cut at -n
assert min(sizes) >= 2 and max(sizes) <= 300 and max(sizes) > 50, (min(sizes), max(sizes))
PY
gen -n 100 --scenario hidden-confounder --reveal | mpcat | head -1 >"$work/reveal.head"
check "hidden-confounder --reveal adds the column motivation (not a covariate role)" \
	bash -c "grep -q '{\"name\":\"motivation\",\"type\":\"i64\"}' '$work/reveal.head' && ! grep -q '\"covariates\":\[[^]]*motivation' '$work/reveal.head'"
check "hidden-confounder without --reveal has no motivation column" bash -c "! grep -q '\"name\":\"motivation\"' '$work/hidden-confounder.head'"
fails "an unknown scenario is a usage error" 2 "unknown scenario 'chaos'" "gen --scenario chaos"
fails "--reveal outside the hidden-confounder scenario is a usage error" 2 "give --scenario hidden-confounder" "gen --reveal"
fails "--spillover outside the spillover scenario is a usage error" 2 "give --scenario spillover" "gen --spillover 0.15"
