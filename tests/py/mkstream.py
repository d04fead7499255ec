#!/usr/bin/python3
"""Writes hand-made psflow streams with Debian's python3-msgpack, for the
interop and bad-input tests. Usage: mkstream.py CASE > stream

Good streams use plain MessagePack arrays (as a producer in any language
would); bad ones break one rule of PROTOCOL.md each."""
import struct
import sys

import msgpack

def head(columns, version=1, roles=None):
    return {"kind": "head", "version": version, "columns": columns,
            "roles": roles or {"treatment": None, "outcome": None, "covariates": []},
            "recipe": [], "meta": {}}

COLS = [{"name": "x", "type": "f64"}, {"name": "n", "type": "i64"},
        {"name": "b", "type": "bool"},
        {"name": "tier", "type": "cat", "levels": ["heavy", "light", "medium"]}]

def batch(rows, columns):
    return {"kind": "batch", "rows": rows, "columns": columns}

def end(rows, batches):
    return {"kind": "end", "rows": rows, "batches": batches}

GOOD_BATCH = batch(3, {"x": [1.5, None, -2], "n": [7, None, -9007199254740993],
                       "b": [True, False, None], "tier": ["light", None, "heavy"]})

def pack(*msgs):
    return b"".join(msgpack.packb(m, use_bin_type=True) for m in msgs)

def nested(depth):
    # depth arrays of one element around a nil, built by hand
    return b"\x91" * depth + b"\xc0"

CASES = {
    # plain arrays, every type, missing values, two batches
    "plain": lambda: pack(head(COLS), GOOD_BATCH,
                          batch(1, {"x": [3], "n": [1], "b": [1], "tier": [2]}),
                          {"kind": "result", "stage": "hand", "name": "note", "n": 4},
                          end(4, 2)),
    # bin columns written by hand, little-endian
    "bin": lambda: pack(head(COLS),
                        batch(2, {"x": struct.pack("<2d", 0.25, float("nan")),
                                  "n": struct.pack("<2q", 1, -5),
                                  "b": bytes([1, 255]),
                                  "tier": struct.pack("<2i", 1, -1)}),
                        end(2, 1)),
    "empty": lambda: pack(head(COLS), end(0, 0)),
    "version99": lambda: pack(head(COLS, version=99), end(0, 0)),
    "no-end": lambda: pack(head(COLS), GOOD_BATCH),
    "count-mismatch": lambda: pack(head(COLS), GOOD_BATCH, end(5, 1)),
    "after-end": lambda: pack(head(COLS), end(0, 0), GOOD_BATCH),
    "second-head": lambda: pack(head(COLS), head(COLS), end(0, 0)),
    "head-only": lambda: pack(head(COLS)),
    "no-head": lambda: pack(GOOD_BATCH, end(3, 1)),
    "ragged-batch": lambda: pack(head(COLS),
                                 batch(3, {"x": [1, 2], "n": [1, 2, 3], "b": [1, 0, 1],
                                           "tier": [0, 1, 2]}), end(3, 1)),
    "unknown-column": lambda: pack(head(COLS),
                                   batch(1, {"x": [1], "n": [1], "b": [1], "tier": [0],
                                             "zz": [1]}), end(1, 1)),
    "missing-column": lambda: pack(head(COLS), batch(1, {"x": [1], "n": [1], "b": [1]}),
                                   end(1, 1)),
    "bin-wrong-length": lambda: pack(head(COLS),
                                     batch(2, {"x": b"\0" * 15, "n": [1, 2], "b": [1, 0],
                                               "tier": [0, 1]}), end(2, 1)),
    "bad-level": lambda: pack(head(COLS),
                              batch(1, {"x": [1], "n": [1], "b": [1], "tier": ["huge"]}),
                              end(1, 1)),
    "string-in-f64": lambda: pack(head(COLS),
                                  batch(1, {"x": ["1.5"], "n": [1], "b": [1], "tier": [0]}),
                                  end(1, 1)),
    "unknown-type": lambda: pack(head([{"name": "x", "type": "f32"}]), end(0, 0)),
    "deep": lambda: pack(head(COLS)) + b"\x82\xa4kind\xa6result\xa4deep" + nested(10000),
    "str-4gib": lambda: pack(head(COLS)) + b"\x81\xa4kind\xdb\xff\xff\xff\xff" + b"x" * 100,
    "array-4g": lambda: pack(head(COLS)) + b"\xdd\xff\xff\xff\xff" + b"\xc0" * 100,
    "garbage": lambda: pack(head(COLS)) + b"\xc1\xc1\xc1 not msgpack",
    "not-a-map": lambda: pack(head(COLS)) + msgpack.packb([1, 2, 3]),
}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        sys.exit("usage: mkstream.py CASE (one of: %s)" % ", ".join(sorted(CASES)))
    sys.stdout.buffer.write(CASES[sys.argv[1]]())
