# Helpers for the shell tests: each check prints "ok - NAME" or
# "not ok - NAME" with the evidence. Source it; $BIN is on PATH.
set -u
set -o pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
PY=/usr/bin/python3
REF_CSV="$DATA/synthetic_llm_logs_seed42_n50000.csv"
STUDY=(-t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence)

ok() { echo "ok - $1"; }
not_ok() {
	echo "not ok - $1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$@"
	return 0
}
skip() { echo "skip - $1: $2"; }

# check NAME COMMAND...: passes when the command succeeds.
check() {
	local name=$1
	shift
	if "$@" >"$work/check.out" 2>&1; then
		ok "$name"
	else
		not_ok "$name" "command: $*" "$(tail -5 "$work/check.out")"
	fi
}

# fails NAME CODE PATTERN COMMAND...: the command (a shell string, so it can
# be a pipeline) must exit CODE and print PATTERN (grep -E) on stderr, with
# no sign of a crash (sanitizer report, signal), within FAILS_TIMEOUT
# seconds (a program that hangs on bad input fails its test instead of
# holding the suite until CI gives up on it).
FAILS_TIMEOUT=${FAILS_TIMEOUT:-300}
fails() {
	local name=$1 code=$2 pattern=$3 rc
	shift 3
	timeout -k 10 "$FAILS_TIMEOUT" bash -o pipefail -c "$*" >"$work/fails.out" 2>"$work/fails.err"
	rc=$?
	if [ "$rc" -eq 124 ] && [ "$code" -ne 124 ]; then
		not_ok "$name" "hung: still running after $FAILS_TIMEOUT s (FAILS_TIMEOUT): $*" \
		    "$(tail -5 "$work/fails.err")"
	elif [ "$rc" -ne "$code" ]; then
		not_ok "$name" "expected exit $code, got $rc: $*" "$(tail -5 "$work/fails.err")"
	elif ! grep -Eq -- "$pattern" "$work/fails.err"; then
		not_ok "$name" "stderr lacks /$pattern/: $*" "$(tail -5 "$work/fails.err")"
	elif grep -Eq 'Sanitizer|runtime error|Segmentation|core dumped' "$work/fails.err"; then
		not_ok "$name" "crashed: $*" "$(head -5 "$work/fails.err")"
	else
		ok "$name"
	fi
}

# near NAME GOT WANT TOL: |GOT - WANT| <= TOL
near() {
	local name=$1 got=$2 want=$3 tol=$4
	if [ -n "$got" ] && awk -v g="$got" -v w="$want" -v t="$tol" \
	    'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= t) }'; then
		ok "$name ($got, want $want ± $tol)"
	else
		not_ok "$name" "got '$got', want $want ± $tol"
	fi
}

# same NAME FILE1 FILE2: byte-identical files
same() {
	if cmp -s "$2" "$3"; then ok "$1"; else not_ok "$1" "$2 and $3 differ" "$(cmp "$2" "$3" 2>&1 | head -2)"; fi
}

# jqr: a field of the JSON report, via python (jq may be missing)
# usage: jget FILE EXPR   (EXPR is python over `d`, the parsed JSON)
jget() {
	$PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# free_port: a TCP port nobody listens on
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# two_hosts TAG SUBNET: two network namespaces joined by a veth pair, hosts
# SUBNET.1 (namespace $ns_a, interface $if_a) and SUBNET.2 ($ns_b, $if_b),
# removed when the test ends. Returns 1 (nothing made) where namespaces are
# not allowed (not root).
two_hosts() {
	ns_a=psflow-$1a-$$ ns_b=psflow-$1b-$$ if_a=$1a-$$ if_b=$1b-$$
	[ "$(id -u)" -eq 0 ] && ip netns add $ns_a 2>/dev/null || return 1
	trap 'ip netns del $ns_a 2>/dev/null; ip netns del $ns_b 2>/dev/null; rm -rf "$work"' EXIT
	ip netns add $ns_b
	ip link add $if_a type veth peer name $if_b
	ip link set $if_a netns $ns_a
	ip link set $if_b netns $ns_b
	ip -n $ns_a addr add $2.1/24 dev $if_a
	ip -n $ns_b addr add $2.2/24 dev $if_b
	for ns in $ns_a $ns_b; do ip -n $ns link set lo up; done
	ip -n $ns_a link set $if_a up
	ip -n $ns_b link set $if_b up
}
