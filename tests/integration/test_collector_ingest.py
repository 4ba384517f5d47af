"""Collector ingest: authentication, limits, dedup, durability, operations (DESIGN.md §3, §8)."""
import json
import os
import random
import signal
import struct
import threading
import time

import pytest
import zstandard

from conftest import (Collector, binary, http_request, make_batch, pack_records,
                      peak_rss_kib, post_batch, run)

T0 = 1718409600000000000
TOKEN = "s3cr3t-token-of-node-1"
OTHER = "s3cr3t-token-of-node-2"


def recs(n, start=0, agent="node-1"):
    return [{"time": T0 + start + i, "message": "line %d" % (start + i),
             "source": {"kind": "file", "format": "text", "path": "/var/log/%s.log" % agent}}
            for i in range(n)]


@pytest.fixture
def collector(daemons, tmp_path):
    return Collector(daemons, tmp_path, tokens={"node-1": TOKEN, "node-2": OTHER}).start()


def test_batch_is_stored_and_acked(collector):
    status, _, body = post_batch(collector.port, make_batch(recs(5)), seq=1, records=5, token=TOKEN)
    assert (status, json.loads(body)) == (200, {"accepted": 5})
    assert collector.records() == recs(5)
    proc = run([binary("trawl"), "verify", "--store", str(collector.data_dir)])
    assert proc.returncode == 0 and proc.stdout.decode().strip() == "ok 1 blocks"


def test_retry_is_a_duplicate_ack_and_out_of_order_is_not(collector):
    for seq in (3, 1, 3, 2, 1):
        status, _, body = post_batch(collector.port, make_batch(recs(2, seq * 10)), seq=seq,
                                     records=2, token=TOKEN)
        assert status == 200
    assert collector.count() == 6
    assert "trawl_collector_duplicates_total 2" in collector.metrics()
    status, _, body = post_batch(collector.port, make_batch(recs(2, 30)), seq=3, records=2,
                                 token=TOKEN)
    assert json.loads(body) == {"accepted": 0, "duplicate": True}


def test_same_seq_from_another_agent_is_not_a_duplicate(collector):
    post_batch(collector.port, make_batch(recs(1)), seq=1, token=TOKEN)
    status, _, body = post_batch(collector.port, make_batch(recs(1, 5, "node-2")), agent="node-2",
                                 seq=1, token=OTHER)
    assert json.loads(body) == {"accepted": 1}
    assert collector.count() == 2


def bomb(declare_size):
    """1 GiB of zeros in one zstd frame (≈33 KB), streamed so nothing big is held here."""
    out = bytearray()
    cctx = zstandard.ZstdCompressor(level=3, write_content_size=declare_size)
    chunk = b"\0" * (1 << 20)
    if declare_size:
        obj = cctx.compressobj(size=1 << 30)
    else:
        obj = cctx.compressobj()
    for _ in range(1024):
        out += obj.compress(chunk)
    out += obj.flush()
    return bytes(out)


def raw_frame(payload):
    return zstandard.ZstdCompressor(level=1).compress(payload)


def nested(depth):
    return b"\x81\xa1x" + b"\x91" * depth + b"\xc0"


HOSTILE = [
    ("no token", lambda: (make_batch(recs(1)), 1, {}), 401),
    ("bad token", lambda: (make_batch(recs(1)), 1, {"Authorization": "Bearer nope-nope-nope-nope"}), 401),
    ("other agent's token", lambda: (make_batch(recs(1)), 1, {"Authorization": "Bearer " + OTHER}), 403),
    ("zstd bomb, size declared", lambda: (bomb(True), 1, None), 413),
    ("zstd bomb, size unknown", lambda: (bomb(False), 1, None), 413),
    ("garbage inside valid zstd", lambda: (raw_frame(os.urandom(4096)), 1, None), 400),
    # zstd magic, a 1 KiB window, then a block of the reserved type
    ("corrupt zstd frame", lambda: (b"\x28\xb5\x2f\xfd\x00\x00\xff\xff\xff" + b"junk", 1, None), 400),
    ("not zstd at all", lambda: (b"GET / HTTP/1.0\r\n\r\n", 1, None), 400),
    ("array32 claiming 50M elements", lambda: (raw_frame(b"\xdd\x02\xfa\xf0\x80"), 1, None), 400),
    ("map with array32 claiming 50M", lambda: (raw_frame(b"\x81\xa1x\xdd\x02\xfa\xf0\x80"), 1, None), 400),
    ("nesting 100000 deep", lambda: (raw_frame(nested(100000)), 1, None), 400),
    ("nesting 100000 deep, stored blocks", lambda: (
        zstandard.ZstdCompressor(level=-131072).compress(nested(100000)), 1, None), 400),
    ("record count lies", lambda: (make_batch(recs(3)), 5, None), 400),
    ("record count header missing", lambda: (make_batch(recs(1)), None, None), 400),
]


@pytest.mark.parametrize("name,make,status", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_input_is_refused_and_nothing_is_stored(collector, name, make, status):
    body, records, headers = make()
    h = {"Authorization": "Bearer " + TOKEN} if headers is None else headers
    if records is None:
        req = {"Content-Type": "application/vnd.trawl.batch+msgpack", "Content-Encoding": "zstd",
               "Trawl-Agent": "node-1", "Trawl-Batch": "7"}
        req.update(h)
        got, _, reply = http_request(collector.port, "POST", "/v1/batches", body, req)
    else:
        got, _, reply = post_batch(collector.port, body, seq=7, records=records, headers=h)
    assert got == status, reply
    assert "error" in json.loads(reply)
    assert collector.count() == 0
    # It keeps serving: the same seq, well-formed, is stored.
    ok, _, reply = post_batch(collector.port, make_batch(recs(2)), seq=7, records=2, token=TOKEN)
    assert (ok, json.loads(reply)) == (200, {"accepted": 2})
    assert peak_rss_kib(collector.proc.pid) < 256 * 1024


def test_all_hostile_inputs_in_a_row_stay_under_256_mib(collector):
    for name, make, status in HOSTILE:
        body, records, headers = make()
        if records is None:
            continue
        h = {"Authorization": "Bearer " + TOKEN} if headers is None else headers
        got, _, _ = post_batch(collector.port, body, seq=9, records=records, headers=h)
        assert got == status, name
    assert collector.count() == 0
    rss = peak_rss_kib(collector.proc.pid)
    assert rss < 256 * 1024, "collector peak RSS %d KiB" % rss
    metrics = collector.metrics()
    assert 'trawl_collector_rejected_total{reason="no_token"} 1' in metrics
    assert 'trawl_collector_rejected_total{reason="forbidden"} 1' in metrics


def test_body_over_the_limit_is_refused_before_it_is_read(collector):
    import socket
    with socket.create_connection(("127.0.0.1", collector.port), timeout=10) as s:
        s.sendall(("POST /v1/batches HTTP/1.1\r\nHost: x\r\n"
                   "Content-Type: application/vnd.trawl.batch+msgpack\r\n"
                   "Content-Encoding: zstd\r\nTrawl-Agent: node-1\r\nTrawl-Batch: 1\r\n"
                   "Trawl-Records: 1\r\nAuthorization: Bearer %s\r\n"
                   "Content-Length: %d\r\n\r\n" % (TOKEN, 9 << 20)).encode())
        reply = s.recv(4096).decode()  # no body byte was sent
    assert reply.startswith("HTTP/1.1 413"), reply
    assert collector.count() == 0


def test_bad_content_type_and_headers_are_400(collector):
    status, _, _ = post_batch(collector.port, make_batch(recs(1)), token=TOKEN,
                              headers={"Content-Type": "application/json"})
    assert status == 400
    status, _, _ = post_batch(collector.port, make_batch(recs(1)), token=TOKEN,
                              headers={"Trawl-Batch": "twelve"})
    assert status == 400


def test_records_endpoint_parses_server_side(collector):
    body = b'{"level":"error","msg":"boom","ts":1718409600.5}\nplain text\n'
    status, _, reply = http_request(collector.port, "POST", "/v1/records?format=json", body,
                                    {"Authorization": "Bearer " + TOKEN, "Trawl-Agent": "node-1"})
    assert (status, json.loads(reply)) == (200, {"accepted": 2})
    got = collector.records()
    assert [r.get("message") for r in got] == ["boom", "plain text"]
    assert got[0]["time"] == 1718409600500000000 and got[0]["level"] == "error"
    status, _, _ = http_request(collector.port, "POST", "/v1/records?format=nope", body,
                                {"Authorization": "Bearer " + TOKEN, "Trawl-Agent": "node-1"})
    assert status == 400
    status, _, _ = http_request(collector.port, "POST", "/v1/records?format=json", body, {})
    assert status == 401


def test_sighup_reloads_tokens(collector):
    assert post_batch(collector.port, make_batch(recs(1)), seq=1, token=TOKEN)[0] == 200
    collector.tokens_file.write_text("node-1 rotated-token-0123456789\n")
    os.kill(collector.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if post_batch(collector.port, make_batch(recs(1)), seq=2, token=TOKEN)[0] == 401:
            break
        time.sleep(0.05)
    assert post_batch(collector.port, make_batch(recs(1)), seq=3, token=TOKEN)[0] == 401
    assert post_batch(collector.port, make_batch(recs(1)), seq=3,
                      token="rotated-token-0123456789")[0] == 200


def test_sigterm_finishes_in_flight_requests_and_exits_0(collector):
    results = {}

    def client(i):
        try:
            results[i] = post_batch(collector.port, make_batch(recs(50, i * 100)), seq=100 + i,
                                    records=50, token=TOKEN)[0]
        except OSError:
            results[i] = None  # refused once the server stopped accepting

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.01)
    os.kill(collector.proc.pid, signal.SIGTERM)
    for t in threads:
        t.join()
    assert collector.proc.wait(timeout=20) == 0
    assert set(results.values()) <= {200, 503, None}
    acked = sum(1 for s in results.values() if s == 200)
    stored = collector.count()
    # Every ack is durable; a batch stored as the connection closed may lack
    # its ack (the agent's retry then gets a duplicate ack), never a part.
    assert stored % 50 == 0 and acked * 50 <= stored <= 8 * 50


def test_kill_9_never_loses_an_acked_batch(daemons, tmp_path):
    """kill -9 at random moments while several clients post, 20 times."""
    col = Collector(daemons, tmp_path, tokens={"node-%d" % i: "token-of-node-%02d-xxxxxxxx" % i
                                               for i in range(4)})
    acked = {}
    lock = threading.Lock()
    rng = random.Random(7)
    for round_ in range(20):
        col.start()
        stop = threading.Event()

        def client(i):
            agent = "node-%d" % i
            seq = round_ * 1000
            while not stop.is_set():
                seq += 1
                body = make_batch(recs(3, seq * 10, agent))
                try:
                    status, _, _ = post_batch(col.port, body, agent=agent, seq=seq, records=3,
                                              token="token-of-node-%02d-xxxxxxxx" % i)
                except OSError:
                    return
                if status == 200:
                    with lock:
                        acked[(agent, seq)] = True

        threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.05, 0.4))
        os.kill(col.proc.pid, signal.SIGKILL)
        col.proc.wait()
        stop.set()
        for t in threads:
            t.join()
        proc = run([binary("trawl"), "verify", "--store", str(col.data_dir)])
        assert proc.returncode == 0, proc.stdout + proc.stderr
    col.start()
    stored = {}
    seen = set()
    for r in col.records():
        agent = r["source"]["path"].split("/")[-1][:-4]
        key = (agent, r["time"])
        assert key not in seen, "stored twice: %r" % (key,)
        seen.add(key)
        stored.setdefault(agent, set()).add(r["time"])
    lost = [k for k in acked if not {T0 + k[1] * 10 + j for j in range(3)} <= stored.get(k[0], set())]
    assert not lost, "acked but lost: %r" % lost[:10]
    for agent, times in stored.items():  # no batch stored in part
        for seq in {(t - T0) // 10 for t in times}:
            assert {T0 + seq * 10 + j for j in range(3)} <= times, (agent, seq)
    proc = run([binary("trawl"), "verify", "--store", str(col.data_dir)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(acked) > 20


def test_metrics_and_readiness(collector):
    post_batch(collector.port, make_batch(recs(4)), seq=1, records=4, token=TOKEN)
    m = collector.metrics()
    for name in ("trawl_collector_requests_total{status=\"200\"} 1",
                 "trawl_collector_records_in_total 4", "trawl_collector_batches_in_total 1",
                 "trawl_collector_store_segments 1", "trawl_collector_commit_seconds_count 1"):
        assert name in m, name
    assert http_request(collector.port, "GET", "/readyz")[0] == 200


def test_retention_removes_oldest_segments_and_verify_still_passes(daemons, tmp_path):
    col = Collector(daemons, tmp_path, extra=(
        "  store:\n    segment_max_bytes: 8KiB\n    retention_bytes: 32KiB\n")).start()
    for seq in range(1, 41):
        batch = recs(20, seq * 100)
        for r in batch:
            r["message"] += " " + os.urandom(64).hex()  # ~3 KiB a batch after zstd
        status, _, _ = post_batch(col.port, make_batch(batch), seq=seq, records=20)
        assert status == 200
    segs = sorted(p.name for p in (col.data_dir / "store").glob("*.seg"))
    total = sum((col.data_dir / "store" / s).stat().st_size for s in segs)
    assert total <= 32 * 1024 + 8 * 1024, total
    assert "%020d.seg" % 1 not in segs  # the oldest segment went
    proc = run([binary("trawl"), "verify", "--store", str(col.data_dir)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    kept = col.records()
    assert 0 < len(kept) < 40 * 20
    # what is kept is the newest: the last batch is there, the first is gone
    times = {r["time"] for r in kept}
    assert T0 + 40 * 100 in times and T0 + 100 not in times
