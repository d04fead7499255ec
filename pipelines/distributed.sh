#!/usr/bin/env bash
# The opt-in study split over hosts, every link encrypted and authenticated
# (CURVE keys; README "Across machines"). Each stage is a process that can
# run on its own machine; here all run on this one, over tcp://127.0.0.1, so
# the script is a working example. To spread it, run each block on its host,
# replace 127.0.0.1 by the host that binds, and copy each public NAME.key to
# the hosts that name it (never the NAME.key_secret):
#
#   host A (data):        gen | fitps ... --out '@tcp://*:5555' \
#                           --curve-key a.key_secret --curve-allow allow-a/   (holds b.key)
#   host B (estimation):  weight --in '>tcp://A:5555' --curve-key b.key_secret --curve-server a.key \
#                           | match | balance \
#                           | boot -B 500 --workers '@tcp://*:5557' \
#                               --curve-key b.key_secret --curve-allow allow-b/   (holds c.key)
#                           | report
#   hosts C, D (workers): boot --worker '>tcp://B:5557' --curve-key c.key_secret --curve-server b.key
#
# usage: pipelines/distributed.sh [--help] [ROWS [REPLICATES]]   (default 50000 500)
set -euo pipefail
# --help prints the comment above
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
	sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
	exit 0
fi
here=$(cd "$(dirname "$0")/.." && pwd)
PATH="${PSFLOW_BIN:-$here/bin}:$PATH"
rows=${1:-50000} reps=${2:-500}
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
data=$(port) work=$(port)

# the keys: one pair per host, each binder's allow-list of the keys it lets in
keys=$(mktemp -d)
trap 'rm -rf "$keys"' EXIT
mkdir "$keys/allow-a" "$keys/allow-b"
for host in a b c; do keygen --dir "$keys" $host >/dev/null; done
cp "$keys/b.key" "$keys/allow-a/"
cp "$keys/c.key" "$keys/allow-b/"

# host A: makes the data and fits the propensity model, then serves the stream
gen -n "$rows" --seed 42 |
	fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence \
		--out "@tcp://127.0.0.1:$data" --curve-key "$keys/a.key_secret" --curve-allow "$keys/allow-a" &
host_a=$!

# hosts C and D: bootstrap workers, waiting for the coordinator
worker_keys=(--curve-key "$keys/c.key_secret" --curve-server "$keys/b.key")
boot --worker ">tcp://127.0.0.1:$work" "${worker_keys[@]}" --quiet --timeout 120 &
host_c=$!
boot --worker ">tcp://127.0.0.1:$work" "${worker_keys[@]}" --quiet --timeout 120 &
host_d=$!

# host B: reads the stream, estimates, coordinates the bootstrap, reports
weight --in ">tcp://127.0.0.1:$data" --curve-key "$keys/b.key_secret" \
	--curve-server "$keys/a.key" --timeout 120 --estimand ate,att |
	match -k 1 --ties all |
	balance |
	boot -B "$reps" --seed 42 -j 0 --workers "@tcp://127.0.0.1:$work" \
		--curve-key "$keys/b.key_secret" --curve-allow "$keys/allow-b" |
	report

wait $host_a $host_c $host_d
