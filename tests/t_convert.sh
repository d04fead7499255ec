# Converters: csv2mp | mp2csv round trips, types, missing values, bad CSV.
. "$TESTS/lib.sh"

csv2mp "$REF_CSV" >"$work/ref.mp"
mp2csv <"$work/ref.mp" >"$work/ref.csv"
# mp2csv writes 7.0 as 7: compare values, not text
check "reference CSV round-trips value for value" $PY - "$REF_CSV" "$work/ref.csv" <<'PY'
import csv, sys
a = list(csv.reader(open(sys.argv[1]))); b = list(csv.reader(open(sys.argv[2])))
assert a[0] == b[0] and len(a) == len(b) == 50001, (len(a), len(b))
for i, (x, y) in enumerate(zip(a, b)):
    for u, v in zip(x, y):
        assert u == v or float(u) == float(v), (i, u, v)
PY
mpcat --sizes <"$work/ref.mp" | head -1 >"$work/head.json"
check "types inferred: tier cat (sorted levels), confidence f64, opt-in i64" \
	grep -q '"name":"engagement_tier","type":"cat","levels":\["heavy","light","medium"\]}.*"name":"opt_in_agent_mode","type":"i64".*"name":"query_confidence","type":"f64"' "$work/head.json"

printf 'a,b,c,d,e\n1,2.5,true,x,\n,,,,\n-3,1e3,FALSE,"y, z",\n' >"$work/types.csv"
csv2mp "$work/types.csv" >"$work/types.mp"
mpcat <"$work/types.mp" >"$work/types.json"
check "every type and missing values" grep -q '"columns":{"a":\[1,null,-3\],"b":\[2.5,null,1000\],"c":\[true,null,false\],"d":\["x",null,"y, z"\],"e":\[null,null,null\]}' "$work/types.json"
mp2csv <"$work/types.mp" >"$work/types.out"
check "missing values come back as empty fields" grep -qx ',,,,' "$work/types.out"
check "a field with a comma is quoted on the way out" grep -q '"y, z"' "$work/types.out"

fails "--f64 on a true/false column names the line" 1 "line 2, column 'c': 'true' is not a number" \
	"csv2mp --f64 c '$work/types.csv' >/dev/null"
csv2mp --cat a "$work/types.csv" | mpcat | head -1 >"$work/cat.json"
check "--cat makes a numeric column categorical" grep -q '"name":"a","type":"cat","levels":\["-3","1"\]' "$work/cat.json"

# A column read as whole numbers that meets a decimal becomes f64 from its
# first row: earlier whole numbers as strtod reads their text (2^53 + 1
# rounds to 2^53), earlier missing values NaN; one that then meets text is
# cat, with every row's text; a forced type's error comes only after the
# widths of all rows are known good
printf 'a,b,c\n9007199254740993,1,x\n,2,\n1.5,3,3\nzz,4,4.5\n' >"$work/widen.csv"
csv2mp --f64 b "$work/widen.csv" | mpcat >"$work/widen.json"
check "whole numbers, then a decimal, then text: a is cat with all its texts" \
	grep -q '"name":"a","type":"cat","levels":\["1.5","9007199254740993","zz"\]' "$work/widen.json"
check "  ... every row's text kept; c, numbers after text, cat too; b forced to f64" \
	grep -q '"columns":{"a":\["9007199254740993",null,"1.5","zz"\],"b":\[1,2,3,4\],"c":\["x",null,"3","4.5"\]}' "$work/widen.json"
printf 'a\n9007199254740993\n\n1.5\n' | csv2mp | mpcat >"$work/widen2.json"
check "whole numbers, then a decimal: f64, 2^53 + 1 read as strtod reads it" \
	grep -q '"columns":{"a":\[9007199254740992,null,1.5\]}' "$work/widen2.json"
# numbers and true/false texts are checked in separate passes: the value
# named is still the file's first bad one, by line and then column
fails "forced types: a bad true/false value before a bad number is the one named" 1 \
	"line 3, column 'a': 'x' is not true or false" \
	"printf 'a,b\\ntrue,1\\nx,2\\nfalse,y\\n' | csv2mp --bool a --i64 b >/dev/null"
fails "  ... and on one line, the leftmost column's" 1 \
	"line 2, column 'a': 'z' is not true or false" \
	"printf 'a,b\\nz,x\\n' | csv2mp --bool a --i64 b >/dev/null"
printf 'a,b\nx,1\n2\n' >"$work/late.csv"
fails "a forced type's bad value waits for the widths: the ragged row is named" 1 \
	"line 3: 1 fields, but the header has 2" "csv2mp --f64 a '$work/late.csv'"

printf 'a,b\n' >"$work/empty.csv"
csv2mp "$work/empty.csv" >"$work/empty.mp"
mpcat <"$work/empty.mp" >"$work/empty.json"
check "header-only CSV: head and end, zero batches" test "$(tail -1 "$work/empty.json")" = '{"kind":"end","rows":0,"batches":0}'
check "  ... and nothing between them" test "$(wc -l <"$work/empty.json")" -eq 2

printf '\xef\xbb\xbfid,note\r\n1,"two\r\nlines"\r\n2,plain\r\n' >"$work/crlf.csv"
csv2mp "$work/crlf.csv" | mpcat >"$work/crlf.json"
check "BOM, CRLF and an embedded newline are read as CSV" grep -q '"id":\[1,2\],"note":\["two\\r\\nlines","plain"\]' "$work/crlf.json"

printf 'a,b\n1,2\n3\n' >"$work/ragged.csv"
fails "ragged row: line number and field counts" 1 "line 3: 1 fields, but the header has 2" "csv2mp '$work/ragged.csv'"
printf 'a,b\n1,"open\n' >"$work/quote.csv"
fails "unterminated quote names the line" 1 "line 2: a quoted field is never closed" "csv2mp '$work/quote.csv'"
fails "empty file" 1 "is empty" "csv2mp /dev/null"
fails "missing file" 1 "cannot open '/nonexistent.csv'" "csv2mp /nonexistent.csv"
fails "--cat naming no column is a usage error" 2 "--cat names 'nope'" "csv2mp --cat nope '$work/types.csv'"

# Numbers parse to the same bits as Python's float() and int(): plain
# decimals take a fast exact path, everything else strtod
$PY - "$work/nums.csv" <<'PY'
import random, sys
r = random.Random(7)
rows = ["x,i"]
for k in range(20000):
    d = r.randint(1, 17)
    digits = "".join(r.choice("0123456789") for _ in range(d))
    p = r.randint(0, d)
    x = (r.choice(["", "-", "+"]) + digits[:p] + "." + digits[p:]) if r.random() < 0.8 else digits
    if k % 50 == 0:
        x = r.choice(["1e5", "-2.5E-3", "0.1e1", "-0.0", "-0", ".5", "5.", "123456789012345678", "0.30000000000000004"])
    i = r.choice(["", "-", "+"]) + str(r.randint(0, 10 ** r.randint(1, 18) - 1))
    if k % 70 == 0:  # 19 digits: strtoll
        i = r.choice(["9223372036854775807", "-9223372036854775807", "1000000000000000000"])
    rows.append(x + "," + i)
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
csv2mp "$work/nums.csv" >"$work/nums.mp"
check "csv2mp parses decimals and integers exactly (20000 against Python)" $PY - "$work/nums.csv" "$work/nums.mp" <<'PY'
import csv, struct, sys
import msgpack
rows = list(csv.reader(open(sys.argv[1])))[1:]
msgs = list(msgpack.Unpacker(open(sys.argv[2], "rb"), raw=False))
xs, ks = [], []
for m in msgs:
    if m["kind"] == "batch":
        n = m["rows"]
        xs += struct.unpack("<%dd" % n, m["columns"]["x"])
        ks += struct.unpack("<%dq" % n, m["columns"]["i"])
assert len(xs) == len(rows)
for (x, i), a, b in zip(rows, xs, ks):
    assert struct.pack("<d", a) == struct.pack("<d", float(x)), (x, a, float(x))
    assert b == int(i), (i, b)
PY

# -- text out: --out FILE, --columns -----------------------------------------
gen -n 50 --seed 3 | fitps "${STUDY[@]}" --quiet | weight --quiet >"$work/scored.mp"
mp2csv --columns user_id,ps,w_ate --quiet <"$work/scored.mp" >"$work/cols.csv"
mp2csv --quiet <"$work/scored.mp" >"$work/full.csv"
check "mp2csv --columns: the values are the full CSV's" $PY -c "
import csv
rows = list(csv.reader(open('$work/cols.csv')))
full = list(csv.DictReader(open('$work/full.csv')))
assert rows[0] == ['user_id', 'ps', 'w_ate'], rows[0]
assert rows[1:] == [[f['user_id'], f['ps'], f['w_ate']] for f in full]"
fails "mp2csv --columns with a column the stream lacks: usage error naming what it has" 2 \
	"--columns: 'nope' is not in the stream \\(it has: user_id, engagement_tier" \
	"mp2csv --columns user_id,nope <'$work/scored.mp'"
mpcat --out "$work/cat.json" <"$work/scored.mp" >"$work/cat.stdout"
check "mpcat --out FILE writes the file, nothing on stdout" bash -c \
	"test ! -s '$work/cat.stdout' && test \$(wc -l <'$work/cat.json') -eq \$(mpcat <'$work/scored.mp' | wc -l)"
report --out "$work/report.txt" <"$work/scored.mp" >"$work/report.stdout"
check "report --out FILE writes the report there" bash -c \
	"test ! -s '$work/report.stdout' && grep -q 'psflow report: 50 rows' '$work/report.txt'"
for p in mp2csv mpcat report; do
	fails "$p --out to an endpoint: refused, saying it writes text" 2 "--out wants a file or '-' here: this program writes text" \
		"$p --out '>tcp://127.0.0.1:9' <'$work/scored.mp'"
done

# -- the CSV as pandas and R write it ----------------------------------------
# in the work folder: the messages name the files as given, relative
cd "$work"
# R's write.csv: quoted names, the row names as a first column without a
# name, NA for missing
printf '"","treat","re74","signup","when"\n"1",1,NA,2025-03-14,2025-03-14T12:00:00Z\n"2",0,5.5,2025-03-15,NA\n"3",1,7,NA,2025-01-01 06:00\n' >r.csv
csv2mp r.csv 2>r.err | mpcat >r.json
check "R's row names column is left out, with a note" bash -c \
	"grep -q \"the first column has no name (R's write.csv row names): left out\" r.err &&
	head -1 r.json | $PY -c 'import json, sys; assert [c[\"name\"] for c in json.load(sys.stdin)[\"columns\"]] == [\"treat\", \"re74\", \"signup\", \"when\"]'"
check "NA is missing in a numeric column (it made the column categorical), counted on stderr" bash -c \
	"sed -n 2p r.json | grep -q '\"re74\":\\[null,5.5,7\\]' && grep -q \"column 're74': 1 values read as missing\" r.err"
check "ISO dates are days since 1970-01-01 (i64), dates with times f64 days, said on stderr" bash -c \
	"sed -n 2p r.json | grep -q '\"signup\":\\[20161,20162,null\\],\"when\":\\[20161.5,null,20089.25\\]' &&
	grep -q \"column 'signup' holds dates: read as days\" r.err && grep -q \"column 'when' holds dates and times\" r.err"
printf 'code,n\nNA,1\nUS,2\n' | csv2mp --na '' --quiet | mpcat | sed -n 2p >na.json
check "--na '' keeps NA as a value (Namibia's code)" grep -q '"code":\["NA","US"\]' na.json
printf 'x,y\nNaN,N/A\nnull,3\n1,\n' | csv2mp --quiet | mpcat | sed -n 2p >na2.json
check "NaN, N/A, null and empty are missing by default" grep -q '"x":\[null,null,1\],"y":\[null,3,null\]' na2.json
fails "an unnamed column other than the first: refused, saying only the first may be unnamed" 1 \
	"header, column 2: a column needs a name \\(only the first may have none" "printf 'a,,c\n1,2,3\n' | csv2mp"
printf 't,y,x\n1,1,0.2\n1,0,0.9\n0,1,0.5\n0,0,0.3\n2,1,0.7\n0,0,0.1\n' >bad-t.csv
fails "a stage's message names the CSV line of a row" 1 "the value 2 at row 4, line 6 of bad-t.csv" \
	"csv2mp -t t -y y -x x bad-t.csv | fitps"
fails "  ... and says 'counting from 0' when lines and rows part (a quoted line break)" 1 \
	"the value 2 at row 4, counting from 0" \
	"printf 't,y,x\n1,1,0.2\n1,0,\"0.9\"\n0,1,\"0.\n5\"\n0,0,0.3\n2,1,0.7\n0,0,0.1\n' | csv2mp -t t -y y -x x --cat x | fitps"

cd - >/dev/null

# -- JSON Lines, in and out ---------------------------------------------------
csv2mp "$REF_CSV" --quiet | mp2jsonl >"$work/ref.jsonl"
check "mp2jsonl: one JSON object per row, which Python's json reads to the CSV's values" $PY -c "
import csv, json
rows = [json.loads(l) for l in open('$work/ref.jsonl')]
ref = list(csv.DictReader(open('$REF_CSV')))
assert len(rows) == len(ref) == 50000
for a, b in zip(rows[:2000], ref[:2000]):
    assert list(a) == list(b) and all(str(a[k]) == b[k] or float(a[k]) == float(b[k]) for k in a), (a, b)"
jsonl2mp --quiet "$work/ref.jsonl" | mp2csv --quiet >"$work/ref-jsonl.csv"
csv2mp "$REF_CSV" --quiet | mp2csv --quiet >"$work/ref-csv.csv"
same "jsonl2mp reads mp2jsonl's output back to the same rows (the reference data)" "$work/ref-csv.csv" "$work/ref-jsonl.csv"
printf '{"id":1,"plan":"pro","opted":true,"score":0.5,"day":"2025-03-14"}\n\n{"id":2,"plan":"free","opted":false,"score":null}\n{"id":3,"opted":true,"score":2}\n' >"$work/ev.jsonl"
jsonl2mp --quiet "$work/ev.jsonl" | mp2jsonl >"$work/ev-back.jsonl"
check "jsonl2mp: keys in order of first appearance, types from the values, null and missing keys missing, dates as days" \
	test "$(cat "$work/ev-back.jsonl")" = '{"id":1,"plan":"pro","opted":true,"score":0.5,"day":20161}
{"id":2,"plan":"free","opted":false,"score":null,"day":null}
{"id":3,"plan":null,"opted":true,"score":2,"day":null}'
fails "jsonl2mp: a nested object: refused with its line and key" 1 "line 2, key 'u': a nested object or array" \
	"printf '{\"u\":1}\n{\"u\":{\"v\":2}}\n' | jsonl2mp"
fails "jsonl2mp: strings among numbers: refused, naming the key" 1 "key 'a': strings among numbers" \
	"printf '{\"a\":1}\n{\"a\":\"x\"}\n' | jsonl2mp"
fails "jsonl2mp: a key twice in an object: refused (readers disagree on which counts)" 1 "line 1: duplicate object key" \
	"printf '{\"a\":1,\"a\":2}\n' | jsonl2mp"
fails "jsonl2mp: a line that is not an object" 1 "line 1: a JSON object \\{...\\} per line" "printf '[1]\n' | jsonl2mp"
check "mp2jsonl --columns picks and orders the keys" bash -c \
	"gen -n 2 | mp2jsonl --columns task_completed,user_id | head -1 | grep -qx '{\"task_completed\":[01],\"user_id\":0}'"
