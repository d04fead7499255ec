#!/usr/bin/python3
"""A boot worker that lies, written with pyzmq and python3-msgpack (neither
shares code with psflow), for the hostile-peer tests.

usage: hostile_worker.py ENDPOINT MODE [--secs S] [--key SECRET --server PUB]

MODE:
  forge    asks for the data, then answers every chunk with +0.5 for every
           estimate, status 0 (a made-up interval)
  nan      the same with NaN values and status 0
  stale    says "ready" with a digest of no stream (a worker of an earlier run)
  steal    results for chunk 0 without being handed it
  hello    asks for the data and prints the column names it got (one line)
  big      sends one frame of --mb megabytes, then stops

Prints what the coordinator answered last ("refused: why" or the kind)."""
import argparse
import hashlib
import struct
import sys
import time

import msgpack
import zmq


def load_cert(path):
    keys = {}
    for line in open(path):
        line = line.strip()
        for k in ("public-key", "secret-key"):
            if line.startswith(k):
                keys[k] = line.split("=", 1)[1].strip().strip('"')
    return keys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoint")
    ap.add_argument("mode")
    ap.add_argument("--secs", type=float, default=20)
    ap.add_argument("--mb", type=int, default=64)
    ap.add_argument("--key")
    ap.add_argument("--server")
    a = ap.parse_args()
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 2000)
    if a.key:
        mine = load_cert(a.key)
        s.curve_secretkey = mine["secret-key"].encode()
        s.curve_publickey = mine["public-key"].encode()
        s.curve_serverkey = load_cert(a.server)["public-key"].encode()
    s.connect(a.endpoint.lstrip(">"))
    send = lambda m: s.send(msgpack.packb(m, use_bin_type=True))
    last = "nothing"

    def recv(timeout_s=5):
        if not s.poll(int(timeout_s * 1000)):
            return None
        return s.recv()

    if a.mode == "big":
        s.send(b"\x00" * (a.mb << 20))
        time.sleep(1)
        print("sent")
        return
    if a.mode == "stale":
        send({"kind": "ready", "digest": b"\x01" * 32})
        m = recv()
        print(describe(m))
        return
    send({"kind": "hello"})
    frame = recv(a.secs)
    if frame is None:
        print("no answer")
        return
    data = msgpack.unpackb(frame, raw=False)
    if data.get("kind") != "boot-data":
        print(describe(frame))
        return
    digest = hashlib.blake2b(frame, digest_size=32).digest()
    if a.mode == "hello":
        unp = msgpack.Unpacker(raw=False)
        unp.feed(data["stream"])
        head = next(unp)
        print(",".join(c["name"] for c in head["columns"]))
        return
    K = data["targets"]
    if a.mode == "steal":
        send({"kind": "results", "chunk": 0, "digest": digest,
              "values": struct.pack("<%dd" % (K * data["chunk"]), *([0.5] * K * data["chunk"])),
              "status": b"\x00" * data["chunk"]})
        print(describe(recv()))
        return
    send({"kind": "ready", "digest": digest})
    end = time.time() + a.secs
    value = 0.5 if a.mode == "forge" else float("nan")
    while time.time() < end:
        frame = recv()
        if frame is None:
            break
        m = msgpack.unpackb(frame, raw=False)
        last = describe(frame)
        if m.get("kind") == "chunk":
            c = m["chunk"]
            n = min(data["chunk"], data["replicates"] - c * data["chunk"])
            send({"kind": "results", "chunk": c, "digest": digest,
                  "values": struct.pack("<%dd" % (n * K), *([value] * (n * K))),
                  "status": b"\x00" * n})
        elif m.get("kind") == "wait":
            time.sleep(0.2)
            send({"kind": "ready", "digest": digest})
        else:
            break
    print(last)


def describe(frame):
    if frame is None:
        return "no answer"
    m = msgpack.unpackb(frame, raw=False)
    if m.get("kind") == "refused":
        return "refused: " + m.get("why", "")
    return m.get("kind", "?")


main()
