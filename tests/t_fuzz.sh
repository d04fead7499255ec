# The kept fuzz corpus (tests/fuzz/corpus/NAME: seeds, inputs make fuzz
# found that add coverage, and every input that once crashed, leaked or
# hung) replayed through each harness, built as the build under test is (so
# check-asan replays them under ASan, LSan and UBSan). Each must end
# without a crash; make fuzz mutates them further.
. "$TESTS/lib.sh"
export PSFLOW_FUZZ_STREAM="$TESTS/fuzz/worker-stream.mp"
for corpus in "$TESTS"/fuzz/corpus/*/; do
	name=$(basename "$corpus")
	n=$(ls "$corpus" | wc -l)
	if [ ! -x "$UNITS/fuzz-$name" ]; then
		not_ok "fuzz harness $name is built" "no $UNITS/fuzz-$name"
		continue
	fi
	check "the $name harness replays its kept corpus ($n inputs) without a crash" \
		bash -c "'$UNITS/fuzz-$name' '$corpus'* 2>/dev/null | grep -qx '$n inputs'"
done
check "a harness replays a stream the stages accept, and one they refuse, alike (no exit on die)" \
	bash -c "gen -n 50 >'$work/ok.mp'; printf 'junk' >'$work/bad.mp';
	'$UNITS/fuzz-stream' '$work/ok.mp' '$work/bad.mp' | grep -qx '2 inputs'"
