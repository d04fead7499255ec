# Faults over ZeroMQ: either side may start first and nothing is lost; a
# slow consumer makes the producer wait in bounded memory.
. "$TESTS/lib.sh"

sum() { mp2csv "$@" | md5sum | cut -d' ' -f1; }
want=$(gen -n 1000000 --seed 11 | mp2csv | md5sum | cut -d' ' -f1)

port=$(free_port)
gen -n 1000000 --seed 11 --out "@tcp://127.0.0.1:$port" &
producer=$!
sleep 0.5
got=$(sum --in ">tcp://127.0.0.1:$port")
wait $producer
check "producer first, consumer later: 1,000,000 rows arrive (checksum)" test "$got" = "$want"

port=$(free_port)
(sum --in "@tcp://127.0.0.1:$port" >"$work/late.sum") &
consumer=$!
sleep 0.5
gen -n 1000000 --seed 11 --out ">tcp://127.0.0.1:$port"
wait $consumer
check "consumer first, producer later: 1,000,000 rows arrive (checksum)" test "$(cat "$work/late.sum")" = "$want"

# A consumer that sleeps between batches: the producer blocks at the
# high-water mark instead of queueing. 10,000,000 rows in batches of 10,000
# are 330 MB of columns; the producer must stay under 64 MB of RSS.
port=$(free_port)
mpcat --sizes --in "@tcp://127.0.0.1:$port" |
	$PY -c '
import sys, time
n = 0
for line in sys.stdin:
    n += 1
    time.sleep(0.003)
print(n)' >"$work/slow.count" &
consumer=$!
# (under AddressSanitizer, freed memory waits in a 256 MB quarantine that
# would count as RSS: keep it small; other builds ignore the variable)
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=1" \
	/usr/bin/time -f '%M' -o "$work/gen.rss" gen -n 10000000 --batch-rows 10000 --seed 1 \
	--out ">tcp://127.0.0.1:$port"
wait $consumer
check "slow consumer: every batch arrives (head + 1000 batches + end)" test "$(cat "$work/slow.count")" -eq 1002
rss_kb=$(tail -1 "$work/gen.rss")
check "slow consumer: producer peak RSS ${rss_kb} kB stays under 64 MB (330 MB were sent)" test "$rss_kb" -lt 65536

# A reader stalled for seconds (its output read slowly) must not drop the
# connection: ZMQ heartbeats did that (they need the stalled engine to read)
# and lost the tail of the stream. Stall it for about 8 s in all.
port=$(free_port)
(mp2csv --in "@tcp://127.0.0.1:$port" 2>"$work/stall.err" | $PY -c '
import sys, time
n = 0
while True:
    b = sys.stdin.buffer.read(1 << 20)
    if not b:
        break
    n += b.count(b"\n")
    time.sleep(0.15)
print(n)' >"$work/stall.count"; echo "${PIPESTATUS[0]}" >"$work/stall.rc") &
reader=$!
sleep 0.3
gen -n 1000000 --seed 11 --out ">tcp://127.0.0.1:$port"
wait $reader
check "a reader stalled for seconds still gets every row and the end" test "$(cat "$work/stall.count")" = 1000001 -a "$(cat "$work/stall.rc")" = 0

# The streaming stages hold no rows: on 2,000,000 rows (about 120 MB of
# columns with the weights) weight and balance stay under 64 MB of RSS.
gen -n 2000000 --seed 5 | fitps -x engagement_tier,query_confidence >"$work/big_fit.mp"
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=1" \
	/usr/bin/time -f '%M' -o "$work/weight.rss" weight -e ate,att <"$work/big_fit.mp" >"$work/big_w.mp"
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=1" \
	/usr/bin/time -f '%M' -o "$work/balance.rss" balance <"$work/big_w.mp" >/dev/null
mb=$(( $(stat -c %s "$work/big_w.mp") / 1000000 ))
rss_kb=$(tail -1 "$work/weight.rss")
check "weight streams: peak RSS ${rss_kb} kB under 64 MB on 2M rows (${mb} MB out)" test "$rss_kb" -lt 65536
rss_kb=$(tail -1 "$work/balance.rss")
check "balance streams: peak RSS ${rss_kb} kB under 64 MB on 2M rows (${mb} MB in)" test "$rss_kb" -lt 65536
