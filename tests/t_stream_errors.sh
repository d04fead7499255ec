# Broken streams: each gets a clear message and exit 1, never a crash or hang.
. "$TESTS/lib.sh"

mk() { $PY "$TESTS/py/mkstream.py" "$1" >"$work/$1.mp"; }
for c in empty version99 no-end count-mismatch after-end second-head head-only no-head \
    ragged-batch unknown-column missing-column bin-wrong-length bad-level string-in-f64 \
    unknown-type deep str-4gib array-4g garbage not-a-map; do
	mk "$c"
done
check "a stream with no rows is fine (head + end)" mpcat --in "$work/empty.mp"
fails "empty input" 1 "the input ended before a head arrived" "mpcat </dev/null"
fails "version 99" 1 "stream protocol version 99 is not known to this psflow, which reads version 1" "mpcat <'$work/version99.mp'"
fails "no end" 1 "the input ended after 3 rows in 1 batches, without an end message" "mpcat <'$work/no-end.mp'"
fails "end counts disagree" 1 "says it sent 5 rows in 1 batches, but 3 rows in 1 batches arrived" "mpcat <'$work/count-mismatch.mp'"
fails "a message after the end" 1 "a message follows the end" "mpcat <'$work/after-end.mp'"
fails "a second head" 1 "a second head" "mpcat <'$work/second-head.mp'"
fails "a head only" 1 "the input ended after 0 rows in 0 batches, without an end" "mpcat <'$work/head-only.mp'"
fails "no head" 1 "the first message is not a head" "mpcat <'$work/no-head.mp'"
fails "column length differs from rows" 1 "column 'x' \\(f64\\): 2 values, but the batch has 3 rows" "mpcat <'$work/ragged-batch.mp'"
fails "a column not in the head" 1 "column 'zz' is not in the head" "mpcat <'$work/unknown-column.mp'"
fails "a column missing from a batch" 1 "column 'tier' \\(cat\\): missing from the batch" "mpcat <'$work/missing-column.mp'"
fails "bin of the wrong length" 1 "binary data of 15 bytes, but 2 rows need 16" "mpcat <'$work/bin-wrong-length.mp'"
fails "a level not in the head" 1 "'huge' is not one of its levels" "mpcat <'$work/bad-level.mp'"
fails "a string in an f64 column" 1 "row 0: expected a number, got a string" "mpcat <'$work/string-in-f64.mp'"
fails "an unknown column type" 1 "unknown type 'f32'" "mpcat <'$work/unknown-type.mp'"
fails "a map nested 10,000 deep" 1 "nesting deeper than 32" "mpcat <'$work/deep.mp'"
fails "a string claiming 4 GiB" 1 "larger than the size cap" "mpcat <'$work/str-4gib.mp'"
fails "an array claiming 4 G elements" 1 "larger than the size cap" "mpcat <'$work/array-4g.mp'"
fails "garbage bytes" 1 "invalid MessagePack byte" "mpcat <'$work/garbage.mp'"
fails "a message that is not a map" 1 "message is not a map" "mpcat <'$work/not-a-map.mp'"
gen -n 1000 >"$work/gen.mp"
fails "a truncated stream" 1 "the input ended inside a message \\(truncated stream\\) after 0 rows in 0 batches, without an end" "head -c 5000 '$work/gen.mp' | mpcat"
fails "a message over --max-message" 1 "larger than the size cap" "gen -n 300000 --batch-rows 65536 | mpcat --max-message 1"
fails "two streams back to back" 1 "a message follows the end" "cat '$work/gen.mp' '$work/gen.mp' | mpcat"

# heads and kinds written by hand that break the protocol
bad_head() { $PY -c "import msgpack, sys; sys.stdout.buffer.write(b''.join(msgpack.packb(m) for m in $1))"; }
bad_head "[{'kind':'head','version':1,'columns':[]},{'kind':'nope'}]" >"$work/kind.mp"
fails "an unknown message kind" 1 "unknown message after 0 rows in 0 batches: 'kind' must be head, batch, result or end" "mpcat <'$work/kind.mp'"
bad_head "[{'kind':'head','version':1,'columns':5}]" >"$work/cols5.mp"
fails "a head whose columns are not an array" 1 "'columns' must be an array of \\{name, type\\}" "mpcat <'$work/cols5.mp'"
bad_head "[{'kind':'head','version':1,'columns':[{'name':'c','type':'cat','levels':['a','a']}]}]" >"$work/dupl.mp"
fails "a cat column with a level twice" 1 "a cat column has a level twice" "mpcat <'$work/dupl.mp'"
bad_head "[{'kind':'head','version':1,'columns':[{'name':'c','type':'f64'},{'name':'c','type':'i64'}]}]" >"$work/dupc.mp"
fails "two columns with one name" 1 "two columns have the same name" "mpcat <'$work/dupc.mp'"

# -- a stage that fails: its message is the one the user reads ---------------
printf 't,x\n1,0.2\n1,0.9\n0,0.5\n0,1e160\n1,0.7\n0,0.1\n' | csv2mp -t t -x x --quiet >"$work/bx.mp"
balance --quiet <"$work/bx.mp" 2>"$work/chain.err" | balance --quiet 2>>"$work/chain.err" | mpcat 2>>"$work/chain.err" >/dev/null
check "a stage that fails mid-stream on a pipe: the stages after it exit 1 saying nothing more" bash -c \
	"test \$(wc -l <'$work/chain.err') -eq 1 &&
	grep -q \"^balance: covariate column 'x' has 1 value past 1e100\" '$work/chain.err'"
gen -n 3 | fitps -t opt_in_agent_mode -x engagement_tier 2>"$work/chain2.err" | weight 2>>"$work/chain2.err" | report 2>>"$work/chain2.err"
check "a stage that fails before its head: the stages after it (an empty pipe) add no message" bash -c \
	"test \$(wc -l <'$work/chain2.err') -eq 1 && grep -q '^fitps: no unit is treated' '$work/chain2.err'"
balance --quiet <"$work/bx.mp" >"$work/failed.mp" 2>/dev/null
fails "a stream file a failed stage wrote: the reader names that stage and its reason" 1 \
	"balance, the stage before this one, failed: covariate column 'x' has 1 value past 1e100" "report <'$work/failed.mp'"
port=$(free_port)
mpcat --in "@tcp://127.0.0.1:$port" >/dev/null 2>"$work/remote.err" &
reader=$!
sleep 0.3
balance --quiet --out ">tcp://127.0.0.1:$port" <"$work/bx.mp" 2>/dev/null
wait $reader
check "over ZeroMQ (another host's stderr): the reader fails with the writer's reason (exit $?)" \
	grep -q "balance, the stage before this one, failed: covariate column 'x' has 1 value past 1e100" "$work/remote.err"
# match writes its rows in a thread while it makes its results (stage.h):
# failing then (--adjust's outcome model cannot be fitted: c is constant),
# with a reader that has not read yet, the error must come between two
# whole batches, after some and before the last
awk 'BEGIN { print "t,y,ps,x,c"; s = 1
	for (i = 0; i < 300000; i++) { s = (s * 69069 + 1) % 4294967296
		printf "%d,%d,%.6f,%d,7\n", i % 2, (s / 65536) % 2, 0.3 + (s % 1000) / 2500, s % 10 } }' |
	csv2mp --quiet >"$work/adj.mp"
match -t t -y y --ps ps --adjust-formula x,c --adjust-family linear --quiet <"$work/adj.mp" \
	2>/dev/null | (sleep 2; cat >"$work/cut.mp")
fails "a stage that fails while its rows go out: the reader names it and its reason" 1 \
	"match, the stage before this one, failed: --adjust: the outcome model 'x,c' cannot be fitted" \
	"mpcat <'$work/cut.mp'"
check "  ... after whole batches, fewer than all 300,000 rows" bash -c \
	"mpcat --sizes <'$work/cut.mp' 2>/dev/null | $PY -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert rows[0][\"kind\"] == \"head\" and all(r[\"kind\"] == \"batch\" for r in rows[1:]), rows[-1]
n = sum(r[\"rows\"] for r in rows[1:])
assert 0 < n < 300000, n'"
