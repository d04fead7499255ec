#!/usr/bin/env bash
# `make demo`: the opt-in study on synthetic users (truth known), then on the
# reference data set the repository carries (data/).
set -euo pipefail
# --help prints the comment above
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
	sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
	exit 0
fi
here=$(cd "$(dirname "$0")/.." && pwd)
ref="$here/data/synthetic_llm_logs_seed42_n50000.csv"

echo "== The opt-in study on 50,000 synthetic users (gen, seed 42) =="
"$here/pipelines/optin-study.sh" 50000 42
if [ -f "$ref" ]; then
	echo
	echo "== The same flow on the reference data set (scikit-learn's objective, --l2 1) =="
	"$here/pipelines/optin-csv.sh" "$ref" --l2 1
fi
