#!/usr/bin/env bash
# The opt-in study on synthetic users whose true effect is known:
#   gen | fitps | weight | match | balance | boot | report
# usage: pipelines/optin-study.sh [ROWS [SEED]]   (default 50000 42)
# BOOT_REPS (default 500) sets boot -B; REPORT_HTML=FILE also writes the
# report's HTML page there.
set -euo pipefail
# --help prints the comment above
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
	sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
	exit 0
fi
here=$(cd "$(dirname "$0")/.." && pwd)
PATH="${PSFLOW_BIN:-$here/bin}:$PATH"
rows=${1:-50000} seed=${2:-42}

gen -n "$rows" --seed "$seed" |
	fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence |
	weight --estimand ate,att |
	match -k 1 --ties all |
	balance --threshold 0.1 |
	boot -B "${BOOT_REPS:-500}" --seed 42 |
	report ${REPORT_HTML:+--html "$REPORT_HTML"}
