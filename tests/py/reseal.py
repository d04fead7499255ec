#!/usr/bin/python3
"""Rewrites a psflow stream's end with the results count and CRC-32 of the
messages as they now are: what a producer that edits a stream (the tests'
rewriters, as any foreign stage) must do, or readers refuse the edit."""
import sys
import zlib

import msgpack

raw = sys.stdin.buffer.read()
unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
unpacker.feed(raw)
out, at, crc, results = sys.stdout.buffer, 0, 0, 0
for m in unpacker:
    end = unpacker.tell()
    if m.get("kind") == "end":
        m["results"], m["crc32"] = results, crc
        out.write(msgpack.packb(m, use_bin_type=True))
    else:
        crc = zlib.crc32(raw[at:end], crc)
        results += m.get("kind") == "result"
        out.write(raw[at:end])
    at = end
