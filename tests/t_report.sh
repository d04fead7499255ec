# report's pictures and the data the stages pass for them: ps_hist against
# the rows binned by hand (numpy), boot's draws, the command line that reruns
# the flow (run, and its results compared), the SVG and PNG files, the page
# on hostile names, and report's errors. The browser test is t_browser.sh.
. "$TESTS/lib.sh"

# a flow with every figure: trimmed weights, matching, balance, boot
gen -n 6000 --seed 5 --scenario realistic |
	fitps -x engagement_tier,past_engagement_score,account_age_months --quiet |
	weight -e ate,att --trim 0.05,0.9 --quiet | match --quiet | balance --quiet >"$work/flow.mp"
mp2csv <"$work/flow.mp" >"$work/flow.csv"
report --json <"$work/flow.mp" >"$work/flow.json"
check "ps_hist of fitps (counts), weight (w_ate, w_att sums) and match (w_match) equal the rows binned by hand" $PY - "$work/flow.json" "$work/flow.csv" <<'PY'
import json, sys, numpy as np
d = json.load(open(sys.argv[1]))
cols = open(sys.argv[2]).readline().strip().split(",")
x = np.genfromtxt(sys.argv[2], delimiter=",", skip_header=1, usecols=[cols.index(c) for c in
    ("opt_in_agent_mode", "ps", "w_ate", "w_att", "w_match")])
t, ps = x[:, 0], x[:, 1]
b = np.minimum((ps * 200).astype(int), 199)
weights = {"ps_model": None, "naive": None, "ipw_ate": x[:, 2], "ipw_att": x[:, 3], "match_att": x[:, 4]}
seen = 0
for r in d["results"]:
    if r["name"] not in weights:
        continue
    h = r["ps_hist"]
    w = weights[r["name"]]
    w = np.ones_like(ps) if w is None else w
    assert h["bins"] == 200
    for g, key in ((1, "treated"), (0, "control")):
        full = np.bincount(b[t == g], weights=w[t == g], minlength=200)
        got = np.zeros(200)
        got[h["first"]:h["first"] + len(h[key])] = h[key]
        assert np.allclose(got, full, rtol=1e-12, atol=1e-9), (r["name"], key)
    nz = np.nonzero(np.bincount(b, weights=w, minlength=200))[0]  # trimmed: weight 0
    assert h["first"] == nz[0] and h["first"] + len(h["treated"]) - 1 == nz[-1], r["name"]
    seen += 1
assert seen == 5, seen
PY
check "a fixed --trim is in the result as trim_band (for the overlap plot)" test \
	"$(jget "$work/flow.json" "[r['trim_band'] for r in d['results'] if r['name'] == 'ipw_ate'][0]")" = "[0.05, 0.9]"

# boot's draws: the first N replicates, the same at any -j
boot -B 40 -j 1 --draws 25 --quiet <"$work/flow.mp" >"$work/b1.mp"
boot -B 40 -j 2 --draws 25 --quiet <"$work/flow.mp" >"$work/b2.mp"
same "boot --draws: the same bytes at -j 1 and -j 2" "$work/b1.mp" "$work/b2.mp"
report --json <"$work/b1.mp" >"$work/b1.json"
check "boot keeps 25 draws per estimate, and the interval is the percentile of all 40" $PY - "$work/b1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
b = [r for r in d["results"] if r["name"] == "boot"][0]
assert b["draws_kept"] == 25 and set(b["draws"]) == set(b["estimates"]), b.keys()
for name, v in b["draws"].items():
    assert len(v) == 25, name
PY
boot -B 30 --draws 30 --quiet <"$work/flow.mp" | report --json >"$work/b30.json"
check "with every replicate kept, the draws' type-7 percentiles are boot's interval" $PY - "$work/b30.json" <<'PY'
import json, sys, numpy as np
d = json.load(open(sys.argv[1]))
b = [r for r in d["results"] if r["name"] == "boot"][0]
for r in d["results"]:
    if r["name"] in b["draws"]:
        v = np.array(b["draws"][r["name"]])
        assert np.allclose(np.quantile(v, [0.025, 0.975]), r["ci"], rtol=0, atol=1e-12), r["name"]
        assert abs(v.std(ddof=1) - r["se"]) < 1e-12, r["name"]
PY
boot -B 20 --draws 0 --quiet <"$work/flow.mp" | report --json >"$work/b0.json"
check "boot --draws 0 keeps none" test "$(jget "$work/b0.json" "[(r['draws'], r['draws_kept']) for r in d['results'] if r['name'] == 'boot'][0]")" = "({}, 0)"

# the command line: rerun it and get the same results
gen -n 4000 --seed 11 --scenario hidden-confounder --confounding 1.5 --reveal |
	fitps -t opt_in_agent_mode -y task_completed -x 'engagement_tier*query_confidence,motivation' --l2 2 --quiet |
	weight -e att,ato --truncate 0.99 --quiet | match -k 2 --caliper 0.3 --ties first --quiet |
	balance --sd treated --threshold 0.05 --quiet | sensitivity --alpha 0.1 --quiet |
	boot -B 20 --seed 9 --ci normal --level 0.9 --quiet >"$work/orig.mp"
report <"$work/orig.mp" | sed -n '/^Rerun this flow/,$p' | tail -n +2 | sed 's/^  //' >"$work/rerun.sh"
check "the text report's command line names every option given" \
	grep -q -- "--scenario hidden-confounder --confounding 1.5 --reveal" "$work/rerun.sh"
bash -o pipefail "$work/rerun.sh" >"$work/rerun.mp" 2>"$work/rerun.err"
check "  ... and runs" test $? -eq 0
report --json <"$work/orig.mp" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps([d["recipe"], d["results"]]))' >"$work/orig.res"
report --json <"$work/rerun.mp" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps([d["recipe"], d["results"]]))' >"$work/rerun.res"
same "  ... giving the same recipe and results, byte for byte" "$work/orig.res" "$work/rerun.res"
printf 'opt_in_agent_mode,task_completed,engagement_tier\n1,1,a\n0,0,b\n1,0,a\n0,1,b\n1,1,b\n0,0,a\n' |
	csv2mp | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier --quiet | weight --quiet | report >"$work/csv.txt"
check "a flow from csv2mp: the command line says the input came from outside" \
	grep -q "# the input came from outside psflow's recipe" "$work/csv.txt"

# the figures as files
mkdir -p "$work/svg" "$work/png"
report --svg "$work/svg" --png "$work/png" <"$work/b1.mp" >/dev/null
check "--svg writes the four figures, each well-formed XML with what it shows" $PY - "$work/svg" "$work/b1.json" <<'PY'
import json, sys, xml.etree.ElementTree as ET
d = json.load(open(sys.argv[2]))
ns = "{http://www.w3.org/2000/svg}"
def cls(e): return e.get("class", "").split()
bal = [r for r in d["results"] if r["name"] == "balance"][0]
love = ET.parse(sys.argv[1] + "/love.svg").getroot()
markers = [e for e in love.iter() if "marker" in cls(e)]
assert len(markers) == len(bal["table"]), (len(markers), len(bal["table"]))
assert {(m.get("data-covariate"), m.get("data-weighting")) for m in markers} == \
    {(r["covariate"], r["weight"]) for r in bal["table"]}
# rows ordered by raw imbalance, as cobalt does
raw = [m for m in markers if m.get("data-weighting") == "raw"]
s = [float(m.get("data-smd")) for m in raw]
assert s == sorted(s, reverse=True), s
over = ET.parse(sys.argv[1] + "/overlap.svg").getroot()
panels = [e for e in over.iter() if "panel" in cls(e)]
assert [p.get("data-weighting") for p in panels] == ["raw", "w_ate", "w_att", "w_match"], \
    [p.get("data-weighting") for p in panels]
for p in panels:
    c = [cls(e) for e in p.iter()]
    assert ["bar", "treated"] in c and ["bar", "control"] in c, p.get("data-weighting")
# the ps run from 0.011 to 0.81: the trim line at 0.05 is drawn on w_ate's and
# w_att's panels, the one at 0.9 is past the axis
assert sum(1 for e in over.iter() if "trim" in cls(e)) == 2
est = ET.parse(sys.argv[1] + "/estimates.svg").getroot()
names = [e.get("data-name") for e in est.iter() if "estimate" in cls(e)]
assert names == ["naive", "ipw_ate", "ipw_att", "match_att"], names
bs = ET.parse(sys.argv[1] + "/bootstrap.svg").getroot()
dist = [e for e in bs.iter() if "distribution" in cls(e)]
assert [e.get("data-draws") for e in dist] == ["25"] * 4
PY
check "--png writes each figure as a PNG twice the SVG's size, not blank" $PY - "$work/svg" "$work/png" "$TESTS/py" <<'PY'
import sys, xml.etree.ElementTree as ET
sys.path.insert(0, sys.argv[3])
import pngread
for name in ("estimates", "love", "overlap", "bootstrap"):
    svg = ET.parse("%s/%s.svg" % (sys.argv[1], name)).getroot()
    s = pngread.summary("%s/%s.png" % (sys.argv[2], name))
    assert s["width"] == 2 * int(svg.get("width")) and s["height"] == 2 * int(svg.get("height")), (name, s)
    assert s["ink"] > 0.02 and s["colours"] > 20, (name, s)
PY

# the page: hostile names are text, bytes that are not UTF-8 become U+FFFD
printf '%s\n' 'opt_in_agent_mode,task_completed,"<script>alert(1)</script>"' \
	'1,1,a&b' '0,0,b' '1,0,a&b' '0,1,b' '1,1,b' '0,0,a&b' '1,1,b' '0,0,b' >"$work/evil.csv"
printf '1,0,caf\351\n0,1,caf\351\n' >>"$work/evil.csv"
csv2mp "$work/evil.csv" | fitps -t opt_in_agent_mode -y task_completed -x '<script>alert(1)</script>' --quiet | weight --quiet |
	balance --quiet | report --html "$work/evil.html" >/dev/null
check "a column named <script> is escaped text on the page, and Latin-1 bytes are U+FFFD" $PY - "$work/evil.html" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
t = b.decode("utf-8")  # raises if the page is not UTF-8
assert "<script" not in t.lower(), "a script element"
assert "&lt;script&gt;alert(1)&lt;/script&gt;" in t
assert "caf\ufffd" in t and "a&amp;b" in t
PY
gen -n 3000 --seed 2 | fitps -t opt_in_agent_mode -x engagement_tier --quiet | report --html "$work/part.html" >/dev/null
check "a flow without weights, balance or boot: the page says what is missing and why" \
	bash -c "grep -c 'Not in this stream' '$work/part.html' | grep -qx 3 && grep -q 'no balance result (run balance)' '$work/part.html'"
report --html - <"$work/flow.mp" >"$work/stdout.html"
check "--html - writes the page to stdout, instead of the text" \
	bash -c "head -1 '$work/stdout.html' | grep -qx '<!DOCTYPE html>' && ! grep -q '^psflow report' '$work/stdout.html'"

fails "--svg into a directory that is not there: usage error" 2 "--svg $work/nope: not a directory" \
	"report --svg $work/nope <'$work/flow.mp'"
fails "--png likewise" 2 "--png $work/nope: not a directory" "report --png $work/nope <'$work/flow.mp'"
fails "--html into a file that cannot be made: exit 1, named" 1 "cannot write $work/nope/x.html" \
	"report --html $work/nope/x.html <'$work/flow.mp'"
fails "--html - with --json: usage error" 2 "--html - writes the page to stdout" \
	"report --html - --json <'$work/flow.mp'"

# a recipe the command line cannot rerun whole: a foreign stage, a saved model
gen -n 500 --seed 1 | $PY -c '
import sys, msgpack
out = sys.stdout.buffer
for m in msgpack.Unpacker(sys.stdin.buffer, raw=False, strict_map_key=False):
    if m.get("kind") == "head":
        m["recipe"].append({"stage": "dowhy-fit", "method": "gbm"})
    out.write(msgpack.packb(m, use_bin_type=True))' | $PY "$TESTS/py/reseal.py" | report >"$work/foreign.txt"
check "a foreign stage in the recipe: the command line names it and says it is not whole" \
	bash -c "grep -q \"not whole: stage dowhy-fit is not one of psflow's: put its options back by hand\" '$work/foreign.txt' && grep -q '| dowhy-fit\$' '$work/foreign.txt'"
gen -n 2000 --seed 1 | fitps -t opt_in_agent_mode -x engagement_tier --save-model "$work/m.psm" --quiet >/dev/null
gen -n 2000 --seed 2 | fitps --model "$work/m.psm" --quiet | report >"$work/scored.txt"
check "a saved model inline in the recipe: the command line asks for the model file" \
	bash -c "grep -q 'cannot be rerun from its options alone (a saved model: give --model FILE)' '$work/scored.txt' && grep -q 'fitps --model MODEL_FILE' '$work/scored.txt'"

# the balance section's count says what it counts
report <"$work/flow.mp" >"$work/flow.txt"
check "report's balance count: after adjustment, per weighting, and raw apart as not counted" \
	grep -Eq '^  failures after adjustment: [0-9]+ \(w_ate [0-9]+, w_att [0-9]+, w_match [0-9]+\); raw, not counted: [0-9]+$' "$work/flow.txt"
check "  ... and the title names each weighting's SD (cobalt's s.d.denom by estimand)" \
	grep -q 'SD raw pooled, w_ate pooled, w_att treated, w_match treated' "$work/flow.txt"
