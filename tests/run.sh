#!/usr/bin/env bash
# Runs every unit test binary ($UNITS/test_*) and every shell test
# (tests/t_*.sh). Each prints one line per check: "ok - NAME",
# "not ok - NAME" or "skip - NAME: why". The last line of this script is
# "N passed, N failed" (", N skipped" when some were skipped); it exits
# non-zero when anything failed, or when a test file died without saying.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${BIN:?BIN must name the directory of the programs}"
: "${UNITS:?UNITS must name the directory of the unit test binaries}"
export BIN PSFLOW_BIN="$BIN" PATH="$BIN:$PATH"
export TESTS="$here" DATA="${DATA:-$here/../data}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0 failed=0 skipped=0

run_one() { # name, command...
	local name=$1 log="$out/$(basename "$1").log" rc
	shift
	"$@" >"$log" 2>&1
	rc=$?
	local p f s
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	s=$(grep -c '^skip - ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited $rc without reporting a failure" >>"$log"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	if [ "$f" -gt 0 ]; then
		printf '%-28s %3d passed, %d FAILED\n' "$name" "$p" "$f"
		grep -A12 '^not ok - ' "$log" | sed 's/^/    /' | head -60
	else
		printf '%-28s %3d passed%s\n' "$name" "$p" "$([ "$s" -gt 0 ] && echo ", $s skipped")"
		grep '^skip - ' "$log" | sed 's/^/    /'
	fi
}

for t in "$UNITS"/test_*; do
	[ -x "$t" ] && run_one "$(basename "$t")" "$t"
done
for t in "$here"/t_*.sh; do
	[ -n "${ONLY:-}" ] && [[ "$(basename "$t")" != *"$ONLY"* ]] && continue
	run_one "$(basename "$t")" bash "$t"
done
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
