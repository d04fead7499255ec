#!/usr/bin/env bash
# The opt-in study on a CSV file with the reference data set's columns:
#   csv2mp FILE | fitps | weight | match | balance | boot | report
# usage: pipelines/optin-csv.sh FILE [fitps options, e.g. --l2 1]
set -euo pipefail
# --help prints the comment above
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
	sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
	exit 0
fi
here=$(cd "$(dirname "$0")/.." && pwd)
PATH="${PSFLOW_BIN:-$here/bin}:$PATH"
[ $# -ge 1 ] || { echo "usage: $0 FILE.csv [fitps options]" >&2; exit 2; }
csv=$1
shift

csv2mp "$csv" |
	fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence "$@" |
	weight --estimand ate,att |
	match -k 1 --ties all |
	balance --threshold 0.1 |
	boot -B "${BOOT_REPS:-500}" --seed 42 |
	report
