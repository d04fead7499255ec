#!/usr/bin/python3
"""Reads an 8-bit RGB or RGBA PNG (what Chromium's screenshots and cairo
write) into rows of pixels, with zlib alone, so the tests need no imaging
package.

usage as a program: pngread.py FILE  ->  prints one JSON object: width,
height, the share of pixels that are not white, and the number of distinct
colours.
"""
import json
import struct
import sys
import zlib


def read(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s: not a PNG file" % path)
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]:
            raise ValueError("%s: bad CRC in chunk %r" % (path, kind))
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError("%s: only 8-bit RGB/RGBA without interlacing" % path)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def summary(path):
    width, height, channels, rows = read(path)
    colours, ink = set(), 0
    for line in rows:
        for x in range(0, len(line), channels):
            px = line[x:x + 3]
            colours.add(bytes(px))
            if channels == 4 and line[x + 3] == 0:
                continue  # transparent
            if px != b"\xff\xff\xff":
                ink += 1
    return {"width": width, "height": height, "ink": ink / float(width * height),
            "colours": len(colours)}


if __name__ == "__main__":
    print(json.dumps(summary(sys.argv[1])))
