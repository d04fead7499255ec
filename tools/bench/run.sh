#!/usr/bin/env bash
# make bench: psflow against two Python references of the same study, in the
# same run, on the same data; then scaling in rows, per-stage throughput and
# scaling in workers. Prints a summary and writes tools/bench/RESULTS.md.
#   BENCH_RUNS (default 5): runs of each timed command (median reported)
#   BENCH_REF_RUNS (default 2): runs of the slow scikit-learn reference
#   BENCH_BIG (default 10000000): rows of the largest scaling run
set -euo pipefail
export LC_ALL=C # the decimal point of $EPOCHREALTIME and of awk
top=$(cd "$(dirname "$0")/../.." && pwd)
bin="$top/bin"
export PATH="$bin:$PATH"
runs=${BENCH_RUNS:-5} ref_runs=${BENCH_REF_RUNS:-2} big=${BENCH_BIG:-10000000}
"$top/tools/install-deps.sh" bench
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
csv="$top/data/synthetic_llm_logs_seed42_n50000.csv"
out="$top/tools/bench/RESULTS.md"

# run_once NAME COMMAND: one run under bash (as a user would run it) and
# GNU time (for the peak RSS); appends "wall-seconds peak-RSS-kB" to
# $work/NAME.times, wall from bash's clock to the microsecond (time's own is
# in hundredths, 5% of a 0.2 s run, and a date(1) on each side would add
# two process starts, about 8 ms here); the command's stdout goes to
# $work/NAME.out
run_once() {
	local name=$1 cmd=$2 start end
	start=$EPOCHREALTIME
	/usr/bin/time -f '%M' -o "$work/$name.t" bash -o pipefail -c "$cmd" \
		>"$work/$name.out" 2>"$work/$name.err" || failed "$name"
	end=$EPOCHREALTIME
	echo "$start $end $(tail -1 "$work/$name.t")" |
		awk '{ printf "%.6f %d\n", $2 - $1, $3 }' >>"$work/$name.times"
}

# run_bare NAME COMMAND: the same for one program, started from this shell
# with no bash or time around it (for a comparison of the program with
# itself, which their 10 ms would dilute); no RSS
run_bare() {
	local name=$1 cmd=$2 start end
	start=$EPOCHREALTIME
	eval "$cmd" >"$work/$name.out" 2>"$work/$name.err" || failed "$name"
	end=$EPOCHREALTIME
	echo "$start $end" | awk '{ printf "%.6f 0\n", $2 - $1 }' >>"$work/$name.times"
}

failed() {
	echo "bench: '$1' failed:" >&2
	tail -5 "$work/$1.err" >&2
	exit 1
}

# median NAME: the median wall seconds (3 decimals) and the largest peak RSS
median() {
	sort -n "$work/$1.times" | awk '{ t[NR] = $1; if ($2 > m) m = $2 }
		END { printf "%.3f %d\n", t[int((NR + 1) / 2)], m }'
}

# timed NAME RUNS COMMAND: median wall seconds and the largest peak RSS (kB)
# of any process in the command
timed() {
	local i
	: >"$work/$1.times"
	for i in $(seq 1 "$2"); do run_once "$1" "$3"; done
	median "$1"
}

# timed_pair NAME_A COMMAND_A NAME_B COMMAND_B RUNS: two programs bare and
# in turn, so that the machine's drift (these VMs are noisy) falls on both
# alike; prints the two medians
timed_pair() {
	local i
	: >"$work/$1.times"
	: >"$work/$3.times"
	for i in $(seq 1 "$5"); do
		run_bare "$1" "$2"
		run_bare "$3" "$4"
	done
	echo "$(median "$1" | cut -d' ' -f1) $(median "$3" | cut -d' ' -f1)"
}

echo "bench: the 50k-user study with a 500-replicate bootstrap, $runs runs each"
study="csv2mp '$csv' | fitps -t opt_in_agent_mode -y task_completed \
	-x engagement_tier,query_confidence --l2 1 | weight -e ate,att | match --ties all |
	balance | boot -B 500 --seed 42 --quiet | report --json"
read -r t_ps rss_ps < <(timed psflow "$runs" "$study")
echo "  psflow            ${t_ps} s, ${rss_ps} kB"
read -r t_np rss_np < <(timed numpy "$runs" "$PY '$top/tools/bench/ref_numpy.py' '$csv' 500")
echo "  numpy reference   ${t_np} s, ${rss_np} kB"
read -r t_sk rss_sk < <(timed sklearn "$ref_runs" "$PY '$top/tools/bench/ref_sklearn.py' '$csv' 500")
echo "  sklearn reference ${t_sk} s, ${rss_sk} kB"

# do they agree on the point estimates?
agree=$($PY - "$work/psflow.out" "$work/numpy.out" "$work/sklearn.out" <<'PY'
import json, sys
ps = {r["name"]: r["estimate"] for r in json.load(open(sys.argv[1]))["results"] if "estimate" in r}
np_ = json.load(open(sys.argv[2]))["point"]
sk = json.load(open(sys.argv[3]))["point"]
bad = []
for k in ("ipw_ate", "ipw_att", "match_att"):
    if abs(ps[k] - np_[k]) > 1e-6:
        bad.append("%s: psflow %.6f numpy %.6f" % (k, ps[k], np_[k]))
for k in ("ipw_ate", "ipw_att"):
    if abs(ps[k] - sk[k]) > 1e-4:
        bad.append("%s: psflow %.6f sklearn %.6f" % (k, ps[k], sk[k]))
# sklearn's KD-tree keeps one tied control (tie order): +0.0795 vs +0.0797
if abs(ps["match_att"] - sk["match_att"]) > 1e-3:
    bad.append("match_att: psflow %.6f sklearn %.6f" % (ps["match_att"], sk["match_att"]))
print("; ".join(bad) if bad else "yes")
PY
)
echo "  estimates agree: $agree"

echo "bench: scaling in rows (gen | fitps | weight | match | balance, no boot)"
scale=""
for n in 50000 1000000 "$big"; do
	read -r t rss < <(timed "rows$n" 1 "gen -n $n --seed 1 | fitps -x engagement_tier,query_confidence |
		weight -e ate,att | match | balance | report --json")
	echo "  $n rows: ${t} s, ${rss} kB"
	scale="$scale| $n | $t | $rss |"$'\n'
done

echo "bench: per-stage throughput through a pipe ($big rows)"
gen -n "$big" --seed 1 >"$work/big.mp"
fitps -x engagement_tier,query_confidence --save-model "$work/m.psm" <"$work/big.mp" >"$work/fit.mp"
gen -n 1000000 --seed 1 | mp2csv >"$work/big.csv"
stages=""
stage() { # NAME ROWS COMMAND [BYTES OF THE COLUMNS THE STAGE HOLDS, or a note]
	local t rss held="streams" rate
	read -r t rss < <(timed "$1" "$runs" "$3")
	rate=$(awk -v n="$2" -v t="$t" 'BEGIN { printf "%.1f", (t > 0 ? n / t : 0) / 1e6 }')
	if [[ "${4:-}" =~ ^[^0-9] ]]; then
		held=$4
	elif [ -n "${4:-}" ]; then
		held=$(awk -v r="$rss" -v b="$4" 'BEGIN { printf "%.0f MB, RSS %.2fx", b / 1e6, r * 1024 / b }')
	fi
	echo "  $1: ${t} s, ${rate} M rows/s, ${rss} kB ($held)"
	stages="$stages| $1 | $2 | $t | $rate | $rss | $held |"$'\n'
}
# the columns a holding stage keeps: its output stream's bytes (columns are
# written as bin, n x width bytes, plus a few bytes per batch)
fit_bytes=$(stat -c %s "$work/fit.mp")
stage gen "$big" "gen -n $big --seed 1 | cat >/dev/null"
stage csv2mp 1000000 "cat '$work/big.csv' | csv2mp | cat >/dev/null" \
	"converter: holds the file and its columns (types are known at the end)"
stage "fitps --model" "$big" "cat '$work/big.mp' | fitps --model '$work/m.psm' | cat >/dev/null"
stage fitps "$big" "cat '$work/big.mp' | fitps -x engagement_tier,query_confidence | cat >/dev/null" "$fit_bytes"
stage weight "$big" "cat '$work/fit.mp' | weight -e ate,att | cat >/dev/null"
weight -e ate,att <"$work/fit.mp" >"$work/w.mp" # balance checks raw and both weightings
stage balance "$big" "cat '$work/w.mp' | balance | cat >/dev/null"
stage match "$big" "cat '$work/fit.mp' | match | cat >/dev/null" $((fit_bytes + 8 * big))

echo "bench: boot -B 500 on 50k users, -j 1 and -j 2 in turn"
csv2mp "$csv" | fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence \
	--l2 1 | weight -e ate,att | match >"$work/est.mp"
read -r t_j1 t_j2 < <(timed_pair j1 "boot -B 500 -j 1 --quiet <'$work/est.mp'" \
	j2 "boot -B 500 -j 2 --quiet <'$work/est.mp'" "$runs")
speedup=$(awk -v a="$t_j1" -v b="$t_j2" 'BEGIN { printf "%.2f", a / b }')
echo "  -j 1 ${t_j1} s, -j 2 ${t_j2} s: ${speedup}x"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
{
	echo "# Benchmark results"
	echo
	echo "Written by \`make bench\` (tools/bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'):"
	echo "$(nproc) cores ($cpu), $(free -g | awk '/Mem:/ { print $2 }') GiB."
	echo "Wall times are medians of $runs runs ($ref_runs for scikit-learn), timed to the"
	echo "millisecond; RSS is the largest peak of any one process of the command."
	echo
	echo "## The 50k-user study with a 500-replicate bootstrap"
	echo
	echo "| implementation | wall s | peak RSS kB | psflow is faster by |"
	echo "|---|---:|---:|---:|"
	echo "| psflow (csv2mp \| fitps \| weight \| match \| balance \| boot -B 500 \| report) | $t_ps | $rss_ps | 1 |"
	echo "| numpy, vectorised, exact Newton (tools/bench/ref_numpy.py) | $t_np | $rss_np | $(ratio "$t_np" "$t_ps")x |"
	echo "| pandas + scikit-learn (tools/bench/ref_sklearn.py) | $t_sk | $rss_sk | $(ratio "$t_sk" "$t_ps")x |"
	echo
	echo "Point estimates agree (IPW to 1e-6 with numpy and 1e-4 with scikit-learn's"
	echo "lbfgs; 1-NN to 1e-6 with numpy's all-ties rule and 1e-3 with scikit-learn's"
	echo "tie order): $agree."
	echo
	echo "## Scaling in rows (no bootstrap)"
	echo
	echo "| rows | wall s | peak RSS kB |"
	echo "|---:|---:|---:|"
	printf '%s' "$scale"
	echo
	echo "## Per-stage throughput through a pipe"
	echo
	echo "| stage | rows | wall s | M rows/s | peak RSS kB | columns held |"
	echo "|---|---:|---:|---:|---:|---|"
	printf '%s' "$stages"
	echo
	echo "## Workers"
	echo
	echo "boot -B 500 on 50k users: -j 1 $t_j1 s, -j 2 $t_j2 s (${speedup}x), medians of"
	echo "$runs runs of each, taken in turn, boot started straight from the bench's shell."
} >"$out"
echo "bench: wrote $out"
