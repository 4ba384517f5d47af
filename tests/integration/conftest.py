"""Shared fixtures for the integration tests, and TAP reporting for make check."""
import os
import pathlib
import signal
import subprocess

import pytest

TOP_SRCDIR = pathlib.Path(os.environ.get("top_srcdir", pathlib.Path(__file__).resolve().parents[2]))
TOP_BUILDDIR = pathlib.Path(os.environ.get("top_builddir", TOP_SRCDIR))
DATA = TOP_SRCDIR / "tests" / "data"

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def binary(name):
    """Path of a built program: trawl, trawl-agent or trawl-collector."""
    sub = {"trawl": "query", "trawl-agent": "agent", "trawl-collector": "collector"}[name]
    return str(TOP_BUILDDIR / sub / name)


def assert_no_sanitizer_report(text):
    for marker in SANITIZER_MARKERS:
        assert marker not in text, "sanitizer report:\n" + text


def run(args, **kw):
    """Run a program to completion; fail the test on a sanitizer report."""
    kw.setdefault("capture_output", True)
    kw.setdefault("timeout", 60)
    proc = subprocess.run(args, **kw)
    err = proc.stderr.decode("utf-8", "replace") if isinstance(proc.stderr, bytes) else (proc.stderr or "")
    assert_no_sanitizer_report(err)
    return proc


class Daemons:
    """Processes a test started; each is stopped by pid when the test ends."""

    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        proc = subprocess.Popen(args, **kw)
        self.procs.append(proc)
        return proc

    def stop_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
            err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
            assert_no_sanitizer_report(err)


@pytest.fixture
def daemons():
    d = Daemons()
    yield d
    d.stop_all()


# --- TAP output for automake's tap-driver (TW_TAP_FILE) ---
_tap = {"n": 0, "lines": []}


def pytest_runtest_logreport(report):
    path = os.environ.get("TW_TAP_FILE")
    if not path:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _tap["n"] += 1
        name = report.nodeid.replace("#", "")
        if report.skipped:
            line = "ok %d - %s # SKIP" % (_tap["n"], name)
        elif report.passed:
            line = "ok %d - %s" % (_tap["n"], name)
        else:
            line = "not ok %d - %s" % (_tap["n"], name)
        _tap["lines"].append(line)
    elif report.when == "teardown" and report.failed:
        _tap["n"] += 1
        _tap["lines"].append("not ok %d - %s (teardown)" % (_tap["n"], report.nodeid))


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("TW_TAP_FILE")
    if not path or not _tap["lines"]:
        return
    with open(path, "w") as f:
        for line in _tap["lines"]:
            f.write(line + "\n")
        f.write("1..%d\n" % _tap["n"])


# --- batches and a collector on loopback ---

def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pack_records(records):
    """msgpack record maps; int "time"/"observed_time" become timestamps."""
    import msgpack
    out = b""
    for r in records:
        r = dict(r)
        for key in ("time", "observed_time"):
            if isinstance(r.get(key), int):
                r[key] = msgpack.Timestamp.from_unix_nano(r[key])
        out += msgpack.packb(r, datetime=False)
    return out


def make_batch(records, level=1):
    import zstandard
    return zstandard.ZstdCompressor(level=level).compress(pack_records(records))


def http_request(port, method, path, body=None, headers=None, timeout=30):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def post_batch(port, body, agent="node-1", seq=1, records=1, token=None, headers=None):
    h = {"Content-Type": "application/vnd.trawl.batch+msgpack",
         "Content-Encoding": "zstd", "Trawl-Agent": agent,
         "Trawl-Batch": str(seq), "Trawl-Records": str(records)}
    if token is not None:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    return http_request(port, "POST", "/v1/batches", body, h)


def wait_http(port, proc, deadline=15.0):
    import time
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError("daemon exited: " + proc.stderr.read().decode())
        try:
            return http_request(port, "GET", "/healthz", timeout=2)
        except OSError:
            time.sleep(0.05)
    raise AssertionError("daemon did not listen on %d" % port)


class Collector:
    """A trawl-collector on loopback with its own data_dir."""

    def __init__(self, daemons, tmp_path, tokens=None, extra=""):
        self.daemons = daemons
        self.data_dir = tmp_path / "data"
        self.port = free_port()
        self.config = tmp_path / "collector.yaml"
        text = "collector:\n  data_dir: %s\n  listen: 127.0.0.1:%d\n" % (self.data_dir, self.port)
        if tokens is not None:
            self.tokens_file = tmp_path / "tokens"
            self.tokens_file.write_text("".join("%s %s\n" % kv for kv in tokens.items()))
            text += "  tokens_file: %s\n" % self.tokens_file
        self.config.write_text(text + extra)
        self.proc = None

    def start(self):
        self.proc = self.daemons.start([binary("trawl-collector"), "--config", str(self.config)])
        wait_http(self.port, self.proc)
        return self

    def query(self, *args):
        proc = run([binary("trawl"), "query", "--store", str(self.data_dir)] + list(args))
        assert proc.returncode in (0, 1), proc.stderr.decode()
        return proc

    def records(self):
        import json
        return [json.loads(l) for l in self.query("-o", "json").stdout.decode().splitlines()]

    def count(self):
        return int(self.query("--count").stdout.decode().strip() or 0)

    def metrics(self):
        return http_request(self.port, "GET", "/metrics")[2].decode()


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0
