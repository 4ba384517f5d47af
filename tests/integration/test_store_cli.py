"""trawl verify and trawl query over a store written by tests/store-write."""
import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess

import pytest

from conftest import TOP_BUILDDIR, binary, run

STORE_WRITE = str(TOP_BUILDDIR / "tests" / "store-write")

RECORDS = [
    {"time": 1718382002250000000, "observed_time": 1718382002300000000,
     "message": "disk almost full", "level": "warn",
     "source": {"kind": "file", "format": "json", "path": "/var/log/app.log"},
     "fields": {"pct": 91, "ratio": 0.91, "tags": ["a", {"b": None}], "ok": True}},
    {"time": 1718382003000000000, "message": "caf\u00e9 \u2603 ok",
     "source": {"kind": "container", "format": "cri"},
     "k8s": {"namespace": "prod", "pod": "web-1", "labels": {"app": "web"}}},
    {"time": 1718382004000000000, "message": "bad bytes",
     "raw": base64.b64encode(b"caf\xe9 \xff").decode(),
     "source": {"kind": "file", "format": "text"}},
    {"message": "no time at all", "source": {"kind": "syslog", "format": "rfc5424"}},
    {"time": 1718382005000000000, "message": "audit",
     "audit": {"who": "alice", "what": "delete", "outcome": "success"},
     "source": {"kind": "k8s_audit", "format": "k8s_audit_v1"}},
    {"time": 1718382006000000000, "message": "with \"quotes\" and \\ and \t tab",
     "source": {"kind": "file", "format": "text"}},
    {"time": 1718382007000000000, "observed_time": 1718382007000000001,
     "message": "last", "source": {"kind": "faas", "format": "lambda_text"}},
]


def ndjson(records):
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def store_write(store_dir, records, *args):
    if not os.path.exists(STORE_WRITE):
        pytest.fail("%s is not built: run make check (or make tests/store-write)"
                    % STORE_WRITE)
    proc = run([STORE_WRITE, str(store_dir)] + list(args), input=ndjson(records))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode()


def trawl(*args):
    return run([binary("trawl")] + [str(a) for a in args])


def make_store(tmp_path, records=RECORDS, *args):
    """A collector data_dir whose store/ holds records, 3 to a batch."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    out = store_write(data_dir / "store", records, "--per-batch", "3", *args)
    return data_dir, out


def blocks(segment):
    """Parse a segment file as docs/store.md describes it."""
    data = segment.read_bytes()
    off, out = 0, []
    while off < len(data):
        assert data[off:off + 4] == b"TWBK"
        version, header_len, body_len, records = struct.unpack_from("<HHII", data, off + 4)
        assert version == 1
        (index,) = struct.unpack_from("<Q", data, off + 48)
        agent_len = data[off + 56]
        assert header_len == 96 + agent_len + 32
        header = data[off:off + header_len]
        body = data[off + header_len:off + header_len + body_len]
        stored_hash = header[-32:]
        assert hashlib.sha256(header[:-32] + body).digest() == stored_hash
        out.append({"offset": off, "index": index, "header_len": header_len,
                    "body_len": body_len, "records": records,
                    "prev": header[64:96], "hash": stored_hash,
                    "agent": header[96:96 + agent_len].decode()})
        off += header_len + body_len
    return out


def segments(store_dir):
    return sorted(p for p in store_dir.iterdir() if p.name.endswith(".seg"))


def test_verify_and_query_round_trip(tmp_path):
    data_dir, out = make_store(tmp_path)
    assert out.strip() == "stored 3 blocks 7 records 0 duplicates"

    proc = trawl("verify", "--store", data_dir)
    assert (proc.returncode, proc.stdout) == (0, b"ok 3 blocks\n"), proc.stderr

    proc = trawl("query", "--store", data_dir, "-o", "json")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert [json.loads(line) for line in lines] == RECORDS

    proc = trawl("query", "--store", data_dir, "--count")
    assert (proc.returncode, proc.stdout) == (0, b"7\n")

    # The store directory itself is accepted too, and -o json is the default.
    proc = trawl("query", "--store", data_dir / "store")
    assert [json.loads(line) for line in proc.stdout.decode().splitlines()] == RECORDS


def test_on_disk_format_matches_the_documentation(tmp_path):
    data_dir, _ = make_store(tmp_path, RECORDS, "--agent", "node-7")
    (seg,) = segments(data_dir / "store")
    assert seg.name == "00000000000000000001.seg"
    bl = blocks(seg)
    assert [b["index"] for b in bl] == [0, 1, 2]
    assert [b["records"] for b in bl] == [3, 3, 1]
    assert bl[0]["prev"] == b"\0" * 32
    assert [b["prev"] for b in bl[1:]] == [b["hash"] for b in bl[:-1]]
    assert {b["agent"] for b in bl} == {"node-7"}
    # The body is the batch's zstd frame verbatim.
    data = seg.read_bytes()
    for b in bl:
        start = b["offset"] + b["header_len"]
        assert data[start:start + 4] == b"\x28\xb5\x2f\xfd"


def test_several_stores_and_dedup(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, _ = make_store(tmp_path / "a", RECORDS[:4])
    b, _ = make_store(tmp_path / "b", RECORDS[4:])
    proc = trawl("query", "--store", a, "--store", b)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line) for line in proc.stdout.decode().splitlines()] == RECORDS
    # The same agent and seqs again: all duplicates, nothing stored.
    out = store_write(a / "store", RECORDS[:4], "--per-batch", "3")
    assert out.strip() == "stored 0 blocks 0 records 2 duplicates"
    assert trawl("query", "--store", a, "--count").stdout == b"4\n"


def test_empty_store_means_no_match(tmp_path):
    data_dir, out = make_store(tmp_path, [])
    assert out.strip() == "stored 0 blocks 0 records 0 duplicates"
    proc = trawl("verify", "--store", data_dir)
    assert (proc.returncode, proc.stdout) == (0, b"ok 0 blocks\n")
    proc = trawl("query", "--store", data_dir)
    assert (proc.returncode, proc.stdout) == (1, b"")
    proc = trawl("query", "--store", data_dir, "--count")
    assert (proc.returncode, proc.stdout) == (1, b"0\n")


@pytest.mark.parametrize("args", [
    ["verify"],
    ["verify", "--store"],
    ["verify", "--store", "x", "extra"],
    ["verify", "--bogus"],
    ["query"],
    ["query", "--bogus"],
    ["query", "--store", "x", "-o", "yaml"],
    ["query", "--store", "x", "--where", "level = 'error'"],
    ["query", "--store", "x", "-o", "text"],
    ["query", "some.log"],
])
def test_usage_errors_exit_2(args):
    proc = trawl(*args)
    assert proc.returncode == 2
    assert proc.stderr


def test_missing_store_is_an_error(tmp_path):
    assert trawl("verify", "--store", tmp_path / "nope").returncode == 2
    assert trawl("query", "--store", tmp_path / "nope").returncode == 2


def test_flipped_byte_names_the_block(tmp_path):
    data_dir, _ = make_store(tmp_path, RECORDS * 3)
    store = data_dir / "store"
    (seg,) = segments(store)
    bl = blocks(seg)
    assert len(bl) == 7
    target = bl[2]
    data = bytearray(seg.read_bytes())
    data[target["offset"] + target["header_len"] + 10] ^= 0x01
    seg.write_bytes(bytes(data))

    proc = trawl("verify", "--store", data_dir)
    assert proc.returncode == 1, proc.stdout
    line = proc.stdout.decode()
    assert line.startswith("bad block 2: ")
    assert seg.name in line
    assert "offset %d:" % target["offset"] in line
    assert "hash mismatch" in line

    # query skips the damaged block, says so, and exits 2.
    proc = trawl("query", "--store", data_dir, "--count")
    assert proc.returncode == 2
    assert proc.stdout == b"18\n"
    assert b"damaged" in proc.stderr


def test_changed_header_and_broken_link(tmp_path):
    data_dir, _ = make_store(tmp_path, RECORDS * 2)
    store = data_dir / "store"
    (seg,) = segments(store)
    bl = blocks(seg)
    data = bytearray(seg.read_bytes())
    data[bl[1]["offset"] + 40] ^= 0x01   # the batch seq of block 1
    seg.write_bytes(bytes(data))
    proc = trawl("verify", "--store", data_dir)
    assert proc.returncode == 1
    assert proc.stdout.decode().startswith("bad block 1: ")

    # Remove a whole block: every remaining block still checks by its
    # own hash; only the link to the removed block gives it away.
    data = bytearray(seg.read_bytes())
    data[bl[1]["offset"] + 40] ^= 0x01
    del data[bl[1]["offset"]:bl[2]["offset"]]
    seg.write_bytes(bytes(data))
    proc = trawl("verify", "--store", data_dir)
    assert proc.returncode == 1
    out = proc.stdout.decode()
    assert out.startswith("bad block 1: ") and "broken chain link" in out


def test_torn_tail(tmp_path):
    data_dir, _ = make_store(tmp_path)
    (seg,) = segments(data_dir / "store")
    bl = blocks(seg)
    with open(seg, "r+b") as f:
        f.truncate(bl[2]["offset"] + 20)
    proc = trawl("verify", "--store", data_dir)
    assert proc.returncode == 1
    assert proc.stdout.decode().startswith("bad block 2: ")
    assert "truncated" in proc.stdout.decode()
    # Readers see only whole blocks: the torn one is simply not there yet.
    proc = trawl("query", "--store", data_dir, "--count")
    assert (proc.returncode, proc.stdout) == (0, b"6\n")
    # The writer cuts it on start-up; the chain verifies again.
    out = store_write(data_dir / "store", RECORDS[6:], "--seq", "10")
    assert out.startswith("stored 1 blocks")
    proc = trawl("verify", "--store", data_dir)
    assert (proc.returncode, proc.stdout) == (0, b"ok 3 blocks\n")
    proc = trawl("query", "--store", data_dir)
    assert [json.loads(l) for l in proc.stdout.decode().splitlines()] == RECORDS[:6] + RECORDS[6:]


def test_checkpoints_hmac(tmp_path):
    key = tmp_path / "ckpt.key"
    key.write_text("0123456789abcdef0123456789abcdef\n")
    other = tmp_path / "other.key"
    other.write_text("fedcba9876543210fedcba9876543210\n")
    many = [dict(r, message="%s %d" % (r["message"], i)) for i in range(40) for r in RECORDS]
    data_dir, out = make_store(tmp_path, many, "--segment-bytes", "4096",
                               "--sign", "hmac-sha256", "--key", str(key))
    store = data_dir / "store"
    ckpts = sorted(p for p in store.iterdir() if p.name.endswith(".ckpt"))
    assert len(segments(store)) >= 3 and len(ckpts) == len(segments(store)) - 1
    payload, sig = ckpts[0].read_text().splitlines()
    payload = json.loads(payload)
    assert payload["segment"] == "00000000000000000001.seg"
    assert json.loads(sig)["alg"] == "hmac-sha256"

    proc = trawl("verify", "--store", data_dir, "--checkpoint-key", key)
    assert proc.returncode == 0 and proc.stdout.startswith(b"ok "), proc.stdout
    assert trawl("query", "--store", data_dir, "--count").stdout == \
        b"%d\n" % len(many)

    proc = trawl("verify", "--store", data_dir, "--checkpoint-key", other)
    assert proc.returncode == 1
    assert "bad checkpoint signature" in proc.stdout.decode()

    # A tampered checkpoint: same length, different sealed_at.
    text = ckpts[1].read_text()
    ckpts[1].write_text(text.replace('"sealed_at":1', '"sealed_at":2', 1))
    proc = trawl("verify", "--store", data_dir, "--checkpoint-key", key)
    assert proc.returncode == 1
    assert "bad checkpoint signature in %s" % ckpts[1].name in proc.stdout.decode()
    assert trawl("verify", "--store", data_dir).returncode == 0
    assert trawl("verify", "--store", data_dir, "--checkpoint-key",
                 tmp_path / "missing.key").returncode == 2


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI")
def test_checkpoints_ed25519(tmp_path):
    priv, pub = tmp_path / "ed.pem", tmp_path / "ed.pub"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(priv)],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", str(priv), "-pubout", "-out", str(pub)],
                   check=True, capture_output=True)
    many = [dict(r, message="%s %d" % (r["message"], i)) for i in range(30) for r in RECORDS]
    data_dir, _ = make_store(tmp_path, many, "--segment-bytes", "4096",
                             "--sign", "ed25519", "--key", str(priv))
    proc = trawl("verify", "--store", data_dir, "--checkpoint-key", pub)
    assert proc.returncode == 0, proc.stdout
    hmac_key = tmp_path / "hmac.key"
    hmac_key.write_text("0123456789abcdef0123456789abcdef\n")
    proc = trawl("verify", "--store", data_dir, "--checkpoint-key", hmac_key)
    assert proc.returncode == 1


def test_readers_next_to_a_live_writer(tmp_path, daemons):
    """query and verify while another process appends: whole blocks only."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    writer = daemons.start([STORE_WRITE, str(data_dir / "store"), "--per-batch", "1",
                            "--segment-bytes", "4096"], stdin=subprocess.PIPE)
    many = [dict(r, message="%s %d" % (r["message"], i)) for i in range(12) for r in RECORDS]
    seen = 0
    for i, rec in enumerate(many):
        writer.stdin.write(json.dumps(rec).encode() + b"\n")
        writer.stdin.flush()
        if i % 7 == 0 and (data_dir / "store").exists():
            proc = trawl("verify", "--store", data_dir)
            assert proc.returncode == 0, proc.stdout
            proc = trawl("query", "--store", data_dir)
            assert proc.returncode in (0, 1), proc.stderr
            got = [json.loads(l) for l in proc.stdout.decode().splitlines()]
            assert got == many[:len(got)]
            assert seen <= len(got) <= i + 1
            seen = len(got)
    writer.stdin.close()
    assert writer.wait(timeout=30) == 0
    proc = trawl("query", "--store", data_dir)
    assert [json.loads(l) for l in proc.stdout.decode().splitlines()] == many
    proc = trawl("verify", "--store", data_dir)
    assert proc.stdout == b"ok %d blocks\n" % len(many)
