"""Agent recovery: kill -9, corrupt checkpoints, SIGTERM; exactly once in the store after restarts."""
import os
import random
import re
import threading
import time

from agent_util import Agent, assert_exactly_once, wait_for
from conftest import Collector, http_request

INPUTS = ('  - type: tail\n    paths: ["%(dir)s/*.log"]\n    format: text\n    idle_flush: 2s\n'
          '  - type: tail\n    paths: ["%(dir)s/*.cri"]\n    format: cri\n    idle_flush: 2s\n')
FAST = "  batch: { linger: 50ms, max_records: 300 }\n"


class Writer(threading.Thread):
    """Writes numbered text lines and CRI records until stopped, whole lines per
    write(). A CRI record is split into P parts with the other stream's line in
    between, and each write ends inside one, so that a record is often still
    being assembled when a batch is cut or the agent is killed."""

    def __init__(self, logs, rotate_every=0):
        super().__init__()
        self.logs = logs
        self.expected = []
        self.stop = threading.Event()
        self.rotate_every = rotate_every

    def run(self):
        text = open(self.logs / "app.log", "ab", buffering=0)
        cri = open(self.logs / "pod.cri", "ab", buffering=0)
        ts = "2024-06-15T00:00:00.000000001Z"
        i = 0
        while not self.stop.is_set():
            lines = []
            for _ in range(20):
                text.write(b"text %d\n" % i)
                self.expected.append("text %d" % i)
                if i > 0:
                    lines.append("%s stdout F c" % ts)
                lines.append("%s stdout F full %d" % (ts, i))
                lines.append("%s stdout P part %d a-" % (ts, i))
                lines.append("%s stderr F err %d" % (ts, i))
                lines.append("%s stdout P b-" % ts)
                self.expected += ["full %d" % i, "err %d" % i, "part %d a-b-c" % i]
                i += 1
                if self.rotate_every and i % self.rotate_every == 0:
                    os.rename(self.logs / "app.log", self.logs / ("app.log.%d" % i))
                    text.close()
                    text = open(self.logs / "app.log", "ab", buffering=0)
            cri.write("".join(l + "\n" for l in lines).encode())
            time.sleep(0.005)
        cri.write(("%s stdout F c\n" % ts).encode())
        text.close()
        cri.close()


def test_kill9_mid_stream_every_line_exactly_once(daemons, tmp_path):
    collector = Collector(daemons, tmp_path).start()
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = Agent(daemons, tmp_path, collector.port, INPUTS % {"dir": logs}, FAST).start()
    writer = Writer(logs, rotate_every=1500)
    writer.start()
    rng = random.Random(7)
    try:
        for _ in range(5):
            time.sleep(rng.uniform(0.4, 1.2))
            agent.kill9()
            agent.start()
    finally:
        writer.stop.set()
        writer.join()
    wait_for(lambda: collector.count() >= len(writer.expected), timeout=30,
             what="%d records stored" % len(writer.expected))
    time.sleep(0.5)
    assert_exactly_once(collector.records(), writer.expected)
    assert len(writer.expected) > 10000
    assert agent.term() == 0


def checkpoint_generations(data_dir):
    gens = {}
    for name in ("checkpoint.0", "checkpoint.1"):
        text = (data_dir / name).read_text()
        gens[name] = int(re.search(r"^generation (\d+)$", text, re.M).group(1))
    return gens


def test_corrupt_checkpoint_is_reported_and_the_agent_goes_on(daemons, tmp_path):
    collector = Collector(daemons, tmp_path).start()
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = Agent(daemons, tmp_path, collector.port,
                  '  - type: tail\n    paths: ["%s/*.log"]\n' % logs, FAST).start()
    first = ["first %d" % i for i in range(100)]
    with open(logs / "a.log", "w") as f:
        f.write("".join(l + "\n" for l in first))
    wait_for(lambda: collector.count() >= 100, what="first lines")
    assert agent.term() == 0
    gens = checkpoint_generations(agent.data_dir)
    newest = max(gens, key=gens.get)
    (agent.data_dir / newest).write_bytes(b"trawl-agent checkpoint 1\ngeneration 9\n\0\0\0garbage")
    second = ["second %d" % i for i in range(100)]
    with open(logs / "a.log", "a") as f:
        f.write("".join(l + "\n" for l in second))
    agent.start()
    wait_for(lambda: collector.count() >= 200, what="second lines")
    assert agent.metric("trawl_agent_checkpoint_corrupt_total") == 1
    assert "corrupt checkpoint" in agent.log_text()
    assert (agent.data_dir / (newest + ".corrupt")).exists()
    stored = set(r["message"] for r in collector.records())
    assert stored >= set(first + second)  # nothing lost; a fallback may re-read
    # Both generations bad: it falls back to read_from and still runs.
    assert agent.term() == 0
    for name in ("checkpoint.0", "checkpoint.1"):
        (agent.data_dir / name).write_bytes(os.urandom(300))
    agent.start()
    assert http_request(agent.port, "GET", "/healthz")[0] == 200
    assert agent.metric("trawl_agent_checkpoint_corrupt_total") == 2
    assert agent.term() == 0


def test_sigterm_spools_checkpoints_and_exits_0(daemons, tmp_path):
    collector = Collector(daemons, tmp_path)  # down
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = Agent(daemons, tmp_path, collector.port,
                  '  - type: tail\n    paths: ["%s/*.log"]\n' % logs,
                  "  drain_timeout: 1s\n  batch: { linger: 10s }\n").start()
    lines = ["term %d" % i for i in range(500)]
    with open(logs / "a.log", "w") as f:
        f.write("".join(l + "\n" for l in lines))
    size = (logs / "a.log").stat().st_size
    wait_for(lambda: agent.metric("trawl_agent_bytes_read_total") == size, what="file read")
    assert agent.metric("trawl_agent_spool_files") == 0  # still lingering in memory
    start = time.monotonic()
    assert agent.term() == 0
    assert time.monotonic() - start < 5
    assert len(list((agent.data_dir / "spool").glob("*.batch"))) == 1
    gens = checkpoint_generations(agent.data_dir)
    text = (agent.data_dir / max(gens, key=gens.get)).read_text()
    offsets = [int(l.split()[5]) for l in text.splitlines() if l.startswith("file ")]
    assert offsets == [size]
    collector.start()
    agent.start()
    wait_for(lambda: collector.count() >= len(lines), what="spooled lines sent after restart")
    assert_exactly_once(collector.records(), lines)
    assert agent.metric("trawl_agent_bytes_read_total") == 0  # nothing read twice
    assert agent.term() == 0
