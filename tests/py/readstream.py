#!/usr/bin/python3
"""Decodes a psflow stream with Debian's python3-msgpack, independently of
psflow's C code, and prints it as CSV (the same text mp2csv writes), so the
two decoders can be compared byte for byte. Checks the end's counts, and
its results count and CRC-32 (zlib's) of the messages before it."""
import math
import struct
import sys
import zlib

import msgpack

WIDTH = {"f64": ("<%dd", 8), "i64": ("<%dq", 8), "bool": ("<%dB", 1), "cat": ("<%di", 4)}
I64_MISSING = -(2 ** 63)

def fmt_double(x):
    for digits in (15, 16, 17):
        s = "%.*g" % (digits, x)
        if float(s) == x:
            return s
    return s

def cell(col, v):
    t = col["type"]
    if v is None:
        return ""
    if t == "f64":
        return "" if math.isnan(v) else fmt_double(v)
    if t == "i64":
        return "" if v == I64_MISSING else str(v)
    if t == "bool":
        return "" if v == 255 else ("true" if v else "false")
    if isinstance(v, str):
        return v
    return "" if v < 0 else col["levels"][v]

def main():
    raw = sys.stdin.buffer.read()
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
    unpacker.feed(raw)
    crc, results, seen = 0, 0, [0]

    def each():
        nonlocal crc, results
        at = 0
        for m in unpacker:
            end = unpacker.tell()
            if m.get("kind") != "end":
                crc = zlib.crc32(raw[at:end], crc)
            results += m.get("kind") == "result"
            at = end
            yield m

    msgs = each()
    h = next(msgs)
    assert h["kind"] == "head" and h["version"] == 1, h
    cols = h["columns"]
    print(",".join(c["name"] for c in cols))
    rows = batches = 0
    for m in msgs:
        if m["kind"] == "batch":
            n = m["rows"]
            data = []
            for c in cols:
                v = m["columns"][c["name"]]
                if isinstance(v, bytes):
                    f, w = WIDTH[c["type"]]
                    assert len(v) == n * w, (c, len(v), n)
                    v = struct.unpack(f % n, v)
                data.append([cell(c, x) for x in v])
            for r in range(n):
                print(",".join(d[r] for d in data))
            rows += n
            batches += 1
        elif m["kind"] == "end":
            assert (m["rows"], m["batches"]) == (rows, batches), (m, rows, batches)
            assert m.get("results", results) == results, (m, results)
            assert m.get("crc32", crc) == crc, (m, crc)
            return
    sys.exit("readstream.py: no end message")

main()
