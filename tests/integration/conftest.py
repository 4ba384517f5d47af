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
