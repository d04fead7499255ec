# One common-support rule for every later stage (fitps --common-support,
# weight --trim): the rows MatchIt's discard = "both" discards (R's own,
# recorded and rerun when R is here), the band by numpy, every later n, boot
# re-applying the rule to each resample, the rows left out listed
# (--dropped), and the refusals.
. "$TESTS/lib.sh"
LALONDE="$DATA/lalonde.csv"
X=age,educ,race,married,nodegree,re74,re75

# --- MatchIt's discard = "both" on LaLonde --------------------------------
# R (MatchIt 4.5.1): matchit(treat ~ X, distance = ps_glm, method =
# "nearest", ratio = k, discard = "both") discards these 65 rows (0-based),
# 8 of them treated, and gives ATT 443.7973110169, 233.1921950565 and
# 42.1522178531 for k = 1, 2, 3.
MATCHIT_DISCARDED="7 78 85 94 131 163 175 177 186 191 207 217 218 226 227 228 233 236 237 238 242 249 265 269 271 285 288 300 301 304 307 309 312 314 316 317 330 331 346 347 352 353 365 374 385 388 406 407 417 430 433 434 438 443 468 470 480 481 482 485 486 487 488 493 522"
csv2mp "$LALONDE" --quiet | fitps -t treat -y re78 -x "$X" --common-support minmax --quiet \
	--dropped "$work/ld.csv" >"$work/l.mp"
check "--common-support minmax leaves out the 65 rows MatchIt's discard = \"both\" discards (8 treated)" \
	$PY - "$work/ld.csv" "$work/l.mp" "$MATCHIT_DISCARDED" <<'PY'
import csv, json, subprocess, sys
rows = [int(r["row"]) for r in csv.DictReader(open(sys.argv[1]))]
assert rows == [int(x) for x in sys.argv[3].split()], rows
d = json.loads(subprocess.run(["report", "--json"], stdin=open(sys.argv[2]), capture_output=True).stdout)
cs = [r for r in d["results"] if r["name"] == "common_support"][0]
assert cs["outside"] == {"treated": 8, "control": 57} and cs["rule"] == "minmax", cs
assert d["roles"]["support"] == "in_support", d["roles"]
PY
check "  ... each listed with its CSV line and the band" bash -c \
	"sed -n 2p '$work/ld.csv' | grep -q '^7,9,\"outside the common support (minmax): ps not in \\[0.0249517'"
$PY - "$LALONDE" "$MATCHIT_DISCARDED" >"$work/lsub.csv" <<'PY'
import csv, sys
r = list(csv.DictReader(open(sys.argv[1])))
drop = {int(x) for x in sys.argv[2].split()}
w = csv.DictWriter(sys.stdout, fieldnames=list(r[0].keys()), lineterminator="\n")
w.writeheader()
for i, x in enumerate(r):
    if i not in drop:
        w.writerow(x)
PY
for k in 1 2 3; do
	match -k "$k" --no-replace --ties matchit --ps ps_glm --quiet <"$work/l.mp" | report --json >"$work/lm$k.json"
	$PY "$TESTS/py/matchit_nn.py" "$work/lsub.csv" treat ps_glm re78 "$k" >"$work/lref$k.json"
	$PY "$TESTS/py/matchit_nn.py" "$work/lsub.csv" treat ps_glm re78 "$k" --int-abs >"$work/labs$k.json"
done
check "  ... match then runs on the 549 rows inside: the ATT of MatchIt's documented algorithm there (1e-9), k 1 to 3" \
	$PY - "$work" <<'PY'
import json, sys
for k in (1, 2, 3):
    r = [x for x in json.load(open("%s/lm%d.json" % (sys.argv[1], k)))["results"] if x["name"] == "match_att"][0]
    ref = json.load(open("%s/lref%d.json" % (sys.argv[1], k)))
    assert r["n"] == 549 and abs(r["estimate"] - ref["estimate"]) < 1e-9, (k, r["estimate"], ref["estimate"])
PY
check "  ... whose MatchIt 4.5.1 emulation (integer abs) there gives R's own discard figures (1e-9)" \
	$PY - "$work" <<'PY'
import json, sys
want = {1: 443.7973110169, 2: 233.1921950565, 3: 42.1522178531}
for k in (1, 2, 3):
    got = json.load(open("%s/labs%d.json" % (sys.argv[1], k)))["estimate"]
    assert abs(got - want[k]) < 1e-9, (k, got)
PY
if command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(MatchIt)' >/dev/null 2>&1; then
	Rscript - "$LALONDE" >"$work/mi.txt" 2>/dev/null <<'R'
suppressMessages(library(MatchIt))
d <- read.csv(commandArgs(TRUE)[1])
m <- matchit(treat ~ age + educ + race + married + nodegree + re74 + re75, data = d,
             distance = d$ps_glm, method = "nearest", ratio = 2, discard = "both")
md <- match.data(m)
att <- with(md, weighted.mean(re78[treat == 1], weights[treat == 1]) -
            weighted.mean(re78[treat == 0], weights[treat == 0]))
cat(which(m$discarded) - 1, "\n")
cat(sprintf("%.10f", att), "\n")
R
	check "MatchIt run here: the same discarded rows and ratio-2 ATT as recorded" bash -c \
		"[ \"\$(sed -n 1p '$work/mi.txt' | xargs)\" = '$MATCHIT_DISCARDED' ] && [ \"\$(sed -n 2p '$work/mi.txt' | xargs)\" = 233.1921950565 ]"
else
	skip "MatchIt discard rerun" "R's MatchIt is not installed (apt-get install r-cran-matchit); its figures are recorded above"
fi

# --- the band, the column and every later n, by hand ------------------------
gen --scenario no-overlap -n 8000 --seed 5 --quiet |
	fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence,account_type \
	--common-support minmax --quiet | weight -e ate,att --quiet | match --no-replace --quiet |
	aipw --formula engagement_tier,query_confidence --quiet | balance --quiet >"$work/n.mp"
mp2csv --quiet <"$work/n.mp" >"$work/n.csv"
report --json <"$work/n.mp" >"$work/n.json"
check "minmax: numpy's band [max of the minima, min of the maxima]; every later stage's n is the rows inside" \
	$PY - "$work/n.csv" "$work/n.json" <<'PY'
import csv, json, sys
import numpy as np
r = list(csv.DictReader(open(sys.argv[1])))
ps = np.array([float(x["ps"]) for x in r]); t = np.array([x["opt_in_agent_mode"] == "1" for x in r])
inside = np.array([x["in_support"] == "true" for x in r])
lo, hi = max(ps[t].min(), ps[~t].min()), min(ps[t].max(), ps[~t].max())
assert (inside == ((ps >= lo) & (ps <= hi))).all() and 0 < (~inside).sum() < len(r), (~inside).sum()
res = {x["name"]: x for x in json.load(open(sys.argv[2]))["results"]}
assert res["common_support"]["band"] == [lo, hi], res["common_support"]
for name in ("naive", "ipw_ate", "ipw_att", "match_att", "gcomp_ate", "aipw_att", "balance"):
    assert res[name]["n"] == inside.sum(), (name, res[name]["n"], inside.sum())
# the rows outside: weight 0, no matched set, no prediction; kept in the stream
for x in (x for x, i in zip(r, inside) if not i):
    assert x["w_ate"] == "0" and x["w_att"] == "0" and x["w_match"] == "0", x
    assert x["match_set"] == "" and x["y1_hat"] == "", x
assert len(r) == 8000
PY
check "  ... the estimates are those on the rows inside alone (weight, match: the same numbers)" bash -c "
	mp2csv --quiet <'$work/n.mp' | $PY -c \"
import csv, sys
r = list(csv.DictReader(sys.stdin))
w = csv.DictWriter(sys.stdout, fieldnames=['opt_in_agent_mode', 'task_completed', 'ps'], lineterminator='\\n', extrasaction='ignore')
w.writeheader()
[w.writerow(x) for x in r if x['in_support'] == 'true']\" >'$work/inside.csv'
	csv2mp '$work/inside.csv' --quiet | weight -t opt_in_agent_mode -y task_completed --ps ps -e ate,att --quiet |
		match --no-replace --quiet | report --json >'$work/inside.json'
	$PY -c \"
import json
a = {x['name']: x['estimate'] for x in json.load(open('$work/n.json'))['results'] if 'estimate' in x}
b = {x['name']: x['estimate'] for x in json.load(open('$work/inside.json'))['results'] if 'estimate' in x}
for k in ('ipw_ate', 'ipw_att', 'match_att', 'naive'):
    assert abs(a[k] - b[k]) < 1e-12, (k, a[k], b[k])\""
check "report shows the rule, the band and the units left out" bash -c \
	"report <'$work/n.mp' 2>/dev/null | grep -E 'rule minmax \\(fitps\\): ps in \\[[0-9.]+, [0-9.]+\\]; outside: [0-9]+ treated, [0-9]+ controls, left out of every later stage'"

# --- one rule, two ways: fitps --common-support crump = weight --trim auto ----
# (the realistic scenario: continuous covariates, a crump band that bites)
gen --scenario realistic -n 8000 --seed 6 --quiet >"$work/g.mp"
RX=(-t opt_in_agent_mode -y task_completed -x engagement_tier,past_engagement_score,account_age_months,feature_usage_count)
fitps "${RX[@]}" --common-support crump --quiet <"$work/g.mp" |
	weight -e ate,att --quiet | match --quiet | boot -B 40 --quiet | report --json >"$work/c1.json"
fitps "${RX[@]}" --quiet <"$work/g.mp" |
	weight -e ate,att --trim auto --quiet | match --quiet | boot -B 40 --quiet | report --json >"$work/c2.json"
check "crump at fitps and weight --trim auto: the same estimates and n, the same bootstrap intervals (1e-12)" \
	$PY - "$work/c1.json" "$work/c2.json" <<'PY'
import json, sys
a, b = ({x["name"]: x for x in json.load(open(f))["results"]} for f in sys.argv[1:3])
for k in ("ipw_ate", "ipw_att", "match_att"):
    assert a[k]["n"] == b[k]["n"] and a[k]["estimate"] == b[k]["estimate"], k
    for f in ("ci", "se"):  # sums over cells with and without the zero weights: 1e-12
        x, y = (v if isinstance(v, list) else [v] for v in (a[k][f], b[k][f]))
        assert all(abs(p - q) <= 1e-12 * max(1, abs(q)) for p, q in zip(x, y)), (k, f, x, y)
assert a["match_att"]["n"] < 8000
PY
fitps "${RX[@]}" --quiet <"$work/g.mp" >"$work/g-fit.mp"
band=$(weight --trim auto --quiet <"$work/g-fit.mp" | report --json | $PY -c "import json,sys; r=[x for x in json.load(sys.stdin)['results'] if x['name']=='ipw_ate'][0]; print('%.17g,%.17g' % tuple(r['trim_band']))")
weight --trim "$band" -e ate,att --quiet <"$work/g-fit.mp" | match --quiet | boot -B 40 --quiet | report --json >"$work/c3.json"
fitps "${RX[@]}" --quiet <"$work/g.mp" | weight -e ate,att --trim auto --quiet | match --quiet |
	boot -B 40 --matching refit --quiet | report --json >"$work/c4.json"
weight --trim "$band" -e ate,att --quiet <"$work/g-fit.mp" | match --quiet |
	boot -B 40 --matching refit --quiet | report --json >"$work/c5.json"
check "  ... boot chooses the band again in each resample: a fixed band at the full data's gives the same estimates, other intervals (refitted match too)" \
	$PY - "$work/c2.json" "$work/c3.json" "$work/c4.json" "$work/c5.json" <<'PY'
import json, sys
a, b, c, d = ({x["name"]: x for x in json.load(open(f))["results"]} for f in sys.argv[1:5])
for k in ("ipw_ate", "match_att"):
    assert abs(a[k]["estimate"] - b[k]["estimate"]) < 1e-12 and a[k]["n"] == b[k]["n"], k
assert a["ipw_ate"]["ci"] != b["ipw_ate"]["ci"] and c["match_att"]["ci"] != d["match_att"]["ci"]
# the weighted bootstrap holds the full data's matching, and its support, fixed
assert a["match_att"]["ci"] == b["match_att"]["ci"]
PY

# --- weight --trim: the issue's complaint, match matching the trimmed --------
weight --trim 0.1,0.9 --dropped "$work/trimmed.csv" --dropped-id user_id --quiet <"$work/g-fit.mp" |
	match --pairs "$work/pairs.csv" --quiet | report --json >"$work/t.json"
check "weight --trim 0.1,0.9: match leaves the trimmed out (no pair holds one), and its n is the rows inside" \
	$PY - "$work/t.json" "$work/trimmed.csv" "$work/pairs.csv" <<'PY'
import csv, json, sys
res = {x["name"]: x for x in json.load(open(sys.argv[1]))["results"]}
trimmed = {int(r["row"]) for r in csv.DictReader(open(sys.argv[2]))}
ids = {r["user_id"] for r in csv.DictReader(open(sys.argv[2]))}
assert trimmed and ids == {str(i) for i in trimmed}, "gen's user_id is the row"
pairs = list(csv.DictReader(open(sys.argv[3])))
assert pairs and not any(int(p["treated_row"]) in trimmed or int(p["control_row"]) in trimmed for p in pairs)
tr = res["ipw_ate"]["trimmed"]
assert tr["treated"] + tr["control"] == len(trimmed), (tr, len(trimmed))
assert res["match_att"]["n"] == 8000 - len(trimmed) == res["ipw_ate"]["n"], (res["match_att"]["n"], len(trimmed))
assert all(r["reason"].startswith("trimmed: ps not in [0.1, 0.9") for r in csv.DictReader(open(sys.argv[2])))
PY

# --- boot re-applies each rule in each resample --------------------------------
for rule in minmax crump 0.1,0.9; do
	fitps "${RX[@]}" --common-support "$rule" --quiet <"$work/g.mp" |
		weight -e ate,att --quiet | match --quiet | aipw --quiet >"$work/b.mp"
	check "boot replays --common-support $rule: its full-data replay gives every estimate (match weighted and refitted)" bash -c "
		boot -B 20 --quiet <'$work/b.mp' | report --json >'$work/b1.json' &&
		boot -B 20 --matching refit --quiet <'$work/b.mp' | report --json >'$work/b2.json' &&
		$PY -c \"
import json
for f in ('$work/b1.json', '$work/b2.json'):
    r = {x['name']: x for x in json.load(open(f))['results']}
    for k in ('ipw_ate', 'ipw_att', 'match_att', 'aipw_ate', 'aipw_att'):
        assert r[k]['replicates'] == 20 and r[k]['ci'][0] < r[k]['estimate'] < r[k]['ci'][1], (k, r[k])\""
done

# --- the rows left out, listed, and row numbers in messages --------------------
csv2mp "$DATA/lalonde_missing.csv" --quiet | fitps -t treat -y re78 -x age,educ,re74 --drop-missing \
	--common-support minmax --dropped "$work/miss.csv" --quiet >"$work/miss.mp"
check "--dropped with --drop-missing and --common-support: each row once, its CSV line and why" \
	$PY - "$work/miss.csv" "$DATA/lalonde_missing.csv" "$work/miss.mp" <<'PY'
import csv, json, subprocess, sys
lst = list(csv.DictReader(open(sys.argv[1])))
src = list(csv.DictReader(open(sys.argv[2])))
miss = [r for r in lst if r["reason"].startswith("missing: ")]
want = [i for i, x in enumerate(src) if "NA" in (x["educ"], x["re74"])]
assert [int(r["row"]) for r in miss] == want, (len(miss), len(want))
assert all(int(r["line"]) == int(r["row"]) + 2 for r in lst)
assert miss[0]["reason"] == "missing: educ" and src[int(miss[0]["row"])]["educ"] == "NA"
out = [r for r in lst if r["reason"].startswith("outside")]
d = json.loads(subprocess.run(["report", "--json"], stdin=open(sys.argv[3]), capture_output=True).stdout)
cs = [r for r in d["results"] if r["name"] == "common_support"][0]
assert len(out) == cs["outside"]["treated"] + cs["outside"]["control"] > 0, (len(out), cs)
assert len({r["row"] for r in lst}) == len(lst)
PY
gen -n 3000 --seed 8 --quiet | fitps "${STUDY[@]}" --quiet |
	match --caliper 0.001 --dropped "$work/um.csv" --dropped-id user_id --quiet >"$work/um.mp"
check "match --dropped: the treated units no control was found for (w_match 0), with their ids" \
	$PY - "$work/um.csv" "$work/um.mp" <<'PY'
import csv, subprocess, sys
lst = list(csv.DictReader(open(sys.argv[1])))
rows = list(csv.DictReader(subprocess.run(["mp2csv", "--quiet"], stdin=open(sys.argv[2]), capture_output=True, text=True).stdout.splitlines()))
want = [i for i, x in enumerate(rows) if x["opt_in_agent_mode"] == "1" and float(x["w_match"]) == 0]
assert want and [int(r["row"]) for r in lst] == want, (len(lst), len(want))
assert all(r["user_id"] == rows[int(r["row"])]["user_id"] and r["reason"] == "unmatched: no control within the caliper" for r in lst)
PY
printf 't,x,y\n0,0.1,1\n1,0.9,0\n0,0.2,1\n1,0.95,1\n0,0.3,0\n1,0.5,1\n0,0.45,1\n1,0.4,0\n0,0.6,NaN\n1,0.55,1\n' >"$work/lines.csv"
fails "a message of a later stage names the stream's row and CSV line, not its place among the rows inside" 1 \
	"outcome column 'y' has 1 missing, NaN or infinite values \\(the first at row 8, line 10 of lines.csv\\)" \
	"csv2mp '$work/lines.csv' --quiet | fitps -t t -y y -x x --common-support 0.2,0.8 --quiet | weight"

# --- refusals -------------------------------------------------------------------
fitps "${RX[@]}" --common-support crump --quiet <"$work/g.mp" >"$work/cs.mp"
fails "a second model over a common support is refused (its split would be wrong)" 1 \
	"the stream has a common support already \\(column 'in_support'.*fit the propensity model before the rule" \
	"fitps ${RX[*]} --ps-name ps2 <'$work/cs.mp'"
fails "--common-support with --model: a usage error" 2 "--common-support needs the fit's propensities" \
	"fitps --model /nonexistent --common-support minmax <'$work/g.mp'"
fails "--common-support with an unknown rule: a usage error" 2 "--common-support" \
	"fitps ${RX[*]} --common-support widest <'$work/g.mp'"
fails "a band that keeps no unit of a group: said" 1 "keeps \\[0.001, 0.002\\]: no (treated|control) unit is inside it" \
	"fitps ${RX[*]} --common-support 0.001,0.002 <'$work/g.mp'"
fails "weight --dropped without --trim: a usage error" 2 "--dropped lists the rows --trim leaves out" \
	"weight --dropped '$work/x.csv' <'$work/g-fit.mp'"
fails "--dropped-id without --dropped: a usage error" 2 "--dropped-id names the rows of --dropped" \
	"match --dropped-id user_id <'$work/g-fit.mp'"
$PY - >"$work/badsupport.mp" <<'PY'
import msgpack, sys
cols = [{"name": "t", "type": "i64"}, {"name": "y", "type": "f64"}, {"name": "ps", "type": "f64"},
        {"name": "in_support", "type": "f64"}]
roles = {"treatment": "t", "outcome": "y", "ps": "ps", "covariates": [], "support": "in_support"}
out = sys.stdout.buffer
out.write(msgpack.packb({"kind": "head", "version": 1, "columns": cols, "roles": roles, "recipe": [], "meta": {}}))
out.write(msgpack.packb({"kind": "batch", "rows": 2, "columns": {"t": [0, 1], "y": [1.0, 0.0], "ps": [0.4, 0.6], "in_support": [1.0, 1.0]}}))
out.write(msgpack.packb({"kind": "end", "rows": 2, "batches": 1}))
PY
fails "a support role naming a column that is not bool: refused" 1 "the common support's column 'in_support' is f64: it must be bool" \
	"weight <'$work/badsupport.mp'"
$PY - "$work/badsupport.mp" >"$work/holesupport.mp" <<'PY'
import msgpack, sys
cols = [{"name": "t", "type": "i64"}, {"name": "y", "type": "f64"}, {"name": "ps", "type": "f64"},
        {"name": "in_support", "type": "bool"}]
roles = {"treatment": "t", "outcome": "y", "ps": "ps", "covariates": [], "support": "in_support"}
out = sys.stdout.buffer
out.write(msgpack.packb({"kind": "head", "version": 1, "columns": cols, "roles": roles, "recipe": [], "meta": {}}))
out.write(msgpack.packb({"kind": "batch", "rows": 3, "columns": {"t": [0, 1, 1], "y": [1.0, 0.0, 1.0], "ps": [0.4, 0.6, 0.5], "in_support": [True, None, True]}}))
out.write(msgpack.packb({"kind": "end", "rows": 3, "batches": 1}))
PY
fails "a missing value in the support's column: refused with its row" 1 "the common support's column 'in_support' is missing at row 1" \
	"weight <'$work/holesupport.mp'"
fails "  ... and by a holding stage alike" 1 "the common support's column 'in_support' is missing at row 1" \
	"match <'$work/holesupport.mp'"
printf 't,y,ps,in_support\n0,1,0.4,1\n1,0,0.6,1\n1,1,0.5,0\n0,0,0.3,1\n' >"$work/stray.csv"
fails "weight --trim on a stream whose in_support is no support role: refused, not overwritten" 1 \
	"the stream has a column 'in_support' but no common support" \
	"csv2mp '$work/stray.csv' --quiet | weight -t t -y y --ps ps --trim 0.1,0.9"
fails "fitps --missing ind with --model: a usage error (the fills are the model's)" 2 "its fills are in the file; drop --missing" \
	"fitps --model /nonexistent --missing ind <'$work/g.mp'"
fails "fitps --dropped with --model: a usage error" 2 "--dropped lists the rows a fit leaves out: not with --model" \
	"fitps --model /nonexistent --dropped '$work/x.csv' <'$work/g.mp'"
$PY - "$work/cs.mp" >"$work/badrule.mp" <<'PY'
import msgpack, sys
msgs = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
for e in msgs[0]["recipe"]:
    if e["stage"] == "fitps":
        e["common_support"] = "widest"
out = sys.stdout.buffer
for m in msgs:
    if m["kind"] == "end":
        m.pop("crc32", None)  # the head changed: no check of the old bytes
    out.write(msgpack.packb(m))
PY
fails "boot on a recipe whose common_support is no rule: it says which entry and why" 1 \
	"recipe entry 2 \\(fitps\\) cannot be replayed: the recipe's fitps entry has a 'common_support' that is not minmax, crump or \\[lo, hi\\]" \
	"weight --quiet <'$work/badrule.mp' | boot -B 5"
