# match holds only the columns it reads; the others (an id, other
# weights, the support's rows' own values) are kept apart, in memory up to
# --memory-mb and past it in a temporary file, and put back in place as it
# writes. Checked: every input column comes out unchanged in every row
# (Python's msgpack reading both streams), the rows outside a common
# support included; the file's path gives the same bytes as memory's for
# every option that reads more columns; and the refusals when the file
# cannot be made.
. "$TESTS/lib.sh"

# 8,000 rows, a common support leaving some out, upstream batches of 3,000
gen --scenario no-overlap -n 8000 --seed 5 --quiet |
	fitps -t opt_in_agent_mode -y task_completed -x engagement_tier,query_confidence,account_type \
	--common-support minmax --quiet | weight -e ate,att --quiet --batch-rows 3000 >"$work/in.mp"

match --quiet --memory-mb 0 --batch-rows 1000 <"$work/in.mp" >"$work/file.mp"
check "columns kept apart in a file: every input column unchanged in every row, the support's rows outside too; w_match 0 outside" \
	$PY - "$work/in.mp" "$work/file.mp" <<'PY'
import sys
import msgpack
import numpy as np

def read(path):
    msgs = list(msgpack.Unpacker(open(path, "rb"), raw=False))
    head = msgs[0]
    types = {"i64": "<i8", "f64": "<f8", "bool": "u1", "cat": "<i4"}
    cols = {c["name"]: [] for c in head["columns"]}
    sizes = []
    for m in msgs:
        if m["kind"] == "batch":
            sizes.append(m["rows"])
            for c in head["columns"]:
                cols[c["name"]].append(np.frombuffer(m["columns"][c["name"]], types[c["type"]]))
    return head, {k: np.concatenate(v) for k, v in cols.items()}, sizes

hin, cin, _ = read(sys.argv[1])
hout, cout, sizes = read(sys.argv[2])
names_in = [c["name"] for c in hin["columns"]]
names_out = [c["name"] for c in hout["columns"]]
assert names_out == names_in + ["w_match"], names_out
assert max(sizes) == 1000 and sum(sizes) == 8000, sizes
for name in names_in:
    assert cin[name].tobytes() == cout[name].tobytes(), name
outside = cin["in_support"] == 0
assert 0 < outside.sum() < 8000, outside.sum()
assert (cout["w_match"][outside] == 0).all() and (cout["w_match"][~outside] > 0).any()
PY
check "  ... and the same bytes as with every column in memory (default), and as spilled mid-stream" bash -c "
	match --quiet --batch-rows 1000 <'$work/in.mp' | cmp - '$work/file.mp' &&
	match --quiet --batch-rows 1000 --memory-mb 0.1 <'$work/in.mp' | cmp - '$work/file.mp'"

# each option that reads more columns, from memory and from the file
same_both_ways() { # name, match options (the side files go to $work/side.N)
	local name=$1 opts=$2
	check "$name: the file's path gives memory's bytes (stream and side files)" bash -c "
		match --quiet $opts --memory-mb 1000 <'$work/in.mp' >'$work/m.mp' &&
		for f in '$work'/side.*; do [ -e \"\$f\" ] && mv \"\$f\" \"\$f.mem\"; done
		match --quiet $opts --memory-mb 0 <'$work/in.mp' >'$work/f.mp' &&
		cmp '$work/m.mp' '$work/f.mp' &&
		for f in '$work'/side.*.mem; do [ -e \"\$f\" ] || continue; cmp \"\$f\" \"\${f%.mem}\" || exit 1; done"
	rm -f "$work"/side.*
}
same_both_ways "--dropped-id, --pairs-id" "--caliper 0.05 --dropped '$work/side.1' --dropped-id user_id --pairs '$work/side.2' --pairs-id user_id"
same_both_ways "--adjust (the stream's covariates)" "--adjust"
same_both_ways "--adjust-formula" "--adjust-formula query_confidence,account_type"
same_both_ways "two outcomes" "-y task_completed,user_id --adjust-formula engagement_tier --adjust-family linear"
same_both_ways "--exact, --no-replace (match_set)" "--exact account_type --no-replace"
same_both_ways "--mahalanobis, --on logit" "--mahalanobis query_confidence --on logit -k 2"
same_both_ways "--pairs-id the treatment itself (held to the end, not given back)" "--pairs '$work/side.3' --pairs-id opt_in_agent_mode"

# the file, and where it goes
mkdir "$work/tmpd"
check "--temp-dir: the file is made there and leaves nothing behind" bash -c "
	match --quiet --memory-mb 0 --batch-rows 1000 --temp-dir '$work/tmpd' <'$work/in.mp' |
	cmp - '$work/file.mp' && [ -z \"\$(ls -A '$work/tmpd')\" ]"
fails "--memory-mb 0 with TMPDIR a directory that does not exist: the error names it and what to do" 1 \
	"cannot make a temporary file in $work/none for the columns passed on: No such file or directory: set TMPDIR \\(or --temp-dir\\)" \
	"TMPDIR='$work/none' match --quiet --memory-mb 0 <'$work/in.mp' >/dev/null"
fails "--temp-dir, likewise (it wins over TMPDIR)" 1 "cannot make a temporary file in $work/none2" \
	"TMPDIR='$work/tmpd' match --quiet --memory-mb 0 --temp-dir '$work/none2' <'$work/in.mp' >/dev/null"
check "  ... while under --memory-mb no file is made (a TMPDIR that does not exist is never opened)" bash -c "
	TMPDIR='$work/none' match --quiet --batch-rows 1000 <'$work/in.mp' | cmp - '$work/file.mp'"
fails "--memory-mb below 0: a usage error" 2 "--memory-mb" \
	"match --memory-mb -1 <'$work/in.mp'"
if [ "$(id -u)" = 0 ] && mkdir -p "$work/small" &&
	mount -t tmpfs -o size=64k tmpfs "$work/small" 2>/dev/null; then
	fails "a temporary directory with no room: the error says so, exit 1, not a short stream" 1 \
		"could not be written: No space left on device: set TMPDIR \\(or --temp-dir\\) to a directory with room" \
		"match --quiet --memory-mb 0 --temp-dir '$work/small' <'$work/in.mp' >'$work/short.mp'"
	umount "$work/small"
else
	skip "a temporary directory with no room" "no tmpfs can be mounted here (needs root)"
fi
