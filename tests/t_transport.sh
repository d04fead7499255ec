# The same stream over a pipe, a file, tcp:// and ipc:// arrives identical;
# ZeroMQ works whichever side starts first.
. "$TESTS/lib.sh"

gen -n 300000 --batch-rows 50000 | mp2csv >"$work/pipe.csv"

gen -n 300000 --batch-rows 50000 --out "$work/file.mp"
mp2csv --in "$work/file.mp" >"$work/file.csv"
same "file endpoint carries the stream unchanged" "$work/pipe.csv" "$work/file.csv"

port=$(free_port)
mp2csv --in "@tcp://127.0.0.1:$port" >"$work/tcp.csv" &
reader=$!
gen -n 300000 --batch-rows 50000 --out ">tcp://127.0.0.1:$port"
wait $reader
check "tcp: reader binds first, exits 0" test $? -eq 0
same "tcp://127.0.0.1 carries the stream unchanged" "$work/pipe.csv" "$work/tcp.csv"

port=$(free_port)
gen -n 300000 --batch-rows 50000 --out "@tcp://127.0.0.1:$port" &
writer=$!
sleep 0.3
mp2csv --in ">tcp://127.0.0.1:$port" >"$work/tcp2.csv"
check "tcp: writer binds first and waits for its reader" wait $writer
same "  ... and nothing is lost" "$work/pipe.csv" "$work/tcp2.csv"

mp2csv --in "ipc://$work/sock" >"$work/ipc.csv" &
reader=$!
gen -n 300000 --batch-rows 50000 --out ">ipc://$work/sock"
wait $reader
same "ipc:// carries the stream unchanged" "$work/pipe.csv" "$work/ipc.csv"

# a writer killed mid-stream: the reader says so instead of hanging
port=$(free_port)
(mp2csv --in "@tcp://127.0.0.1:$port" >/dev/null 2>"$work/dead.err"; echo $? >"$work/dead.rc") &
reader=$!
gen -n 100000000 --batch-rows 1000 --out ">tcp://127.0.0.1:$port" 2>/dev/null &
writer=$!
sleep 0.5
kill -9 $writer
wait $reader
check "reader of a killed ZeroMQ writer exits 1" test "$(cat "$work/dead.rc")" = 1
check "  ... saying the sender disconnected without an end" \
	grep -q 'the sending stage disconnected after [0-9]* rows in [0-9]* batches, without an end message' "$work/dead.err"

fails "a pipe reader of a killed writer exits 1, saying how many rows came" 1 "the input ended.* after [0-9]+ rows in [0-9]+ batches, without an end message" \
	"(gen -n 50000000 --batch-rows 1000 & pid=\$!; sleep 0.3; kill -9 \$pid) | mp2csv >/dev/null"
fails "a writer whose reader went away says so" 1 "the reader of stdout went away" \
	"gen -n 10000000 --batch-rows 1000 | head -c 100 >/dev/null"
fails "--timeout ends a wait for a writer that never comes" 1 "no message arrived within --timeout" \
	"mp2csv --timeout 0.5 --in '@tcp://127.0.0.1:$(free_port)'"
fails "a bad endpoint is refused" 1 "cannot connect to tcp://nohost" "gen -n 5 --out '>tcp://nohost' --insecure"

# libzmq is opened when a program first uses an endpoint, not at start:
# a stage on pipes never loads it, one reading a socket does
libzmq_loaded() { # COMMAND (a stage that waits for input): yes or no
	local pid
	bash -c "$1" >/dev/null 2>&1 &
	sleep 0.5
	pid=$(pgrep -n -x weight)
	if grep -q 'libzmq' "/proc/$pid/maps" 2>/dev/null; then echo yes; else echo no; fi
	kill "$pid" 2>/dev/null
	wait
}
port=$(free_port)
check "a stage on pipes does not load libzmq" test "$(libzmq_loaded "sleep 2 | weight")" = no
check "a stage reading a socket loads it" test "$(libzmq_loaded "weight --in '@tcp://127.0.0.1:$port' --timeout 2")" = yes
