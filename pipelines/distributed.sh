#!/usr/bin/env bash
# The opt-in study split over hosts. Each stage is a process that can run on
# its own machine; here all run on this one, over tcp://127.0.0.1, so the
# script is a working example. To spread it, run each block on its host and
# replace 127.0.0.1 by the host that binds.
#
#   host A (data):        gen | fitps ... --out '@tcp://*:5555'
#   host B (estimation):  weight --in '>tcp://A:5555' | match | balance \
#                           | boot -B 500 --workers '@tcp://*:5557' | report
#   hosts C, D (workers): boot --worker '>tcp://B:5557'
#
# usage: pipelines/distributed.sh [ROWS [REPLICATES]]   (default 50000 500)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
PATH="${PSFLOW_BIN:-$here/bin}:$PATH"
rows=${1:-50000} reps=${2:-500}
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
data=$(port) work=$(port)

# host A: makes the data and fits the propensity model, then serves the stream
gen -n "$rows" --seed 42 |
	fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence \
		--out "@tcp://127.0.0.1:$data" &
host_a=$!

# hosts C and D: bootstrap workers, waiting for the coordinator
boot --worker ">tcp://127.0.0.1:$work" --quiet --timeout 120 &
host_c=$!
boot --worker ">tcp://127.0.0.1:$work" --quiet --timeout 120 &
host_d=$!

# host B: reads the stream, estimates, coordinates the bootstrap, reports
weight --in ">tcp://127.0.0.1:$data" --timeout 120 --estimand ate,att |
	match -k 1 --ties all |
	balance |
	boot -B "$reps" --seed 42 -j 0 --workers "@tcp://127.0.0.1:$work" |
	report

wait $host_a $host_c $host_d
