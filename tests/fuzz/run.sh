#!/usr/bin/env bash
# make fuzz: AFL++ against the stream reader (mpcat decodes every message
# kind), built with AddressSanitizer and UBSan, for FUZZ_SECONDS (default 60)
# from the seeds in tests/fuzz/seeds. Prints executions, paths, crashes and
# hangs; exits 1 if anything crashed or hung (inputs in build/fuzz/out).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
seconds=${FUZZ_SECONDS:-60}
out=build/fuzz/out
rm -rf "$out"
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
export AFL_NO_AFFINITY=1 ASAN_OPTIONS=abort_on_error=1:detect_leaks=0:symbolize=0
afl-fuzz -i tests/fuzz/seeds -o "$out" -V "$seconds" -m none -t 2000 \
	-- build/fuzz/bin/mpcat --sizes >build/fuzz/afl.log 2>&1 || {
	echo "fuzz: afl-fuzz failed; see build/fuzz/afl.log" >&2
	tail -20 build/fuzz/afl.log >&2
	exit 1
}
stats=$out/default/fuzzer_stats
get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
crashes=$(get saved_crashes) hangs=$(get saved_hangs)
echo "fuzz: $(get execs_done) executions in ${seconds} s ($(get execs_per_sec)/s), $(get corpus_count) paths, $crashes crashes, $hangs hangs"
if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
	echo "fuzz: inputs that crash or hang are in $out/default/crashes and .../hangs" >&2
	exit 1
fi
