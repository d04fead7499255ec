#!/usr/bin/env bash
# Runs the golden tests: every *.test file here, entries of four lines (jq's
# tests/jq.test is the model), separated by blank lines ('#' lines are
# comments):
#   a name
#   the input: `csv FILE [csv2mp ARGS]` (a CSV in the repository),
#     `text CSV [-- csv2mp ARGS]` (CSV inline, no spaces, \n for a line
#     break, through csv2mp), `none` (no input), or a command of psflow programs that
#     makes a stream (`gen -n 2000 | fitps -x ...`)
#   the command: psflow programs between pipes, reading that input
#   the expected result: `= FILE` (the command's output through
#     `report --json` is expected/FILE, byte for byte), or
#     `! CODE REGEX` (the command exits CODE and says REGEX, grep -E, on
#     stderr, without a sign of a crash)
# Prints "ok - NAME" or "not ok - NAME" with the evidence. --update rewrites
# the expected files of the `=` entries (only when a change of numbers is
# meant: say so in the commit). Needs the programs on PATH.
set -u
set -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
update=no
[ "${1:-}" = --update ] && update=yes
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# the input as a shell command
input_command() { # input line
	local kind=${1%% *} rest=${1#* }
	case $kind in
	none) echo "cat /dev/null" ;;
	csv)
		set -- $rest
		echo "csv2mp ${*:2} '$top/$1'"
		;;
	text)
		# text CSV [-- ARGS]: the CSV (no spaces), then csv2mp's arguments
		local csv=${rest%% -- *} args=
		[[ $rest == *" -- "* ]] && args=${rest#* -- }
		echo "printf '%b' '$csv' | csv2mp $args"
		;;
	gen | fitps | weight | match | balance | boot | csv2mp) echo "$1" ;;
	*) return 1 ;;
	esac
}

compare_json() { # name, expected file's name, output
	local name=$1 file=$2 got=$3 want="$here/expected/$2"
	if [ "$update" = yes ]; then
		cp "$got" "$want"
		echo "ok - golden $name: expected output written"
	elif [ ! -f "$want" ]; then
		echo "not ok - golden $name: no expected/$file (run with --update)"
	elif cmp -s "$got" "$want"; then
		echo "ok - golden $name"
	else
		echo "not ok - golden $name: report --json differs from expected/$file"
		/usr/bin/python3 - "$want" "$got" <<'PY'
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

run_entry() { # name, input, command, expected
	local name=$1 src cmd=$3 want=$4 rc
	if ! src=$(input_command "$2"); then
		echo "not ok - golden $name: unknown input '$2'"
		return
	fi
	case $want in
	=\ *)
		if ! bash -o pipefail -c "$src | $cmd | report --json" >"$work/out.json" 2>"$work/err"; then
			echo "not ok - golden $name: the command failed: $cmd"
			sed 's/^/#   /' "$work/err" | tail -5
			return
		fi
		local file=${want#= }
		if [[ " $used " == *" $file "* ]]; then
			echo "not ok - golden $name: expected/$file is another entry's"
			return
		fi
		used="$used $file"
		compare_json "$name" "$file" "$work/out.json"
		;;
	!\ *)
		set -- ${want#! }
		local code=$1 pattern=${want#! $1 }
		bash -o pipefail -c "$src | $cmd" >/dev/null 2>"$work/err"
		rc=$?
		if [ "$rc" -ne "$code" ]; then
			echo "not ok - golden $name: expected exit $code, got $rc: $cmd"
			sed 's/^/#   /' "$work/err" | tail -5
		elif ! grep -Eq -- "$pattern" "$work/err"; then
			echo "not ok - golden $name: stderr lacks /$pattern/"
			sed 's/^/#   /' "$work/err" | tail -5
		elif grep -Eq 'Sanitizer|runtime error|Segmentation|core dumped' "$work/err"; then
			echo "not ok - golden $name: crashed"
			sed 's/^/#   /' "$work/err" | head -5
		else
			echo "ok - golden $name"
		fi
		;;
	*) echo "not ok - golden $name: the expected line must start '= ' or '! '" ;;
	esac
}

n=0 used=
for file in "$here"/*.test; do
	lines=()
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in \#*) continue ;; esac
		if [ -n "$line" ]; then
			lines+=("$line")
			continue
		fi
		if [ ${#lines[@]} -eq 4 ]; then
			run_entry "${lines[@]}"
			n=$((n + 1))
		elif [ ${#lines[@]} -gt 0 ]; then
			echo "not ok - golden ${lines[0]}: $(basename "$file"): an entry has four lines, not ${#lines[@]}"
		fi
		lines=()
	done < <(cat "$file"; echo)
done
[ "$n" -gt 0 ] || echo "not ok - golden: no entry in $here/*.test"
