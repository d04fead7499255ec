#!/usr/bin/env bash
# Runs the golden flows of flows.test (see its head) and compares each
# flow's `report --json` with expected/NAME.json, byte for byte. Prints
# "ok - NAME" or "not ok - NAME" with the first difference. --update writes
# the expected files instead. Needs the programs on PATH.
set -u
set -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
update=no
[ "${1:-}" = --update ] && update=yes
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run_flow() { # name, input, flow
	local name=$1 input=$2 flow=$3 src
	case $input in
	gen\ *) src="$input" ;;
	csv\ *)
		set -- $input
		src="csv2mp ${*:3} '$top/$2'"
		;;
	*)
		echo "not ok - golden $name: the input line must start 'gen ' or 'csv ': $input"
		return
		;;
	esac
	if ! bash -o pipefail -c "$src | $flow | report --json" >"$work/$name.json" 2>"$work/$name.err"; then
		echo "not ok - golden $name: the flow failed"
		sed 's/^/#   /' "$work/$name.err" | tail -5
		return
	fi
	if [ "$update" = yes ]; then
		cp "$work/$name.json" "$here/expected/$name.json"
		echo "ok - golden $name: expected output written"
	elif [ ! -f "$here/expected/$name.json" ]; then
		echo "not ok - golden $name: no expected/$name.json (run with --update)"
	elif cmp -s "$work/$name.json" "$here/expected/$name.json"; then
		echo "ok - golden $name"
	else
		echo "not ok - golden $name: report --json differs from expected/$name.json"
		/usr/bin/python3 - "$here/expected/$name.json" "$work/$name.json" <<'PY'
import json, sys
def walk(a, b, path):
    if type(a) != type(b):
        return f"{path}: {a!r} -> {b!r}"
    if isinstance(a, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                return f"{path}.{k}: only in {'expected' if k in a else 'output'}"
            d = walk(a[k], b[k], f"{path}.{k}")
            if d:
                return d
    elif isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items -> {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = walk(x, y, f"{path}[{i}]")
            if d:
                return d
    elif a != b:
        return f"{path}: {a!r} -> {b!r}"
    return None
a, b = (json.load(open(f)) for f in sys.argv[1:])
print("#   first difference:", walk(a, b, "") or "(same values, other bytes)")
PY
	fi
}

# entries: name, input, flow, then a blank line; '#' lines are comments
name= input= n=0
while IFS= read -r line || [ -n "$line" ]; do
	case $line in \#*) continue ;; esac
	if [ -z "$line" ]; then
		[ -n "$name" ] && echo "not ok - golden $name: entry without a flow line"
		name= input=
		continue
	fi
	if [ -z "$name" ]; then name=$line
	elif [ -z "$input" ]; then input=$line
	else
		run_flow "$name" "$input" "$line"
		n=$((n + 1))
		name= input=
	fi
done <"$here/flows.test"
[ -n "$name" ] && echo "not ok - golden $name: entry without a flow line"
[ "$n" -gt 0 ] || echo "not ok - golden: flows.test has no entry"
