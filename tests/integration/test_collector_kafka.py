"""Collector Kafka input: a consumer group member that stores each message as a block and
commits its offset only once the block is durable (DESIGN.md §3, docs/protocol.md)."""
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import (TOP_BUILDDIR, Collector, binary, http_request, make_batch, run,
                      wait_http)

KAFKA_TOOL = TOP_BUILDDIR / "tests" / "kafka-tool"
TOPIC = "trawl-batches"
T0 = 1718409600000000000
# The mock cluster drops a member only after its session times out: keep that short so
# a collector killed with -9 is replaced within seconds.
PROPERTIES = '["session.timeout.ms=4000", "heartbeat.interval.ms=500"]'


def recs(agent, seq, n=4):
    return [{"time": T0 + seq * 1000 + i, "message": "%s batch %d line %d" % (agent, seq, i),
             "source": {"kind": "file", "format": "text", "path": "/var/log/%s.log" % agent}}
            for i in range(n)]


@pytest.fixture(scope="module")
def kafka_tool():
    """tests/kafka-tool is a check program: build it when make check has not."""
    if not KAFKA_TOOL.exists():
        subprocess.run(["make", "-C", str(TOP_BUILDDIR), "tests/kafka-tool"],
                       capture_output=True, timeout=300)
    if not KAFKA_TOOL.exists():
        pytest.fail("%s is not built: run make check (or make tests/kafka-tool)" % KAFKA_TOOL)
    return str(KAFKA_TOOL)


class MockKafka:
    """`kafka-tool serve`: an in-process librdkafka mock cluster; it ends with its stdin."""

    def __init__(self, daemons, tool, tmp_path, partitions=3):
        self.tool = tool
        self.tmp = tmp_path
        self.proc = daemons.start([tool, "serve", "--brokers", "3", "--topic", TOPIC,
                                   "--partitions", str(partitions)], stdin=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("BOOTSTRAP="), line + self.proc.stderr.read().decode()
        self.bootstrap = line.strip().split("=", 1)[1]
        self.n = 0

    def produce(self, value, agent="node-1", seq=1, records=4, headers=None, partition=None):
        """One message, acks=all; returns (partition, offset)."""
        h = {"trawl-agent": agent, "trawl-batch": str(seq), "trawl-records": str(records)}
        h.update(headers or {})
        self.n += 1
        path = self.tmp / ("msg-%d" % self.n)
        path.write_bytes(value)
        args = [self.tool, "produce", "--bootstrap", self.bootstrap, "--topic", TOPIC,
                "--key", agent]
        for k, v in h.items():
            if v is not None:
                args += ["--header", "%s=%s" % (k, v)]
        if partition is not None:
            args += ["--partition", str(partition)]
        proc = run(args + [str(path)])
        assert proc.returncode == 0, proc.stderr.decode()
        got = json.loads(proc.stdout)
        return got["partition"], got["offset"]

    def produce_batch(self, agent, seq, n=4, **kw):
        return self.produce(make_batch(recs(agent, seq, n)), agent, seq, n, **kw)


def kafka_collector(daemons, tmp_path, mock, env=None):
    extra = ("inputs:\n  - type: kafka\n    brokers: %s\n    topic: %s\n"
             "    group_id: collectors\n    properties: %s\n" % (mock.bootstrap, TOPIC, PROPERTIES))
    col = Collector(daemons, tmp_path, extra=extra)
    if env is None:
        return col.start()
    col.proc = daemons.start([binary("trawl-collector"), "--config", str(col.config)], env=env)
    wait_http(col.port, col.proc)
    return col


def stop(col):
    """SIGTERM while the brokers are still up: commit, leave the group, exit 0."""
    os.kill(col.proc.pid, signal.SIGTERM)
    assert col.proc.wait(timeout=15) == 0


def metric(col, series):
    m = re.search(r"^%s (\S+)$" % re.escape(series), col.metrics(), re.M)
    return float(m.group(1)) if m else 0


def kafka_count(col, result):
    return metric(col, 'trawl_collector_kafka_messages_total{result="%s"}' % result)


def wait_for(what, cond, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def stored_batches(col):
    """(agent, seq) of every stored record's batch, with repeats."""
    return sorted((r["source"]["path"].split("/")[-1][:-4], (r["time"] - T0) // 1000)
                  for r in col.records())


def test_batches_stored_once_malformed_dead_lettered_offsets_committed(daemons, tmp_path,
                                                                        kafka_tool):
    mock = MockKafka(daemons, kafka_tool, tmp_path)
    col = kafka_collector(daemons, tmp_path, mock)
    want = []
    for agent in ("node-0", "node-1", "node-2"):
        for seq in (1, 2, 3):
            mock.produce_batch(agent, seq)
            want += [(agent, seq)] * 4
    # A redelivery or a retried produce: the same (agent, seq) again.
    mock.produce_batch("node-1", 2)
    bad = {
        "zstd": mock.produce(b"not a zstd frame at all", "node-9", 1, 1),
        "bad_request": mock.produce(make_batch(recs("node-9", 2, 1)), "node-9", 2, 1,
                                    headers={"trawl-batch": None}),
        "count": mock.produce(make_batch(recs("node-9", 3, 2)), "node-9", 3, 5),
    }
    mock.produce_batch("node-0", 4)
    want += [("node-0", 4)] * 4

    wait_for("every message", lambda: (kafka_count(col, "stored"), kafka_count(col, "duplicate"),
                                        kafka_count(col, "rejected")) == (10, 1, 3))
    assert stored_batches(col) == sorted(want)
    assert col.count() == 40
    for reason, (partition, offset) in bad.items():
        assert metric(col, 'trawl_collector_rejected_total{reason="%s"}' % reason) == 1
        path = col.data_dir / "deadletter" / ("%s-%d-%d" % (TOPIC, partition, offset))
        assert path.exists(), sorted(os.listdir(col.data_dir / "deadletter"))
    assert (col.data_dir / "deadletter" / ("%s-%d-%d" % ((TOPIC,) + bad["zstd"]))) \
        .read_bytes() == b"not a zstd frame at all"
    assert len(os.listdir(col.data_dir / "deadletter")) == 3
    assert metric(col, "trawl_collector_duplicates_total") == 1

    # SIGTERM commits and leaves the group: a new member reads none of it again.
    stop(col)
    col.start()
    for p in range(3):
        mock.produce_batch("node-3", p + 1, partition=p)
    wait_for("the new messages", lambda: kafka_count(col, "stored") == 3)
    time.sleep(0.5)
    assert (kafka_count(col, "duplicate"), kafka_count(col, "rejected")) == (0, 0)
    assert col.count() == 52
    proc = run([binary("trawl"), "verify", "--store", str(col.data_dir)])
    assert proc.returncode == 0 and proc.stdout.decode().strip() == "ok 13 blocks", proc.stdout
    stop(col)


def test_kill_9_mid_stream_then_restart_stores_every_batch_exactly_once(daemons, tmp_path,
                                                                         kafka_tool):
    mock = MockKafka(daemons, kafka_tool, tmp_path)
    col = kafka_collector(daemons, tmp_path, mock)
    produced = []

    def producer():
        for seq in range(1, 21):
            for agent in ("node-a", "node-b", "node-c"):
                mock.produce_batch(agent, seq, 2)
                produced.append((agent, seq))
            time.sleep(0.05)

    t = threading.Thread(target=producer)
    t.start()
    try:
        wait_for("a first few stored", lambda: kafka_count(col, "stored") >= 6)
    finally:
        os.kill(col.proc.pid, signal.SIGKILL)
        col.proc.wait()
        t.join()
    assert len(produced) == 60
    col.start()
    wait_for("every batch", lambda: col.count() >= 120, timeout=40)
    time.sleep(1)  # anything redelivered twice would show up now
    got = stored_batches(col)
    assert got == sorted(b for b in produced for _ in range(2))
    proc = run([binary("trawl"), "verify", "--store", str(col.data_dir)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stop(col)


ENOSPC_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

/* The store's pwritev fails with ENOSPC while $TRAWL_TEST_ENOSPC_FLAG exists. */
ssize_t
pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	static ssize_t (*real)(int, const struct iovec *, int, off_t);
	const char *flag = getenv("TRAWL_TEST_ENOSPC_FLAG");

	if (flag != NULL && access(flag, F_OK) == 0) {
		errno = ENOSPC;
		return -1;
	}
	if (real == NULL)
		real = (ssize_t (*)(int, const struct iovec *, int, off_t))
		    dlsym(RTLD_NEXT, "pwritev");
	return real(fd, iov, cnt, off);
}
"""


def test_store_failure_commits_nothing_retries_and_reports_not_ready(daemons, tmp_path,
                                                                       kafka_tool):
    src, shim = tmp_path / "enospc.c", tmp_path / "enospc.so"
    src.write_text(ENOSPC_SHIM)
    cc = subprocess.run(["cc", "-shared", "-fPIC", "-o", str(shim), str(src), "-ldl"],
                        capture_output=True)
    if cc.returncode != 0:
        pytest.skip("no C compiler for the ENOSPC shim: " + cc.stderr.decode())
    flag = tmp_path / "disk-full"
    env = dict(os.environ, LD_PRELOAD=str(shim), TRAWL_TEST_ENOSPC_FLAG=str(flag),
               ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
    mock = MockKafka(daemons, kafka_tool, tmp_path, partitions=1)
    col = kafka_collector(daemons, tmp_path, mock, env=env)
    mock.produce_batch("node-1", 1)
    wait_for("the first batch", lambda: kafka_count(col, "stored") == 1)
    assert http_request(col.port, "GET", "/readyz")[0] == 200

    flag.write_text("")
    mock.produce_batch("node-1", 2)
    mock.produce_batch("node-1", 3)
    retries = "trawl_collector_kafka_store_retries_total"
    wait_for("retries", lambda: metric(col, retries) >= 3)
    status, _, body = http_request(col.port, "GET", "/readyz")
    assert (status, body) == (503, b"not ready: kafka input cannot store messages (retrying)")
    assert kafka_count(col, "stored") == 1 and col.count() == 4
    assert metric(col, 'trawl_collector_rejected_total{reason="store_full"}') == 0

    flag.unlink()
    wait_for("the held batches", lambda: kafka_count(col, "stored") == 3, timeout=15)
    assert http_request(col.port, "GET", "/readyz")[0] == 200
    assert stored_batches(col) == sorted([("node-1", s) for s in (1, 2, 3) for _ in range(4)])
    stop(col)
