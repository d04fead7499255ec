# Databases: SQLite files (libsqlite3) and a real PostgreSQL server this test
# starts itself (initdb and pg_ctl on a Unix socket in a temporary
# directory): round trips of the reference data, every type and NULL, dates,
# results tables, and failures that must leave no half table.
. "$TESTS/lib.sh"
cd "$work" || exit 1

csv2mp "$REF_CSV" >ref.mp
mp2csv --quiet <ref.mp >ref.csv
gen -n 5000 --seed 7 | fitps "${STUDY[@]}" --quiet | weight -e ate,att --quiet >scored.mp
mp2csv --quiet <scored.mp >scored.csv
# every type with missing values
$PY -c "
import msgpack, struct, sys
nan = float('nan')
cols = [{'name': 'x', 'type': 'f64'}, {'name': 'k', 'type': 'i64'}, {'name': 'b', 'type': 'bool'},
        {'name': 'g', 'type': 'cat', 'levels': ['a b', 'tab\there', 'back\\\\slash', 'quote\"d', 'é']}]
msgs = [{'kind': 'head', 'version': 1, 'columns': cols, 'roles': {}, 'recipe': [], 'meta': {}},
        {'kind': 'batch', 'rows': 6, 'columns': {'x': [0.1, None, 1e-300, -2.5, 1e300, 3.0],
         'k': [1, None, -7, 2**62, 0, 5], 'b': [True, None, False, True, False, None],
         'g': ['a b', None, 'tab\there', 'back\\\\slash', 'quote\"d', 'é']}},
        {'kind': 'end', 'rows': 6, 'batches': 1}]
sys.stdout.buffer.write(b''.join(msgpack.packb(m, use_bin_type=True) for m in msgs))" >types.mp
mp2csv --quiet <types.mp >types.csv

# -- SQLite --------------------------------------------------------------------
mp2sqlite --quiet ref.db ref <ref.mp
sqlite2mp --quiet ref.db 'SELECT * FROM ref ORDER BY rowid' | mp2csv --quiet >ref-back.csv
same "SQLite: the reference data round trip (csv2mp | mp2sqlite, sqlite2mp | mp2csv) is the same CSV" \
	ref.csv ref-back.csv
mp2sqlite --quiet --results res flow.db scored <scored.mp
sqlite2mp --quiet flow.db 'SELECT * FROM scored ORDER BY rowid' | mp2csv --quiet >scored-back.csv
same "SQLite: the rows with the columns a flow added (ps, weights) come back bit for bit" scored.csv scored-back.csv
check "SQLite: --results holds each result as JSON, by stage and name" bash -c \
	"test \"\$(sqlite3 flow.db \"SELECT stage || ' ' || name || ' ' || round(json_extract(result, '$.estimate'), 6) FROM res WHERE name = 'ipw_ate'\")\" = \
	\"weight ipw_ate \$(report --json <scored.mp | $PY -c 'import json, sys; print(round([r for r in json.load(sys.stdin)[\"results\"] if r[\"name\"] == \"ipw_ate\"][0][\"estimate\"], 6))')\""
mp2sqlite --quiet types.db t <types.mp
sqlite2mp --quiet types.db 'SELECT * FROM t ORDER BY rowid' | mp2csv --quiet >types-back.csv
same "SQLite: every type with NULLs, and text with tabs, quotes, backslashes and UTF-8, round trips" types.csv types-back.csv
mp2sqlite --quiet nulls.db t <types.mp
sqlite2mp --quiet --batch-rows 2 nulls.db 'SELECT * FROM t ORDER BY rowid' | mp2csv --quiet >nulls-back.csv
same "SQLite: NULLs in later batches (--batch-rows 2) stay missing" types.csv nulls-back.csv
fails "SQLite: a query with two columns of one name: refused, saying how to part them" 1 \
	"the query returns two columns named 'a': name them apart with AS" "sqlite2mp ref.db 'SELECT 1 AS a, 2 AS a'"
sqlite3 dates.db "CREATE TABLE d (day TEXT, at TEXT, flag BOOLEAN, mixed);
	INSERT INTO d VALUES ('2025-03-14', '2025-03-14T12:00:00Z', 1, 'a'), ('1970-01-01', '1970-01-01 06:00', 0, 2),
	(NULL, NULL, NULL, NULL)"
sqlite2mp --quiet dates.db 'SELECT * FROM d ORDER BY rowid' | mpcat >dates.json
check "SQLite: ISO dates are days since 1970 (i64), dates with times f64 days, BOOLEAN bool, numbers among text text" $PY -c "
import json
m = [json.loads(l) for l in open('dates.json')]
types = {c['name']: c['type'] for c in m[0]['columns']}
assert types == {'day': 'i64', 'at': 'f64', 'flag': 'bool', 'mixed': 'cat'}, types
c = m[1]['columns']
assert c['day'] == [20161, 0, None] and c['at'] == [20161.5, 0.25, None], c
assert c['flag'] == [True, False, None] and c['mixed'] == ['a', '2', None], c"
sqlite3 blob.db "CREATE TABLE b (x BLOB); INSERT INTO b VALUES (x'00ff')"
fails "SQLite: a BLOB column is refused, named" 1 "column 'x' holds a BLOB" "sqlite2mp blob.db 'SELECT x FROM b'"
fails "SQLite: a query error names the database" 1 "SQLite \\(ref.db\\): the query: no such table: nope" \
	"sqlite2mp ref.db 'SELECT * FROM nope'"
fails "SQLite: a table that exists is refused without --replace" 1 "table \"ref\" already exists \\(nothing was committed\\)" \
	"mp2sqlite ref.db ref <scored.mp"
mp2sqlite --quiet --replace ref.db ref <scored.mp
check "  ... and replaced with it" test "$(sqlite3 ref.db 'SELECT count(*) FROM ref')" = 5000
head -c 200000 scored.mp >cut.mp
fails "SQLite: a stream cut short (its stage died): exit 1" 1 "without an end message" "mp2sqlite failed.db t <cut.mp"
check "  ... and no table was left (not even part of one)" bash -c \
	"test -z \"\$(sqlite3 failed.db \"SELECT name FROM sqlite_master WHERE name = 't'\")\""
$PY -c "b = bytearray(open('scored.mp', 'rb').read()); b[len(b) // 2] ^= 1; open('flipped.mp', 'wb').write(b)"
fails "SQLite: a stream whose checksum fails: exit 1" 1 "checksum does not match" "mp2sqlite failed.db t2 <flipped.mp"
check "  ... and no table was left" bash -c \
	"test -z \"\$(sqlite3 failed.db \"SELECT name FROM sqlite_master WHERE name = 't2'\")\""

# -- PostgreSQL ----------------------------------------------------------------
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/pg_ctl" ]; then
	skip "PostgreSQL round trips" "no PostgreSQL server (apt-get install postgresql)"
	exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
	id postgres >/dev/null 2>&1 || { skip "PostgreSQL round trips" "no postgres user to run the server as"; exit 0; }
	as_pg() { runuser -u postgres -- "$@"; }
else
	as_pg() { "$@"; }
fi
pgdir=$(mktemp -d /tmp/psflow-pg.XXXXXX)
# (the server runs as postgres, which cannot enter the test's directory)
[ "$(id -u)" -eq 0 ] && chown postgres "$pgdir"
chmod 700 "$pgdir"
pgport=$(free_port)
pg_start() { (cd /; as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w -t 30 \
	-o "-k $pgdir -p $pgport -h ''" start >/dev/null); }
pg_kill() { (cd /; as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1); }
trap 'pg_kill; rm -rf "$pgdir" "$work"' EXIT
(cd /; as_pg "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres) >"$pgdir/initdb.log" 2>&1 && pg_start || {
	skip "PostgreSQL round trips" "the server did not start: $(tail -1 "$pgdir/initdb.log" "$pgdir/log" 2>/dev/null)"
	exit 0
}
PG="host=$pgdir port=$pgport user=postgres dbname=postgres"
psql() { (cd /; as_pg "$pgbin/psql" -X -q -A -t -h "$pgdir" -p "$pgport" -U postgres -d postgres "$@"); }

mp2pg --quiet "$PG" ref <ref.mp
pg2mp --quiet "$PG" 'SELECT * FROM ref ORDER BY user_id' | mp2csv --quiet >pg-ref.csv
same "PostgreSQL: the reference data round trip (mp2pg by COPY, pg2mp by a cursor) is the same CSV" \
	ref.csv pg-ref.csv
mp2pg --quiet --results res "$PG" scored <scored.mp
pg2mp --quiet "$PG" 'SELECT * FROM scored ORDER BY user_id;' | mp2csv --quiet >pg-scored.csv
same "PostgreSQL: the flow's added columns come back bit for bit" scored.csv pg-scored.csv
check "PostgreSQL: --results is a table of (seq, stage, name, result jsonb)" \
	test "$(psql -c "SELECT stage || ' ' || name FROM res WHERE result->>'name' = 'ipw_att'")" = "weight ipw_att"
mp2pg --quiet "$PG" types <types.mp
pg2mp --quiet "$PG" 'SELECT * FROM types' | mp2csv --quiet >pg-types.csv
same "PostgreSQL: every type with NULLs, and text with tabs, quotes, backslashes and UTF-8, round trips" \
	types.csv pg-types.csv
pg2mp --quiet --batch-rows 2 "$PG" 'SELECT * FROM types' | mp2csv --quiet >pg-nulls.csv
same "PostgreSQL: NULLs in later batches (--batch-rows 2) stay missing (they kept the last batch's values)" \
	types.csv pg-nulls.csv
fails "PostgreSQL: two columns of one name: refused, saying how to part them" 1 \
	"the query returns two columns named 'a': name them apart with AS" "pg2mp '$PG' 'SELECT 1 AS a, 2 AS a'"
fails "PostgreSQL: a NaN or infinite float: refused with its row and column" 1 \
	"row 0, column 'x': 'NaN' is not a finite number" "pg2mp '$PG' \"SELECT 'NaN'::float8 AS x\""
psql -c "CREATE TABLE kinds (a int2, b int4, c int8, d float4, e float8, f numeric, g boolean, h text,
	i varchar(9), j date, k timestamp, l timestamptz);
	INSERT INTO kinds VALUES (1, 2, 3, 0.5, 0.1, 12.25, true, 'x', 'y', '2025-03-14', '2025-03-14 12:00', '1970-01-01 06:00+00'),
	(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
pg2mp --quiet "$PG" 'SELECT * FROM kinds' | mpcat >kinds.json
check "PostgreSQL: integers i64, floats and numeric f64, boolean bool, text cat, date days (i64), timestamps days (f64), NULL missing" $PY -c "
import json
m = [json.loads(l) for l in open('kinds.json')]
t = [c['type'] for c in m[0]['columns']]
assert t == ['i64'] * 3 + ['f64'] * 3 + ['bool', 'cat', 'cat', 'i64', 'f64', 'f64'], t
c = m[1]['columns']
assert [c[k][0] for k in 'abcdefghijkl'] == [1, 2, 3, 0.5, 0.1, 12.25, True, 'x', 'y', 20161, 20161.5, 0.25], c
assert all(c[k][1] is None for k in 'abcdefghijkl'), c"
fails "PostgreSQL: a type psflow does not read is named, with the cast to write" 1 \
	"column 'u' has a type psflow does not read .*cast it in the query, e.g. u::text" \
	"pg2mp '$PG' \"SELECT '{}'::json AS u\""
fails "PostgreSQL: a query error is the server's message" 1 'relation "nope" does not exist' \
	"pg2mp '$PG' 'SELECT * FROM nope'"
fails "PostgreSQL: a server that is not there: a clear error" 1 "PostgreSQL .*connecting" \
	"pg2mp 'host=$pgdir port=1 user=postgres dbname=postgres' 'SELECT 1'"
fails "PostgreSQL: a table that exists is refused without --replace" 1 'relation "ref" already exists \(nothing was committed\)' \
	"mp2pg '$PG' ref <scored.mp"
fails "PostgreSQL: a stream cut short: exit 1" 1 "without an end message" "mp2pg '$PG' cut <cut.mp"
check "  ... and no table was left" test -z "$(psql -c "SELECT to_regclass('cut')")"
# memory bounded: two million rows through pg2mp in batches
/usr/bin/time -f %M -o pg-rss.txt pg2mp --quiet "$PG" \
	'SELECT g AS id, g % 7 AS k, random() AS x FROM generate_series(1, 2000000) g' | mpcat --sizes | tail -1 >big-end.json
check "PostgreSQL: 2,000,000 rows stream through, a batch at a time" grep -q '"rows":2000000' big-end.json
if [ -n "${PSFLOW_SANITIZER:-}" ]; then
	# (ASan keeps freed memory in quarantine: 256 MB of libpq's results)
	skip "  ... in bounded memory" "sanitizer build: ASan's quarantine holds what was freed"
else
	check "  ... in bounded memory (peak $(tail -1 pg-rss.txt) kB < 80 MB)" test "$(tail -1 pg-rss.txt)" -lt 80000
fi
# the server killed mid-read: the stream has no end, and the next stage says so
pg2mp "$PG" 'SELECT g AS id, length(pg_sleep(0.0001)::text) AS s FROM generate_series(1, 1000000) g' --batch-rows 1000 \
	2>killed-read.err | mp2csv --quiet >/dev/null 2>killed-next.err &
reader=$!
sleep 1.5
pg_kill
wait $reader
check "PostgreSQL: the server killed mid-read fails the flow (exit $?)" test $? -ne 0
check "  ... pg2mp says where it stopped" grep -q "the query stopped after [0-9]* rows" killed-read.err
check "  ... and the next stage stops with it, adding no second message (pg2mp passed its error on)" \
	test ! -s killed-next.err
pg_start
gen -n 3000000 --seed 1 --batch-rows 20000 | mp2pg "$PG" killed 2>killed-write.err &
writer=$!
sleep 2
pg_kill
wait $writer
check "PostgreSQL: the server killed mid-COPY fails mp2pg (exit $?)" test $? -eq 1
pg_start
check "  ... and after a restart there is no half table" test -z "$(psql -c "SELECT to_regclass('killed')")"
