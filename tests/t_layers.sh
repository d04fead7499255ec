# The tree's layers and include rules, read off the sources (py/layers.py).
. "$TESTS/lib.sh"
$PY "$TESTS/py/layers.py" "$TESTS/.."
