# report --html in a real browser: headless Chromium (Debian's chromium,
# driven through the DevTools protocol on a pipe: tests/py/browser.py) opens
# the page of the reference flow from a file and screenshots it. The page
# must render (not blank), show one Love plot marker per covariate row and
# weighting, both groups in every overlap panel, one point per estimate, and
# make no request but for itself.
. "$TESTS/lib.sh"

if ! command -v chromium >/dev/null 2>&1; then
	skip "report --html in Chromium" "chromium is not installed (make test-deps installs it: apt-get install chromium)"
	exit 0
fi

csv2mp "$REF_CSV" | fitps "${STUDY[@]}" --quiet | weight -e ate,att --trim 0.02,0.98 --quiet |
	match --quiet | balance --quiet | boot -B 100 --quiet >"$work/ref.mp"
report --html "$work/ref.html" --json <"$work/ref.mp" >"$work/ref.json"
cat >"$work/probe.js" <<'JS'
(() => {
  // an element is seen when it has a size and lies inside its figure
  const seen = (e, fig) => {
    const a = e.getBoundingClientRect(), b = fig.getBoundingClientRect();
    return a.width > 0 && a.height > 0 && a.left >= b.left - 1 && a.right <= b.right + 1 &&
      a.top >= b.top - 1 && a.bottom <= b.bottom + 1 &&
      getComputedStyle(e).visibility !== "hidden";
  };
  const love = document.getElementById("love"), over = document.getElementById("overlap");
  const est = document.getElementById("estimates");
  return JSON.stringify({
    markers: [...love.querySelectorAll(".marker")].filter(m => seen(m, love))
      .map(m => [m.dataset.covariate, m.dataset.weighting]),
    panels: [...over.querySelectorAll(".panel")].map(p => ({
      weighting: p.dataset.weighting,
      treated: [...p.querySelectorAll(".bar.treated")].filter(b => seen(b, over)).length,
      control: [...p.querySelectorAll(".bar.control")].filter(b => seen(b, over)).length })),
    estimates: [...est.querySelectorAll(".estimate")].filter(e => seen(e, est))
      .map(e => e.dataset.name),
    figures: [...document.querySelectorAll("svg.figure")].map(s => s.id),
    scripts: document.scripts.length,
    text: document.body.innerText.length
  });
})()
JS
$PY "$TESTS/py/browser.py" "$work/ref.html" "$work/shot.png" "$(cat "$work/probe.js")" \
	>"$work/seen.json" 2>"$work/browser.err"
rc=$?
check "Chromium opened the page and took a screenshot (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || { cat "$work/browser.err"; exit 0; }
check "the page rendered: the screenshot is not blank" $PY - "$work/shot.png" "$TESTS/py" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import pngread
s = pngread.summary(sys.argv[1])
assert s["height"] > 1500 and s["ink"] > 0.05 and s["colours"] > 100, s
PY
check "the Love plot shows one marker per covariate row and weighting, as balance's table" $PY - "$work/seen.json" "$work/ref.json" <<'PY'
import json, sys
seen = json.loads(json.load(open(sys.argv[1]))["value"])
d = json.load(open(sys.argv[2]))
bal = [r for r in d["results"] if r["name"] == "balance"][0]
want = sorted([r["covariate"], r["weight"]] for r in bal["table"])
assert sorted(seen["markers"]) == want, (seen["markers"], want)
assert len(want) == 4 * 4  # 4 covariate rows x raw, w_ate, w_att, w_match
PY
check "the overlap plot shows treated and controls in every panel: raw and each weighting" $PY - "$work/seen.json" <<'PY'
import json, sys
seen = json.loads(json.load(open(sys.argv[1]))["value"])
assert [p["weighting"] for p in seen["panels"]] == ["raw", "w_ate", "w_att", "w_match"], seen["panels"]
for p in seen["panels"]:
    assert p["treated"] > 0 and p["control"] > 0, p
PY
check "every estimate is drawn, and every figure is on the page" $PY - "$work/seen.json" <<'PY'
import json, sys
seen = json.loads(json.load(open(sys.argv[1]))["value"])
assert seen["estimates"] == ["naive", "ipw_ate", "ipw_att", "match_att"], seen["estimates"]
assert seen["figures"] == ["estimates", "love", "overlap", "bootstrap"], seen["figures"]
assert seen["scripts"] == 0 and seen["text"] > 2000, seen
PY
check "the page made no network request: the only request is the file itself" $PY - "$work/seen.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["requests"] == [s["page"]], s["requests"]
PY
# the probe can fail: a page with an external image must be caught
sed 's|</body>|<img src="http://127.0.0.1:9/x.png"></body>|' "$work/ref.html" >"$work/leaky.html"
$PY "$TESTS/py/browser.py" "$work/leaky.html" "$work/leaky.png" '1' >"$work/leaky.json" 2>/dev/null
check "  ... and the same check sees a request when a page makes one" $PY - "$work/leaky.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert "http://127.0.0.1:9/x.png" in s["requests"], s["requests"]
PY
