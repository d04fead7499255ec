# The golden flows (tests/golden/flows.test): every estimate, SE and interval
# of the reference and generated flows, byte for byte as expected.
. "$TESTS/lib.sh"
"$TESTS/golden/run.sh"
