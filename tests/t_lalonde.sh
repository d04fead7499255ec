# Matching as MatchIt and Matching users know it, on LaLonde's data
# (data/lalonde.csv, MatchIt's copy, with R's glm propensity ps_glm):
# without replacement against an independent implementation of MatchIt's
# documented algorithm (tests/py/matchit_nn.py), which with MatchIt 4.5.1's
# integer abs() reproduces 4.5.1's own figures (recorded below, and rerun in
# R when it is installed); with replacement and a caliper against R's
# Matching, whose caliper SE differs by a rule stated here.
. "$TESTS/lib.sh"
LALONDE="$DATA/lalonde.csv"
X=age,educ,race,married,nodegree,re74,re75

# R's MatchIt 4.5.1 on this file (distance = ps_glm, method "nearest",
# ratio K, no replacement): ATT as the weighted mean difference of re78
matchit_451() { case $1 in 1) echo 770.3901678378 ;; 2) echo 220.2886406757 ;; 3) echo -556.5975078378 ;; esac; }

for k in 1 2 3; do
	csv2mp "$LALONDE" | match -t treat -y re78 --ps ps_glm -k "$k" --no-replace --ties matchit --quiet >"$work/m$k.mp"
	mp2csv <"$work/m$k.mp" >"$work/m$k.csv" 2>/dev/null
	$PY "$TESTS/py/matchit_nn.py" "$LALONDE" treat ps_glm re78 "$k" >"$work/ref$k.json"
	$PY "$TESTS/py/matchit_nn.py" "$LALONDE" treat ps_glm re78 "$k" --int-abs >"$work/abs$k.json"
	check "-k $k --no-replace --ties matchit: the same pairs and ATT (1e-9) as MatchIt's documented algorithm" \
		$PY - "$work/m$k.csv" "$work/ref$k.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ref = json.load(open(sys.argv[2]))
sets = {}
for i, r in enumerate(rows):
    if r["match_set"] != "":
        sets.setdefault(r["match_set"], []).append(i)
pairs = set()
for members in sets.values():
    t = [i for i in members if rows[i]["treat"] == "1"]
    assert len(t) == 1, members
    pairs |= {(t[0], c) for c in members if c != t[0]}
assert pairs == {(a, b) for a, b, _ in ref["pairs"]}, (len(pairs), len(ref["pairs"]))
w = [float(r["w_match"]) for r in rows]
y = [float(r["re78"]) for r in rows]
tr = [r["treat"] == "1" for r in rows]
att = sum(y[i] * w[i] for i in range(len(rows)) if tr[i]) / sum(w[i] for i in range(len(rows)) if tr[i]) \
    - sum(y[i] * w[i] for i in range(len(rows)) if not tr[i]) / sum(w[i] for i in range(len(rows)) if not tr[i])
assert abs(att - ref["estimate"]) < 1e-9 * abs(ref["estimate"]), (att, ref["estimate"])
PY
	near "  ... MatchIt 4.5.1's figure is the same algorithm with its integer abs() (k $k)" \
		"$(jget "$work/abs$k.json" "'%.10f' % d['estimate']")" "$(matchit_451 "$k")" 1e-6
done
report --json <"$work/m3.mp" >"$work/m3.json"
check "-k 3 --no-replace: all 185 treated units matched (rounds), 429 controls, ATT -559.1456" $PY -c "
import json; r = [r for r in json.load(open('$work/m3.json'))['results'] if r['name'] == 'match_att'][0]
assert r['treated_matched'] == 185 and r['controls_used'] == 429 and abs(r['estimate'] + 559.1455873) < 1e-4, r"

if command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(MatchIt)' >/dev/null 2>&1; then
	Rscript - "$LALONDE" >"$work/matchit.txt" 2>/dev/null <<'R'
suppressMessages(library(MatchIt))
d <- read.csv(commandArgs(TRUE)[1])
for (k in 1:3) {
  m <- matchit(treat ~ age + educ + race + married + nodegree + re74 + re75, data = d,
               method = "nearest", distance = d$ps_glm, ratio = k)
  mm <- m$match.matrix
  for (i in seq_len(nrow(mm))) for (j in seq_len(ncol(mm))) if (!is.na(mm[i, j]))
    cat(k, as.integer(rownames(mm)[i]) - 1, as.integer(mm[i, j]) - 1, "\n")
}
R
	check "MatchIt 4.5.1 run here: its pairs are the integer-abs emulation's, k 1 to 3" $PY - "$work/matchit.txt" "$work" <<'PY'
import json, sys
got = {}
for line in open(sys.argv[1]):
    k, a, b = map(int, line.split())
    got.setdefault(k, set()).add((a, b))
for k in (1, 2, 3):
    want = {(a, b) for a, b, _ in json.load(open("%s/abs%d.json" % (sys.argv[2], k)))["pairs"]}
    assert got[k] == want, (k, len(got[k] ^ want))
PY
else
	skip "MatchIt 4.5.1 rerun" "R's MatchIt is not installed (apt-get install r-cran-matchit); its figures are recorded above"
fi

# with replacement, 1-NN, every tie (Match's ties = TRUE, distance.tolerance = 0)
csv2mp "$LALONDE" | match -t treat -y re78 --ps ps_glm --quiet | report --json >"$work/rep.json"
near "1-NN with replacement: ATT as R's Match" "$(jget "$work/rep.json" "[r['estimate'] for r in d['results'] if r['name'] == 'match_att'][0]")" 1968.7997158559 1e-6
near "  ... and its Abadie-Imbens SE" "$(jget "$work/rep.json" "[r['se'] for r in d['results'] if r['name'] == 'match_att'][0]")" 1085.8155629286 1e-6
csv2mp "$LALONDE" | match -t treat -y re78 --ps ps_glm --caliper 0.1 --quiet | report --json >"$work/cal.json"
near "--caliper 0.1 (SDs, Match's caliper): ATT as R's Match, 2 treated dropped" "$(jget "$work/cal.json" "[r['estimate'] for r in d['results'] if r['name'] == 'match_att' and r['treated_unmatched'] == 2][0]")" 2016.0537947177 1e-6
# Match's SE with a caliper divides by every treated unit (185, the dropped
# too) and counts each dropped one as tau 0 in the variance: from psflow's
# SE on the 183 matched, sqrt((se 183)^2 + 2 est^2) / 185 is Match's figure
near "  ... and Match's SE (1069.47) is psflow's (on the matched) under Match's rule for the dropped" \
	"$(jget "$work/cal.json" "[(lambda r: ((r['se'] * r['treated_matched']) ** 2 + r['treated_unmatched'] * r['estimate'] ** 2) ** 0.5 / (r['treated_matched'] + r['treated_unmatched']))(r) for r in d['results'] if r['name'] == 'match_att'][0]")" \
	1069.4728054731 1e-6

# psflow's own propensities agree with glm's (glm stops at 1e-8)
csv2mp "$LALONDE" | fitps -t treat -y re78 -x "$X" --quiet | mp2csv 2>/dev/null >"$work/fit.csv"
check "fitps on LaLonde: the propensities of R's glm to 1e-7" $PY -c "
import csv; rows = list(csv.DictReader(open('$work/fit.csv')))
assert max(abs(float(r['ps']) - float(r['ps_glm'])) for r in rows) < 1e-7"

# --exact: within equal values, as MatchIt's exact (a control of another
# value is skipped and the search goes on)
for spec in "married 1" "married,nodegree 2"; do
	set -- $spec
	csv2mp "$LALONDE" | match -t treat -y re78 --ps ps_glm -k "$2" --no-replace --ties matchit --exact "$1" --quiet |
		report --json >"$work/ex.json"
	$PY "$TESTS/py/matchit_nn.py" "$LALONDE" treat ps_glm re78 "$2" --exact "$1" >"$work/exref.json"
	$PY "$TESTS/py/matchit_nn.py" "$LALONDE" treat ps_glm re78 "$2" --exact "$1" --int-abs >"$work/exabs.json"
	near "--exact $1 -k $2: ATT as MatchIt's documented algorithm" \
		"$(jget "$work/ex.json" "[r['estimate'] for r in d['results'] if r['name'] == 'match_att'][0]")" \
		"$(jget "$work/exref.json" "d['estimate']")" 1e-6
	want=$([ "$1" = married ] && echo 835.5859191892 || echo 713.3819627297)
	near "  ... and MatchIt 4.5.1's figure its integer-abs form ($want)" "$(jget "$work/exabs.json" "d['estimate']")" "$want" 1e-6
done

# --mahalanobis: MatchIt's mahvars (the Mahalanobis distance of the
# covariates, pooled within-group covariance; treated in order of ps).
# MatchIt 4.5.1 on this file: no replacement 551.1914174054, with
# replacement 880.0934926486 (its ties: the first control)
near "--mahalanobis age,educ,re74,re75 --no-replace: ATT as MatchIt 4.5.1's mahvars" \
	"$(csv2mp "$LALONDE" | match -t treat -y re78 --ps ps_glm --no-replace --mahalanobis age,educ,re74,re75 --quiet | report --json >"$work/mh.json"; jget "$work/mh.json" "[r['estimate'] for r in d['results'] if r['name'] == 'match_att'][0]")" \
	551.1914174054 1e-6
near "  ... with replacement, --ties first: as MatchIt" \
	"$(csv2mp "$LALONDE" | match -t treat -y re78 --ps ps_glm --ties first --mahalanobis age,educ,re74,re75 --quiet | report --json >"$work/mh2.json"; jget "$work/mh2.json" "[r['estimate'] for r in d['results'] if r['name'] == 'match_att'][0]")" \
	880.0934926486 1e-6
check "--mahalanobis: the distance is Mahalanobis with the pooled within-group covariance (numpy, the nearest of each treated unit)" \
	$PY - "$LALONDE" "$work" <<'PY'
import csv, json, sys, numpy as np
rows = list(csv.DictReader(open(sys.argv[1])))
X = np.array([[float(r[c]) for c in ("age", "educ", "re74", "re75")] for r in rows])
t = np.array([r["treat"] == "1" for r in rows])
Xc = X.copy()
for g in (t, ~t):
    Xc[g] -= X[g].mean(axis=0)
S = Xc.T @ Xc / (len(rows) - 2)
Si = np.linalg.inv(S)
y = np.array([float(r["re78"]) for r in rows])
# with replacement, ties first: each treated unit's nearest control, lowest row on ties
ctrl = np.nonzero(~t)[0]
taus = []
for i in np.nonzero(t)[0]:
    D = X[ctrl] - X[i]
    dist = np.einsum("ij,jk,ik->i", D, Si, D)
    taus.append(y[i] - y[ctrl[np.argmin(dist)]])
got = [r for r in json.load(open(sys.argv[2] + "/mh2.json"))["results"] if r["name"] == "match_att"][0]
assert abs(np.mean(taus) - got["estimate"]) < 1e-6, (np.mean(taus), got["estimate"])
PY

# --pairs: the pairs as MatchIt's get_matches(), named by a column
csv2mp "$LALONDE" | match -t treat -y re78 --ps ps_glm -k 2 --no-replace --ties matchit --pairs "$work/pairs.csv" \
	--pairs-id age --quiet | mp2csv >"$work/p.csv" 2>/dev/null
check "--pairs: one line per pair, the pairs of match_set, weights 1/m, the id column's values" $PY - "$work/pairs.csv" "$work/p.csv" "$work/ref2.json" <<'PY'
import csv, json, sys
pairs = list(csv.DictReader(open(sys.argv[1])))
rows = list(csv.DictReader(open(sys.argv[2])))
ref = json.load(open(sys.argv[3]))
assert {(int(p["treated_row"]), int(p["control_row"])) for p in pairs} == {(a, b) for a, b, _ in ref["pairs"]}
for p in pairs:
    a, b = int(p["treated_row"]), int(p["control_row"])
    assert rows[a]["match_set"] == rows[b]["match_set"] == p["match_set"]
    assert p["treated_id"] == rows[a]["age"] and p["control_id"] == rows[b]["age"]
    m = sum(1 for q in pairs if q["treated_row"] == p["treated_row"])
    assert abs(float(p["weight"]) - 1 / m) < 1e-15
PY
fails "--pairs-id without --pairs: usage error" 2 "give --pairs FILE too" "csv2mp '$LALONDE' | match -t treat -y re78 --ps ps_glm --pairs-id age"
printf 't,y,ps,x,c\n1,1,.6,1,5\n0,0,.5,2,5\n1,1,.4,3,5\n0,1,.3,5,5\n0,0,.55,4,5\n' | csv2mp >"$work/const.mp"
fails "--mahalanobis on a constant covariate: singular, named" 1 "--mahalanobis x,c: the covariates' pooled covariance is singular" \
	"match -t t -y y --ps ps --mahalanobis x,c <'$work/const.mp'"

# boot replays --exact and --mahalanobis (its full-data check reproduces them)
csv2mp "$LALONDE" | fitps -t treat -y re78 -x "$X" --quiet | match --exact married --mahalanobis age,educ,re74,re75 --ties first --quiet |
	boot -B 20 --quiet | report --json >"$work/mboot.json"
check "boot replays match --exact --mahalanobis: an interval for match_att" $PY -c "
import json; r = [r for r in json.load(open('$work/mboot.json'))['results'] if r['name'] == 'match_att'][0]
assert r['ci'][0] < r['estimate'] < r['ci'][1] and r['replicates'] == 20, r"

# formula terms as MatchIt's users write them: squares, I(x^2), log1p
csv2mp "$DATA/lalonde.csv" --quiet | fitps -t treat -y re78 \
	-x 'age,I(age^2),educ^2,log1p(re74),married*age' --quiet --save-model "$work/terms.psm" >"$work/terms.mp"
check "fitps -x with x^2, I(x^2), log1p(x) and a*b: the MLE statsmodels finds on the same columns (1e-7)" $PY -c "
import csv, json, subprocess
import numpy as np, statsmodels.api as sm
d = json.loads(subprocess.run(['report', '--json'], stdin=open('$work/terms.mp'), capture_output=True).stdout)
m = [r for r in d['results'] if r['name'] == 'ps_model'][0]
assert [t['term'] for t in m['terms']] == ['(intercept)', 'age', 'age^2', 'educ^2', 'log1p(re74)', 'married', 'married:age'], m['terms']
r = list(csv.DictReader(open('$DATA/lalonde.csv')))
col = lambda k: np.array([float(x[k]) for x in r])
a, e, re74, mar, t = col('age'), col('educ'), col('re74'), col('married'), col('treat')
X = np.column_stack([np.ones(len(a)), a, a * a, e * e, np.log1p(re74), mar, mar * a])
f = sm.Logit(t, X).fit(disp=0, tol=1e-12, maxiter=200)
ours = np.array([t['coef'] for t in m['terms']])
assert np.max(np.abs(ours - f.params) / np.maximum(1, np.abs(f.params))) < 1e-7, (ours, f.params)"
csv2mp "$DATA/lalonde.csv" --quiet | fitps --model "$work/terms.psm" --quiet | mp2csv --columns ps --quiet >"$work/terms-scored.csv"
mp2csv --columns ps --quiet <"$work/terms.mp" >"$work/terms-fit.csv"
same "  ... a saved model with log1p and squares scores every row as the fit did" "$work/terms-fit.csv" "$work/terms-scored.csv"
check "  ... and boot replays the terms (its full-data refit reproduces the estimate)" bash -c \
	"weight --quiet <'$work/terms.mp' | boot -B 20 --quiet | report --json >/dev/null"
fails "log(x) of a value 0: the row and the domain, with log1p suggested" 1 \
	"log\\(educ\\) at row 200 \\(counting from 0\\): 0 is outside its domain \\(log wants > 0: log1p takes 0\\)" \
	"csv2mp '$DATA/lalonde.csv' --quiet | fitps -t treat -x 'log(educ)'"
fails "the square of a categorical covariate: refused" 2 "race\\^2 in -x: 'race' is categorical" \
	"csv2mp '$DATA/lalonde.csv' --quiet | fitps -t treat -x 'race^2'"
fails "log of a categorical covariate: refused" 2 "log\\(race\\) in -x: 'race' is categorical" \
	"csv2mp '$DATA/lalonde.csv' --quiet | fitps -t treat -x 'log(race)'"

# WeightIt's missing = "ind": data/lalonde_missing.csv is lalonde.csv with
# educ, race and re74 missing (as R writes NA) in rows i % 13 == 0,
# i % 11 == 5 and i % 7 == 3
MISS="$DATA/lalonde_missing.csv"
csv2mp "$MISS" --quiet | fitps -t treat -y re78 -x age,educ,race,married,re74 --missing ind \
	--save-model "$work/miss.psm" --quiet >"$work/miss.mp"
mp2csv --quiet <"$work/miss.mp" >"$work/miss.csv"
report --json <"$work/miss.mp" >"$work/miss.json"
check "fitps --missing ind: the MLE statsmodels finds on WeightIt's columns (median fills, x:<NA> indicators; 1e-7)" $PY - "$MISS" "$work/miss.json" "$work/miss.csv" <<'PY'
import csv, json, sys
import numpy as np, statsmodels.api as sm
r = list(csv.DictReader(open(sys.argv[1])))
res = {x["name"]: x for x in json.load(open(sys.argv[2]))["results"]}
num = lambda k: np.array([np.nan if x[k] == "NA" else float(x[k]) for x in r])
age, educ, mar, re74, t = num("age"), num("educ"), num("married"), num("re74"), num("treat")
race = np.array([x["race"] for x in r])
def filled(x, fill):
    return np.where(np.isnan(x), fill, x)
def design(fill_educ, fill_re74):
    return np.column_stack([np.ones(len(r)), age, filled(educ, fill_educ),
        (race == "hispan") * 1.0, (race == "white") * 1.0, mar, filled(re74, fill_re74),
        np.isnan(educ) * 1.0, (race == "NA") * 1.0, np.isnan(re74) * 1.0])
X = design(np.nanmedian(educ), np.nanmedian(re74))
f = sm.Logit(t, X).fit(disp=0, tol=1e-12, maxiter=200)
m = res["ps_model"]
assert [x["term"] for x in m["terms"]] == ["(intercept)", "age", "educ", "race_hispan",
    "race_white", "married", "re74", "educ:<NA>", "race:<NA>", "re74:<NA>"], m["terms"]
ours = np.array([x["coef"] for x in m["terms"]])
assert np.max(np.abs(ours - f.params) / np.maximum(1, np.abs(f.params))) < 1e-7, (ours, f.params)
mi = res["missing_indicators"]["columns"]
assert mi["educ"] == {"missing": 48, "fill": np.nanmedian(educ)}, mi
assert mi["race"] == {"missing": 56, "fill": None} and mi["re74"]["missing"] == 88, mi
assert abs(mi["re74"]["fill"] - np.nanmedian(re74)) < 1e-9, mi
# the fill is arbitrary: another one moves no propensity (WeightIt says so)
g = sm.Logit(t, design(0.0, -5000.0)).fit(disp=0, tol=1e-12, maxiter=200)
ps = np.array([float(x["ps"]) for x in csv.DictReader(open(sys.argv[3]))])
assert np.max(np.abs(ps - g.predict())) < 1e-8, np.max(np.abs(ps - g.predict()))
PY
csv2mp "$MISS" --quiet | fitps --model "$work/miss.psm" --quiet | mp2csv --columns ps --quiet >"$work/miss-scored.csv"
mp2csv --columns ps --quiet <"$work/miss.mp" >"$work/miss-fit.csv"
same "  ... a saved model fills and indicates as the fit did (every row's ps)" "$work/miss-fit.csv" "$work/miss-scored.csv"
weight -e ate,att --quiet <"$work/miss.mp" | boot -B 20 --quiet | report --json >"$work/miss-boot.json"
check "  ... weight's sandwich includes the filled model, and boot replays it (its full-data refit reproduces the estimates)" $PY -c "
import json
r = {x['name']: x for x in json.load(open('$work/miss-boot.json'))['results']}
for k in ('ipw_ate', 'ipw_att'):
    assert r[k]['se_method'].startswith('M-estimation') and r[k]['replicates'] == 20, r[k]"
fails "  ... without it: the count, the first row, and the three ways out" 1 \
	"covariate 'educ' has 48 missing, NaN or infinite values .*--drop-missing, or model them with --missing ind" \
	"csv2mp '$MISS' --quiet | fitps -t treat -x age,educ"
fails "  ... --missing with another rule: a usage error naming the one it has" 2 \
	"--missing: 'ind' .* is the one rule; --drop-missing drops the rows instead" \
	"csv2mp '$MISS' --quiet | fitps -t treat -x age,educ --missing mean"
$PY -c "
import csv, sys
w = csv.writer(sys.stdout, lineterminator='\n'); w.writerow(['t', 'x', 'z'])
for i in range(40): w.writerow([i % 2, 'NA', i * 0.5 + (i % 3)])" >"$work/allmissing.csv"
fails "  ... a covariate with no value at all: no median, said" 1 \
	"--missing ind: covariate 'x' has no value that is not missing" \
	"csv2mp '$work/allmissing.csv' --f64 x --quiet | fitps -t t -x z,x --missing ind"
