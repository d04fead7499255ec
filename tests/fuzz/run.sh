#!/usr/bin/env bash
# make fuzz: each harness (tests/fuzz/harness_NAME.c) under libFuzzer, in one
# process, ASan and UBSan on, for FUZZ_SECONDS (default 80), from a copy of
# the kept corpus (tests/fuzz/corpus/NAME). Prints executions in total and
# per second per harness, and the sum; exits 1 if anything crashed, leaked
# or hung (the input is in build/fuzz/crashes: add it to the kept corpus
# once fixed, and make test replays it from then on).
set -uo pipefail
build=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
seconds=${FUZZ_SECONDS:-80}
mkdir -p "$build/crashes"
total=0 failed=0
printf '%-10s %14s %12s %8s\n' harness executions "per second" findings
for name in "$@"; do
	work="$build/corpus/$name"
	mkdir -p "$work"
	cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null
	log="$build/fuzz-$name.log"
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
		"$build/fuzz-$name" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/crashes/$name-" \
		"$work" >"$log" 2>&1
	rc=$?
	runs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
	rate=$(awk '/stat::average_exec_per_sec/ { print $2 }' "$log")
	found=$(ls "$build/crashes" | grep -c "^$name-")
	printf '%-10s %14s %12s %8s\n' "$name" "${runs:-?}" "${rate:-?}" "$found"
	total=$((total + ${runs:-0}))
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		failed=1
		grep -m1 -A20 "ERROR\|runtime error\|SUMMARY" "$log" | sed 's/^/    /' | head -30
	fi
done
echo "fuzz: $total executions in all, $seconds s per harness"
exit $failed
