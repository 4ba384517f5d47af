"""A trawl-agent on loopback for the integration tests, and helpers around it."""
import os
import signal
import struct
import subprocess
import time
import zlib

from conftest import assert_no_sanitizer_report, binary, free_port, http_request


def wait_for(cond, timeout=20.0, step=0.05, what="condition"):
    """Poll cond() until it returns a true value; fail after timeout seconds."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(step)


class Agent:
    """A trawl-agent with its own data_dir, logging to a file (never a pipe it could fill)."""

    def __init__(self, daemons, tmp_path, collector_port, inputs, agent_extra="", output_extra="",
                 agent_id="node-1", url=None):
        self.daemons = daemons
        self.tmp_path = tmp_path
        self.data_dir = tmp_path / "agent-data"
        self.port = free_port()
        while self.port == collector_port:  # a collector not started yet
            self.port = free_port()
        self.config = tmp_path / "agent.yaml"
        self.log = tmp_path / "agent.log"
        self.proc = None
        self._err = None
        text = ("agent:\n  id: %s\n  data_dir: %s\n  http: { listen: 127.0.0.1:%d }\n"
                % (agent_id, self.data_dir, self.port))
        text += agent_extra
        text += "inputs:\n" + inputs
        text += "output:\n  type: http\n  url: %s\n" % (url or "http://127.0.0.1:%d" % collector_port)
        text += output_extra
        self.config.write_text(text)

    def start(self):
        self._err = open(self.log, "ab")
        self.proc = self.daemons.start([binary("trawl-agent"), "--config", str(self.config)],
                                       stdout=subprocess.DEVNULL, stderr=self._err)
        end = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("agent exited (%s): %s" % (self.proc.returncode, self.log_text()))
            try:
                http_request(self.port, "GET", "/healthz", timeout=2)
                return self
            except OSError:
                if time.monotonic() > end:
                    raise AssertionError("agent did not listen: " + self.log_text())
                time.sleep(0.05)

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._close_log()

    def term(self, timeout=20):
        os.kill(self.proc.pid, signal.SIGTERM)
        rc = self.proc.wait(timeout=timeout)
        self._close_log()
        return rc

    def hup(self):
        os.kill(self.proc.pid, signal.SIGHUP)

    def _close_log(self):
        if self._err is not None:
            self._err.close()
            self._err = None
        assert_no_sanitizer_report(self.log_text())

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def metrics(self):
        """Every sample of /metrics as {"name{labels}": value}."""
        out = {}
        body = http_request(self.port, "GET", "/metrics")[2].decode()
        for line in body.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                out[key] = float(value)
        return out

    def metric(self, name):
        return self.metrics().get(name, 0.0)

    def ready(self):
        return http_request(self.port, "GET", "/readyz")


def messages(records):
    return sorted(r.get("message") for r in records)


def assert_exactly_once(records, expected):
    """Every expected message is stored once; nothing else is stored."""
    got = {}
    for r in records:
        got[r.get("message")] = got.get(r.get("message"), 0) + 1
    want = set(expected)
    dups = {m: n for m, n in got.items() if n > 1}
    lost = [m for m in expected if m not in got]
    extra = [m for m in got if m not in want]
    assert not dups, "duplicated: %d, e.g. %r" % (len(dups), sorted(dups.items())[:5])
    assert not lost, "lost: %d of %d, e.g. %r" % (len(lost), len(expected), lost[:5])
    assert not extra, "unexpected: %r" % extra[:5]


def spool_file(seq, frame, records, agent="node-1", parent=0, cov=(), corrupt_crc=False):
    """The bytes of a spool file (agent/spool.h) holding frame."""
    a = agent.encode()
    hlen = 78 + len(a) + 56 * len(cov) + 4
    crc = zlib.crc32(frame) ^ (1 if corrupt_crc else 0)
    h = b"TRAWLSP1" + struct.pack("<IIQQIIQQqqIH", 1, hlen, seq, parent, records, len(cov),
                                  0, len(frame), 0, 0, crc, len(a)) + a
    for (dev, ino, fph, fpl, start, end, skip) in cov:
        h += struct.pack("<QQQIIQQQ", dev, ino, fph, fpl, 0, start, end, skip)
    h += struct.pack("<I", zlib.crc32(h))
    return h + frame
