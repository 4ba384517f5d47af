"""Agent tailing end to end: real agent, real collector, every line once in the store (docs/agent.md)."""
import os
import shutil
import threading
import time

import pytest

from agent_util import Agent, assert_exactly_once, wait_for
from conftest import Collector, binary, run

FAST = "  batch: { linger: 100ms }\n"


def tail_input(pattern, fmt="text", extra=""):
    return ('  - type: tail\n    paths: ["%s"]\n    format: %s\n    idle_flush: 300ms\n%s'
            % (pattern, fmt, extra))


@pytest.fixture
def collector(daemons, tmp_path):
    return Collector(daemons, tmp_path).start()


def write(path, lines, mode="a"):
    with open(path, mode) as f:
        for line in lines:
            f.write(line + "\n")


def test_appended_late_and_unterminated_lines_arrive_once(daemons, tmp_path, collector):
    logs = tmp_path / "logs"
    logs.mkdir()
    first = ["a %d" % i for i in range(100)]
    write(logs / "a.log", first)
    agent = Agent(daemons, tmp_path, collector.port, tail_input(logs / "*.log"), FAST).start()
    more = ["a %d" % i for i in range(100, 200)]
    write(logs / "a.log", more)
    # A file that appears after start-up, and one whose last line has no newline yet.
    late = ["b %d" % i for i in range(50)]
    write(logs / "b.log", late)
    with open(logs / "c.log", "w") as f:
        f.write("c complete\nc cut")
    expected = first + more + late + ["c complete", "c cut"]
    wait_for(lambda: collector.count() >= len(expected), what="all lines stored")
    time.sleep(0.3)
    records = collector.records()
    assert_exactly_once(records, expected)
    cut = [r for r in records if r["message"] == "c cut"][0]
    assert cut.get("incomplete") is True
    assert all("incomplete" not in r for r in records if r["message"] != "c cut")
    assert all(r["source"]["path"].startswith(str(logs)) and "observed_time" in r for r in records)
    assert agent.metric("trawl_agent_records_incomplete_total") == 1
    assert agent.metric("trawl_agent_files_watched") == 3
    # The agent never reads the data it writes.
    assert agent.term() == 0


def test_cri_lines_with_kubernetes_metadata(daemons, tmp_path, collector):
    uid = "0b7e6b3e-1111-2222-3333-444455556666"
    cid = "c0ffee" * 10 + "abcd"
    pods = tmp_path / "var/log/pods"
    containers = tmp_path / "var/log/containers"
    containers.mkdir(parents=True)
    target = pods / ("default_web-7d4b9_%s" % uid) / "nginx" / "0.log"
    target.parent.mkdir(parents=True)
    link = containers / ("web-7d4b9_default_nginx-%s.log" % cid)
    os.symlink(target, link)
    # The agent's own pod: excluded by agent.self_exclude.
    own = pods / ("kube-system_trawl-agent-x1_%s" % uid) / "agent" / "0.log"
    own.parent.mkdir(parents=True)
    write(own, ["2024-06-15T00:00:00Z stdout F agent self log"])
    os.symlink(own, containers / ("trawl-agent-x1_kube-system_agent-%s.log" % cid))
    lines = []
    for i in range(50):
        lines.append("2024-06-15T00:00:%02d.000000001Z stdout F hello %d" % (i, i))
        lines.append("2024-06-15T00:01:%02d.000000001Z stdout P part-%d-" % (i, i))
        lines.append("2024-06-15T00:01:%02d.500000001Z stderr F err %d" % (i, i))
        lines.append("2024-06-15T00:01:%02d.700000001Z stdout F end" % i)
    write(target, lines)
    agent = Agent(daemons, tmp_path, collector.port,
                  tail_input(containers / "*.log", "cri"), FAST).start()
    expected = (["hello %d" % i for i in range(50)] + ["part-%d-end" % i for i in range(50)]
                + ["err %d" % i for i in range(50)])
    wait_for(lambda: collector.count() >= len(expected), what="CRI records stored")
    time.sleep(0.3)
    records = collector.records()
    assert_exactly_once(records, expected)
    want = run([binary("trawl"), "parse", "--format", "cri", "--path", str(link),
                "--target", str(target), str(target)]).stdout.decode().splitlines()
    import json
    want = sorted((json.loads(l) for l in want), key=lambda r: r["message"])
    got = sorted(({k: v for k, v in r.items() if k != "observed_time"} for r in records),
                 key=lambda r: r["message"])
    assert got == want
    assert got[0]["k8s"]["pod_uid"] == uid and got[0]["k8s"]["namespace"] == "default"
    assert "agent self log" not in [r["message"] for r in records]
    assert agent.term() == 0


def test_rename_rotation_while_writing(daemons, tmp_path, collector):
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = Agent(daemons, tmp_path, collector.port, tail_input(logs / "app.log"), FAST).start()
    expected = []

    def writer():
        f = open(logs / "app.log", "a")
        for i in range(3000):
            f.write("rot %d\n" % i)
            expected.append("rot %d" % i)
            if i % 500 == 499:
                f.flush()
                # kubelet's way: rename the file away, write on in a new one
                os.rename(logs / "app.log", logs / ("app.log.%d" % (i // 500)))
                f.close()
                f = open(logs / "app.log", "a")
            if i % 50 == 0:
                f.flush()
                time.sleep(0.01)
        f.close()

    t = threading.Thread(target=writer)
    t.start()
    t.join()
    wait_for(lambda: collector.count() >= len(expected), what="rotated lines stored")
    time.sleep(0.5)
    assert_exactly_once(collector.records(), expected)
    assert agent.metric("trawl_agent_rotations_total") >= 5
    assert agent.term() == 0


def test_copytruncate_reads_the_new_content_once(daemons, tmp_path, collector):
    logs = tmp_path / "logs"
    logs.mkdir()
    app = logs / "app.log"
    write(app, ["one %d" % i for i in range(200)])
    agent = Agent(daemons, tmp_path, collector.port, tail_input(app), FAST).start()
    wait_for(lambda: collector.count() >= 200, what="first lines")
    expected = ["one %d" % i for i in range(200)]
    # logrotate's copytruncate: copy away, truncate in place, the writer goes on.
    shutil.copy(app, logs / "app.log.1")
    with open(app, "r+") as f:
        f.truncate(0)
    two = ["two %d" % i for i in range(20)]  # fewer bytes than were read
    write(app, two)
    expected += two
    wait_for(lambda: collector.count() >= len(expected), what="lines after the first truncation")
    shutil.copy(app, logs / "app.log.2")
    with open(app, "r+") as f:
        f.truncate(0)
    three = ["three %d %s" % (i, "x" * 40) for i in range(400)]  # more bytes, at once
    write(app, three)
    expected += three
    wait_for(lambda: collector.count() >= len(expected), what="lines after the second truncation")
    time.sleep(0.5)
    assert_exactly_once(collector.records(), expected)
    assert agent.metric("trawl_agent_truncations_total") == 2
    assert agent.term() == 0


def test_deleted_while_open_is_drained(daemons, tmp_path, collector):
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = Agent(daemons, tmp_path, collector.port, tail_input(logs / "*.log"), FAST).start()
    lines = ["gone %d" % i for i in range(300)]
    with open(logs / "x.log", "w") as f:
        wait_for(lambda: agent.metric("trawl_agent_files_watched") == 1, what="file opened")
        os.unlink(logs / "x.log")
        for line in lines:
            f.write(line + "\n")
    wait_for(lambda: collector.count() >= len(lines), what="deleted file drained")
    assert_exactly_once(collector.records(), lines)
    wait_for(lambda: agent.metric("trawl_agent_files_watched") == 0, what="deleted file closed")
    assert agent.metric("trawl_agent_files_deleted_total") == 1
    assert agent.term() == 0


def test_long_line_is_cut_and_the_file_goes_on(daemons, tmp_path, collector):
    logs = tmp_path / "logs"
    logs.mkdir()
    # Not compressible: a collector refuses frames over ratio_max (100:1).
    with open(logs / "a.log", "w") as f:
        f.write("before\n" + "x" + os.urandom(1 << 20).hex() + "\nafter\n")
    agent = Agent(daemons, tmp_path, collector.port, tail_input(logs / "*.log"), FAST).start()
    wait_for(lambda: collector.count() >= 3, what="three records")
    records = {r["message"][:1]: r for r in collector.records()}
    assert sorted(records) == ["a", "b", "x"]
    assert len(records["x"]["message"]) == 1008 << 10
    assert records["x"]["truncated"] is True
    assert "truncated" not in records["a"]
    assert agent.metric("trawl_agent_lines_truncated_total") == 1
    assert agent.term() == 0


def test_sighup_reloads_inputs_and_refuses_what_cannot_change(daemons, tmp_path, collector):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    write(one / "a.log", ["one 0"])
    write(two / "b.log", ["two 0"])
    agent = Agent(daemons, tmp_path, collector.port, tail_input(one / "*.log"), FAST).start()
    wait_for(lambda: collector.count() >= 1, what="first input read")
    time.sleep(0.5)
    assert collector.count() == 1
    text = agent.config.read_text()
    agent.config.write_text(text.replace("output:\n", tail_input(two / "*.log") + "output:\n"))
    agent.hup()
    wait_for(lambda: collector.count() >= 2, what="second input read after reload")
    assert agent.metric('trawl_agent_config_reloads_total{result="ok"}') == 1
    # data_dir cannot change on reload: refused, logged, the agent goes on.
    agent.config.write_text(agent.config.read_text().replace(
        str(agent.data_dir), str(tmp_path / "elsewhere")))
    agent.hup()
    wait_for(lambda: agent.metric('trawl_agent_config_reloads_total{result="failed"}') == 1,
             what="reload refused")
    assert "cannot change on reload" in agent.log_text()
    write(one / "a.log", ["one 1"])
    wait_for(lambda: collector.count() >= 3, what="still reading")
    assert_exactly_once(collector.records(), ["one 0", "two 0", "one 1"])
    assert agent.term() == 0
