# Interop with an independent MessagePack implementation (python3-msgpack).
. "$TESTS/lib.sh"

if ! $PY -c 'import msgpack' 2>/dev/null; then
	not_ok "python3-msgpack is installed (make test-deps installs it)"
	exit 0
fi
gen -n 70000 --batch-rows 30000 >"$work/gen.mp"
$PY "$TESTS/py/readstream.py" <"$work/gen.mp" >"$work/py.csv"
mp2csv <"$work/gen.mp" >"$work/c.csv"
same "python decodes gen's bin batches into the same values as psflow" "$work/py.csv" "$work/c.csv"
check "  ... over 3 batches and 70000 rows" test "$(wc -l <"$work/py.csv")" -eq 70001

csv2mp "$REF_CSV" | $PY "$TESTS/py/readstream.py" >"$work/ref-py.csv"
csv2mp "$REF_CSV" | mp2csv >"$work/ref-c.csv"
same "python decodes the reference data set as psflow does" "$work/ref-py.csv" "$work/ref-c.csv"

$PY "$TESTS/py/mkstream.py" plain >"$work/plain.mp"
mpcat <"$work/plain.mp" >"$work/plain.json"
check "a stream written by hand in python (plain arrays) is read" \
	grep -q '"columns":{"x":\[1.5,null,-2\],"n":\[7,null,-9007199254740993\],"b":\[true,false,null\],"tier":\["light",null,"heavy"\]}' "$work/plain.json"
check "  ... its second batch, level given by code" grep -q '"x":\[3\],"n":\[1\],"b":\[true\],"tier":\["medium"\]' "$work/plain.json"
check "  ... its result passes through" grep -q '{"kind":"result","stage":"hand","name":"note","n":4}' "$work/plain.json"
$PY "$TESTS/py/mkstream.py" bin | mpcat >"$work/bin.json"
check "hand-written little-endian bin columns are read" \
	grep -q '"x":\[0.25,null\],"n":\[1,-5\],"b":\[true,null\],"tier":\["light",null\]' "$work/bin.json"
# psflow re-encodes the hand-written stream in bin; python reads it back
mp2csv <"$work/plain.mp" >"$work/plain-c.csv"
check "plain-array stream survives psflow and python decoding alike" \
	bash -c "$PY '$TESTS/py/readstream.py' <'$work/plain.mp' | cmp -s - '$work/plain-c.csv'"
