#!/usr/bin/env bash
# A bootstrap spread by a scheduler instead of boot's own workers: the
# stream is written once, GNU parallel runs `boot --range` on slices of the
# replicates (as many at a time as there are cores; on a cluster each slice
# would be a Slurm array task, a Kubernetes Job or a CI matrix entry), and
# `boot --merge` combines the parts into the same bytes as one `boot -B N`.
#
# usage: pipelines/parallel-boot.sh [ROWS [REPLICATES [SLICES]]]
#        (default 50000 500 5; GNU parallel: apt-get install parallel)
set -euo pipefail
# --help prints the comment above
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
	sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
	exit 0
fi
case "${1:-}" in
-h | --help)
	sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
esac
here=$(cd "$(dirname "$0")/.." && pwd)
PATH="${PSFLOW_BIN:-$here/bin}:$PATH"
rows=${1:-50000} reps=${2:-500} slices=${3:-5}
command -v parallel >/dev/null 2>&1 || {
	echo "parallel-boot.sh: GNU parallel is not installed (apt-get install parallel)" >&2
	exit 1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gen -n "$rows" --seed 42 |
	fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence |
	weight --estimand ate,att | match -k 1 >"$work/stream.mp"

# the slices A-B of 1..reps, one job each
step=$(((reps + slices - 1) / slices))
for ((a = 1; a <= reps; a += step)); do
	b=$((a + step - 1 < reps ? a + step - 1 : reps))
	echo "$a-$b"
done | parallel --halt now,fail=1 "boot -B $reps --seed 42 -j 1 --range {} --quiet <'$work/stream.mp' >'$work/part-{}.mp'"

boot --merge "$work"/part-*.mp | report
