#!/usr/bin/env bash
# make bench: psflow against two Python references of the same study, in the
# same run, on the same data; then scaling in rows, per-stage throughput and
# scaling in workers. Prints a summary and writes tools/bench/RESULTS.md.
#   BENCH_RUNS (default 5): runs of each timed command (median reported)
#   BENCH_REF_RUNS (default 2): runs of the slow scikit-learn reference
#   BENCH_BIG (default 10000000): rows of the largest scaling run
#   BENCH_REALISTIC_HUGE (default 0: not run): rows of the realistic study
#     run as one pipeline from the generator's file (100000000: about five
#     minutes)
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

# The realistic scenario: continuous covariates, so nearly every row is its
# own group and boot's grouping saves nothing; the full study with boot
# -B 1000 refitting the propensity model in every replicate, against the
# numpy reference timed on a few replicates in the same run and scaled to
# 1000 (said so in RESULTS.md), and the floor a replicate cannot beat.
rrows=${BENCH_REALISTIC_ROWS:-1000000} rb=${BENCH_REALISTIC_B:-1000}
rnp=${BENCH_NUMPY_REPLICATES:-3} rbig=${BENCH_REALISTIC_BIG:-10000000}
RX=engagement_tier,past_engagement_score,account_age_months,feature_usage_count
echo "bench: the realistic scenario, $rrows users, boot -B $rb refitting the model in every replicate"
gen --scenario realistic -n "$rrows" --seed 1 >"$work/real.mp"
mp2csv <"$work/real.mp" >"$work/real.csv"
rflow="fitps -t opt_in_agent_mode -y task_completed -x $RX <'$work/real.mp' | weight -e ate,att |
	match"
read -r t_real rss_real < <(timed realistic 1 "$rflow | boot -B $rb --seed 42 --quiet | report --json")
echo "  psflow            ${t_real} s, ${rss_real} kB"
eval "$rflow" >"$work/real-est.mp" 2>/dev/null
# boot's cost per replicate: -B rb against -B 20 on the same estimates
read -r t_b20 _ < <(timed realboot20 1 "boot -B 20 --seed 42 --quiet <'$work/real-est.mp'")
read -r t_bb _ < <(timed realbootB 1 "boot -B $rb --seed 42 --quiet <'$work/real-est.mp'")
per_rep=$(awk -v a="$t_bb" -v b="$t_b20" -v n="$rb" 'BEGIN { printf "%.2f", 1000 * (a - b) / (n - 20) }')
$PY "$top/tools/bench/ref_numpy.py" "$work/real.csv" "$rnp" --realistic --time >"$work/real-np.json"
read -r t_real_np np_rep < <($PY -c "
import json, sys
d = json.load(open(sys.argv[1]))
print('%.1f %.1f' % (d['load_s'] + d['point_s'] + int(sys.argv[2]) * d['per_replicate_s'], 1000 * d['per_replicate_s']))" \
	"$work/real-np.json" "$rb")
echo "  numpy reference   ${t_real_np} s (${rnp} replicates timed, ${np_rep} ms each, scaled to $rb)"
real_agree=$($PY - "$work/realistic.out" "$work/real-np.json" <<'PY'
import json, sys
ps = {r["name"]: r["estimate"] for r in json.load(open(sys.argv[1]))["results"] if "estimate" in r}
np_ = json.load(open(sys.argv[2]))["point"]
bad = ["%s: psflow %.9f numpy %.9f" % (k, ps[k], np_[k]) for k in ("ipw_ate", "ipw_att", "match_att")
       if abs(ps[k] - np_[k]) > 1e-8]
print("; ".join(bad) if bad else "yes")
PY
)
echo "  estimates agree (1e-8): $real_agree"
# the floor: a replicate reads at least each group's covariates and each
# row's cell once (memory), and does at least two Newton passes of
# multiply-adds (arithmetic), at this machine's rates (tools/bench/peak.c,
# one core); boot's cost is taken per core (wall x threads)
cc -O3 -march=native -ffp-contract=fast -o "$work/peak" "$top/tools/bench/peak.c"
read -r bw gflops < <("$work/peak")
read -r groups cols < <(report --json <"$work/real-est.mp" | $PY -c "
import json, sys
d = json.load(sys.stdin)
m = [r for r in d['results'] if r['name'] == 'ps_model'][0]
print(d['rows'], len(m['terms']))")
threads=$(nproc)
read -r floor_mem floor_ops floor per_core floor_ratio < <(awk -v g="$groups" -v p="$cols" \
	-v bw="$bw" -v fl="$gflops" -v w="$per_rep" -v j="$threads" 'BEGIN {
	mem = 1000 * (g * p * 8 + g * 4) / (bw * 1e9)
	ops = 1000 * 2 * g * 2 * (p * (p + 1) / 2 + 2 * p + 20) / (fl * 1e9)
	f = mem > ops ? mem : ops
	printf "%.2f %.2f %.2f %.2f %.1f\n", mem, ops, f, w * j, w * j / f }')
echo "  boot: ${per_rep} ms a replicate (wall, -j $threads: ${per_core} core-ms); floor ${floor} core-ms (memory ${floor_mem} at ${bw} GB/s, arithmetic ${floor_ops} at ${gflops} GFLOP/s): ${floor_ratio}x it"
echo "bench: the realistic study without boot, $rbig users"
gen --scenario realistic -n "$rbig" --seed 1 >"$work/realbig.mp"
realbig_bytes=$(stat -c %s "$work/realbig.mp")
read -r t_rbig rss_rbig < <(timed realbig 1 "fitps -t opt_in_agent_mode -y task_completed -x $RX \
	<'$work/realbig.mp' | weight -e ate,att | match | balance | report --json")
rbig_ratio=$(awk -v r="$rss_rbig" -v b="$realbig_bytes" 'BEGIN { printf "%.2f", r * 1024 / b }')
echo "  $rbig users: ${t_rbig} s, peak ${rss_rbig} kB (${rbig_ratio}x the stream's $realbig_bytes bytes)"
rm -f "$work/realbig.mp"
# A hundred million realistic users (BENCH_REALISTIC_HUGE rows; 0, the
# default, skips it: about five minutes and 6 GB of disk), the study as one
# pipeline from the generator's file, each stage under GNU time for its own
# time and peak; the machine's memory in use is sampled every 0.2 s
# (MemTotal - MemAvailable), since stages that hold rows overlap in time
rhuge=${BENCH_REALISTIC_HUGE:-0} huge_stages="" t_huge=0 rss_huge=0 huge_bytes=0 huge_mem=0
if [ "$rhuge" -gt 0 ]; then
	echo "bench: the realistic study without boot, $rhuge users, as one pipeline"
	gen --scenario realistic -n "$rhuge" --seed 1 >"$work/huge-gen.mp"
	huge_bytes=$(stat -c %s "$work/huge-gen.mp")
	mem_base=$(awk '/^MemTotal/ { t = $2 } /^MemAvailable/ { a = $2 } END { print t - a }' /proc/meminfo)
	( lo=999999999999
	  while :; do
		a=$(awk '/^MemAvailable/ { print $2 }' /proc/meminfo)
		[ "$a" -ge "$lo" ] || { lo=$a; echo "$lo" >"$work/huge.memlow"; }
		sleep 0.2
	  done ) &
	sampler=$!
	hp=""
	for st in "fitps -t opt_in_agent_mode -y task_completed -x $RX <'$work/huge-gen.mp'" \
		"weight -e ate,att" match balance "report --json"; do
		hp="$hp${hp:+ | }/usr/bin/time -f '%e %U %S %M' -o '$work/huge-${st%% *}.t' $st"
	done
	read -r t_huge rss_huge < <(timed huge 1 "$hp")
	kill "$sampler"; wait "$sampler" 2>/dev/null || true
	huge_mem=$(awk -v b="$mem_base" '/^MemTotal/ { t = $2 } END { getline lo <"'"$work/huge.memlow"'"; print t - lo - b }' /proc/meminfo)
	for st in fitps weight match balance report; do
		read -r e u sy m <"$work/huge-$st.t"
		echo "  $st: $e s wall, $u s user, $sy s system, $m kB"
		huge_stages="$huge_stages| $st | $e | $u | $sy | $m |"$'\n'
	done
	echo "  in all $t_huge s; largest process $rss_huge kB; the machine's memory in use up to $huge_mem kB more than before"
	rm -f "$work/huge-gen.mp"
fi

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
# the widest vectors psflow's code chooses on this processor (lanes.h's
# clones, kernels/cells.c): what most separates one machine's figures from
# another's
isa=$(grep -m1 '^flags' /proc/cpuinfo | awk '{ for (i = 2; i <= NF; i++) f[$i] = 1 }
	END {
		v = "SSE2 only"
		if (f["avx2"] && f["fma"]) v = "AVX2, no AVX-512"
		if (f["avx512f"] && f["avx512dq"] && f["avx512bw"] && f["avx512vl"]) v = "AVX-512"
		print v
	}')
{
	echo "# Benchmark results"
	echo
	echo "Written by \`make bench\` (tools/bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'):"
	echo "$(nproc) cores ($cpu; vectors: $isa), $(free -g | awk '/Mem:/ { print $2 }') GiB."
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
	echo "## The realistic scenario: $rrows users, boot -B $rb"
	echo
	echo "gen --scenario realistic (three continuous covariates beside the tier: almost"
	echo "every row its own group), fitps | weight -e ate,att | match | boot -B $rb |"
	echo "report, the propensity model refitted in every replicate. The numpy"
	echo "reference (ref_numpy.py --realistic: the same fit from zeros, IPW and 1-NN"
	echo "re-matched in every replicate) was timed on $rnp replicates in this run and"
	echo "scaled to $rb: its load and full-data study plus $rb times ${np_rep} ms."
	echo
	echo "| implementation | wall s | peak RSS kB | psflow is faster by |"
	echo "|---|---:|---:|---:|"
	echo "| psflow | $t_real | $rss_real | 1 |"
	echo "| numpy (scaled from $rnp replicates) | $t_real_np | - | $(ratio "$t_real_np" "$t_real")x |"
	echo
	echo "Point estimates agree with numpy's to 1e-8: $real_agree."
	echo
	echo "boot alone: ${per_rep} ms a replicate (wall, $threads threads, so ${per_core} core-ms;"
	echo "-B $rb against -B 20 on the same estimates). The floor a replicate cannot beat"
	echo "on one core of this machine, the larger of: reading each group's covariates"
	echo "and each row's cell once, $groups groups x $cols columns at the measured ${bw} GB/s,"
	echo "${floor_mem} ms; two Newton passes of multiply-adds at the measured ${gflops} GFLOP/s,"
	echo "${floor_ops} ms (tools/bench/peak.c: a sum over 1 GiB, independent multiply-add"
	echo "chains in L1). psflow is ${floor_ratio}x that floor."
	echo
	echo "The study without boot on $rbig realistic users: $t_rbig s, peak RSS"
	echo "$rss_rbig kB, ${rbig_ratio}x the stream's $realbig_bytes bytes."
	echo
	if [ "$rhuge" -gt 0 ]; then
		echo "The study without boot on $rhuge realistic users as one pipeline,"
		echo "reading the generator's file ($huge_bytes bytes): $t_huge s. Each stage"
		echo "timed by GNU time inside the pipeline (the stages overlap):"
		echo
		echo "| stage | wall s | user s | system s | peak RSS kB |"
		echo "|---|---:|---:|---:|---:|"
		printf '%s' "$huge_stages"
		echo
		echo "The largest process peak $rss_huge kB, $(awk -v r="$rss_huge" \
			-v b="$huge_bytes" 'BEGIN { printf "%.2f", r * 1024 / b }')x the stream's bytes;"
		echo "the machine's memory in use rose by at most $huge_mem kB (MemAvailable,"
		echo "sampled every 0.2 s; the page cache, which it counts as available, left"
		echo "out), $(awk -v r="$huge_mem" -v b="$huge_bytes" \
			'BEGIN { printf "%.2f", r * 1024 / b }')x the stream's bytes: every stage's memory at once."
	else
		echo "The study on a hundred million users was not run in this bench"
		echo "(BENCH_REALISTIC_HUGE=100000000 runs it: about five minutes, 6 GB of disk)."
	fi
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
