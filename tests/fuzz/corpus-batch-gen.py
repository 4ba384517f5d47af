#!/usr/bin/python3
"""corpus-batch-gen.py: writes the seed corpus of the batch decoder fuzz target.

Run with /usr/bin/python3 (python3-zstandard, python3-msgpack):
    /usr/bin/python3 tests/fuzz/corpus-batch-gen.py [tests/fuzz/corpus/batch]
The output is deterministic; it replaces the files it names and leaves
others (minimised crashers added by hand) alone.
"""

import os
import random
import struct
import sys

import msgpack
import zstandard

MAGIC = b"\x28\xb5\x2f\xfd"
rnd = random.Random(20240614)


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def records(*recs):
    return b"".join(pack(r) for r in recs)


def ts(ns):
    return msgpack.Timestamp.from_unix_nano(ns)


def time_ext(payload):
    """A record {"time": ext -1 payload}; msgpack.ExtType refuses type -1."""
    fixext = {1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8}
    if len(payload) in fixext:
        ext = bytes([fixext[len(payload)], 0xff])
    else:
        ext = bytes([0xc7, len(payload), 0xff])
    return b"\x81\xa4time" + ext + payload


def zst(content, level=3, checksum=True, size=True):
    """One frame, as the encoder makes it (content size, checksum)."""
    c = zstandard.ZstdCompressor(level=level, write_checksum=checksum,
                                 write_content_size=size)
    if size:
        return c.compress(content)
    obj = c.compressobj()  # streaming: content size unknown
    return obj.compress(content) + obj.flush()


def stored(content, single_segment=True):
    """A frame of raw blocks: a 1:1 ratio, so the records get checked."""
    if single_segment:
        out = MAGIC + b"\xa0" + struct.pack("<I", len(content))
    else:
        out = MAGIC + b"\x00" + bytes([(17 - 10) << 3])  # 128 KiB window
    pos = 0
    while True:
        block = content[pos:pos + 128 * 1024]
        pos += len(block)
        last = 1 if pos >= len(content) else 0
        out += struct.pack("<I", len(block) << 3 | last)[:3] + block
        if last:
            return out


def bomb(declare):
    c = zstandard.ZstdCompressor(level=3, write_checksum=True)
    obj = c.compressobj(size=(1 << 30) if declare else -1)
    zeros = bytes(1 << 20)
    out = b"".join(obj.compress(zeros) for _ in range(1024))
    return out + obj.flush()


def text(n):
    words = ["GET", "POST", "/api/v1/items", "200", "404", "nginx", "user",
             "login", "failed", "ok", "kube-system", "pod", "deleted"]
    return " ".join(rnd.choice(words) for _ in range(n))


def sample_records(n, t0=1718356867100234567):
    out = []
    for i in range(n):
        out.append({
            "time": ts(t0 + i * 1000003),
            "format": rnd.choice(["nginx", "syslog", "json", "k8s-audit"]),
            "host": "web-%d" % (i % 7),
            "msg": text(8 + i % 20),
            "status": rnd.choice([200, 301, 404, 500]),
            "bytes": rnd.randrange(1 << 20),
            "rt": rnd.random(),
            "labels": {"app": "shop", "pod": "shop-%d" % (i % 3)},
            "tags": ["a", "b"][: i % 3],
        })
    return out


def seeds():
    three = records(
        {"time": ts(1718356867100234567), "msg": "GET /healthz", "n": 1},
        {"time": ts(1700000000 * 10**9), "msg": "r\u00e9mi", "k8s":
         {"namespace": "prod", "pod": {"name": "x", "ip": "10.0.0.1"}}},
        {"msg": "no time", "raw": b"\x00\xff", "f": 1.5, "neg": -12345,
         "nil": None, "t": True, "arr": [1, [2, [3]]]})
    yield "valid-3-records", zst(three)
    yield "valid-3-records-level19", zst(three, level=19)
    yield "valid-3-no-checksum", zst(three, checksum=False)
    yield "valid-3-no-content-size", zst(three, size=False)
    yield "valid-3-stored", stored(three)
    yield "valid-3-stored-multi-segment", stored(three, single_segment=False)
    yield "valid-empty-batch", zst(b"")
    yield "valid-empty-map", zst(b"\x80")
    yield "valid-types", zst(records(
        {"u8": 200, "u16": 60000, "u32": 4000000000, "u64": 2**64 - 1,
         "i8": -100, "i16": -30000, "i32": -2**31, "i64": -2**63,
         "ext1": msgpack.ExtType(1, b"\x00"), "d": 2.5, "s8": "x" * 40,
         "s16": "y" * 300, "b8": b"\x01" * 40, "b16": b"\x02" * 300,
         "fixext": msgpack.ExtType(5, b"abcd"), 7: "int key",
         "map16": {str(i): i for i in range(20)},
         "arr16": list(range(20))}) +
        b"\x81\xa3f32\xca\x3f\xc0\x00\x00")  # float32 1.5
    yield "valid-timestamps", zst(records(
        {"time": ts(1718356867100234567)},
        {"time": ts(-1000000001)},
        {"time": "2024-06-14T09:21:07Z"}) +
        time_ext(struct.pack(">I", 1700000000)) +
        time_ext(struct.pack(">Iq", 5, 2**40)) +
        time_ext(struct.pack(">Iq", 10**9, 1)) +
        time_ext(b"\x00" * 5) +
        time_ext(struct.pack(">Iq", 0, 2**62)))
    many = records(*sample_records(400))
    yield "valid-400-records", zst(many)
    yield "valid-400-records-level1", zst(many, level=1)

    frame = zst(records(*sample_records(5)))
    yield "trunc-magic", frame[:3]
    yield "trunc-header", frame[:6]
    yield "trunc-half", frame[: len(frame) // 2]
    yield "trunc-no-checksum-end", frame[:-1]
    yield "bad-checksum", frame[:-1] + bytes([frame[-1] ^ 1])
    yield "bad-block", frame[:20] + bytes([frame[20] ^ 0x55]) + frame[21:]
    yield "two-frames", frame + frame
    yield "trailing-byte", frame + b"\x00"
    skippable = b"\x50\x2a\x4d\x18" + struct.pack("<I", 4) + b"abcd"
    yield "skippable", skippable
    yield "skippable-then-batch", skippable + frame
    yield "legacy-v07-magic", b"\x27\xb5\x2f\xfd" + frame[4:]

    yield "bomb-1g-zeros", bomb(False)
    yield "bomb-1g-zeros-declared", bomb(True)
    params = zstandard.ZstdCompressionParameters.from_level(
        1, window_log=24, write_checksum=1)
    obj = zstandard.ZstdCompressor(compression_params=params).compressobj()
    yield "window-16m", obj.compress(three) + obj.flush()
    yield "window-1g-header", MAGIC + b"\x00" + bytes([(30 - 10) << 3]) + \
        b"\x01\x00\x00"
    yield "single-segment-1g", MAGIC + b"\xa0" + struct.pack("<I", 1 << 30) + \
        b"\x01\x00\x00"
    yield "declared-8m-empty-block", MAGIC + b"\xa0" + \
        struct.pack("<I", 8 << 20) + b"\x01\x00\x00"
    ratio = records(*({"r": rnd.getrandbits(32), "s": rnd.getrandbits(32),
                       "pad": bytes(2000)} for _ in range(1000)))
    yield "ratio-200", zst(ratio)

    arr50m = b"\xdd\x02\xfa\xf0\x80"
    yield "array32-50m", zst(arr50m)
    yield "array32-50m-stored", stored(arr50m)
    yield "map-array32-50m", stored(b"\x81\xa1a" + arr50m)
    yield "map32-50m", stored(b"\xdf\x02\xfa\xf0\x80")
    deep = b"\x81\xa1a" + b"\x91" * 100000 + b"\xc0"
    yield "deep-100k-stored", stored(deep)
    yield "deep-100k", zst(deep)
    yield "deep-32", stored(b"\x81\xa1a" + b"\x91" * 31 + b"\xc0")
    yield "deep-33", stored(b"\x81\xa1a" + b"\x91" * 32 + b"\xc0")
    yield "deep-maps-40", stored(b"\x81\xa1a" * 40 + b"\xc0")
    yield "map-65537", stored(b"\xdf\x00\x01\x00\x01" + bytes(65537 * 2))
    yield "not-a-map", zst(pack([1, 2, 3]))
    yield "map-then-array", zst(pack({"a": 1}) + pack([1]))
    yield "map-then-0xc1", stored(pack({"a": 1}) + b"\xc1")
    yield "truncated-record", stored(pack({"a": "bcdef"})[:-2])
    yield "garbage-in-zstd", zst(b"hello world")
    chunks = [bytes(rnd.getrandbits(8) for _ in range(64)) for _ in range(16)]
    body = b"".join(rnd.choice(chunks) for _ in range((1 << 20) // 64 + 64))
    yield "record-over-1m", zst(pack({"blob": body}))
    yield "not-zstd", bytes(rnd.getrandbits(8) for _ in range(64))
    yield "empty", b""


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(here, "corpus", "batch")
    os.makedirs(outdir, exist_ok=True)
    total = 0
    for name, data in seeds():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
        total += len(data)
    print("%s: %d bytes" % (outdir, total))


if __name__ == "__main__":
    main()
