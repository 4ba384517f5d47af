#!/usr/bin/python3
"""Collector ingest benchmark (issue: collector CPU per GB of raw logs vs zstd -d).

Builds batches from gen.py container logs (parsed by `trawl parse --format cri`),
posts them with 4 concurrent clients to a real trawl-collector on loopback, and
reports the collector's CPU-seconds per GB of raw log data and its ingest MB/s,
next to `zstd -d` decompressing the same batch frames in the same run.

    /usr/bin/python3 tests/bench/bench_ingest.py [--total-mib 512] [--clients 4]
"""
import argparse
import http.client
import json
import os
import pathlib
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import msgpack
import zstandard

TOP = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("top_builddir", TOP))
TRAWL = str(BUILD / "query" / "trawl")
COLLECTOR = str(BUILD / "collector" / "trawl-collector")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_batches(logs, records_per_batch):
    """(frame, records, raw bytes of the log lines) per batch."""
    batches, raw_total = [], 0
    cctx = zstandard.ZstdCompressor(level=1)
    for path in sorted(logs.glob("*.log")):
        raw_total += path.stat().st_size
        proc = subprocess.Popen([TRAWL, "parse", "--format", "cri", "--path",
                                 "/var/log/containers/" + path.name, str(path)],
                                stdout=subprocess.PIPE)
        buf, n = [], 0
        for line in proc.stdout:
            r = json.loads(line)
            r["time"] = msgpack.Timestamp.from_unix_nano(r["time"])
            buf.append(msgpack.packb(r, datetime=False))
            if len(buf) == records_per_batch:
                batches.append((cctx.compress(b"".join(buf)), len(buf)))
                buf = []
        if buf:
            batches.append((cctx.compress(b"".join(buf)), len(buf)))
        proc.wait()
    return batches, raw_total


def post_all(port, batches, clients):
    lock = threading.Lock()
    todo = list(enumerate(batches))
    errors = []

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not todo:
                    break
                seq, (frame, n) = todo.pop()
            conn.request("POST", "/v1/batches", frame, {
                "Content-Type": "application/vnd.trawl.batch+msgpack",
                "Content-Encoding": "zstd", "Trawl-Agent": "bench",
                "Trawl-Batch": str(seq + 1), "Trawl-Records": str(n)})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors.append(resp.status)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--total-mib", type=int, default=512)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--records-per-batch", type=int, default=10000)
    args = ap.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="trawl-bench-"))
    proc = None
    try:
        logs = work / "containers"
        subprocess.run([sys.executable, str(TOP / "tests" / "bench" / "gen.py"), "--out", str(logs),
                        "--total-mib", str(args.total_mib), "--files", "8"],
                       check=True, stdout=subprocess.DEVNULL)
        batches, raw = build_batches(logs, args.records_per_batch)
        wire = sum(len(f) for f, _ in batches)

        port = free_port()
        cfg = work / "collector.yaml"
        cfg.write_text("collector:\n  data_dir: %s\n  listen: 127.0.0.1:%d\n" % (work / "data", port))
        wrap = os.environ.get("TW_BENCH_WRAP", "").split()
        proc = subprocess.Popen(wrap + [COLLECTOR, "--config", str(cfg)], stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        errors = post_all(port, batches, args.clients)
        wall, cpu = time.monotonic() - t0, cpu_seconds(proc.pid) - cpu0

        frames = work / "frames"
        frames.mkdir()
        for i, (f, _) in enumerate(batches):
            (frames / ("%06d.zst" % i)).write_bytes(f)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(["zstd", "-d", "-q", "-T1", "--no-progress", "-c"] +
                       sorted(str(p) for p in frames.iterdir()),
                       check=True, stdout=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        zcpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

        gb = raw / 1e9
        print("raw log data     %.1f MB in %d batches (%.1f MB on the wire)" % (raw / 1e6, len(batches), wire / 1e6))
        print("collector        %.2f CPU-s/GB, ingest %.1f MB/s raw (%d clients, %d errors)" % (
            cpu / gb, raw / 1e6 / wall, args.clients, len(errors)))
        print("zstd -d          %.2f CPU-s/GB" % (zcpu / gb))
        print("ratio            collector / zstd -d = %.2f (target <= 1.5)" % ((cpu / gb) / (zcpu / gb)))
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
