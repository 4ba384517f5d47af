"""Agent shipping: spool, backpressure, collector answers (400, 401, 413, down) end to end."""
import os
import time

import pytest
import zstandard

from agent_util import Agent, assert_exactly_once, spool_file, wait_for
from conftest import Collector


def tail_input(pattern, fmt="text"):
    return '  - type: tail\n    paths: ["%s"]\n    format: %s\n    idle_flush: 300ms\n' % (pattern, fmt)


def write(path, lines):
    with open(path, "a") as f:
        f.write("".join(line + "\n" for line in lines))


def test_collector_down_then_back_delivers_exactly_once(daemons, tmp_path):
    collector = Collector(daemons, tmp_path)  # not started yet
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = Agent(daemons, tmp_path, collector.port, tail_input(logs / "*.log"),
                  "  batch: { linger: 100ms, max_records: 100 }\n",
                  "  backoff_max: 500ms\n").start()
    lines = ["down %d" % i for i in range(2000)]
    write(logs / "a.log", lines)
    wait_for(lambda: agent.metric("trawl_agent_records_read_total") == len(lines), what="lines read")
    wait_for(lambda: agent.metric("trawl_agent_spool_files") >= 20, what="batches spooled")
    wait_for(lambda: agent.metric('trawl_agent_send_failures_total{reason="network"}') > 0,
             what="connection refused")
    assert agent.metric("trawl_agent_batches_acked_total") == 0
    collector.start()
    wait_for(lambda: agent.metric("trawl_agent_spool_files") == 0, what="spool drained")
    assert_exactly_once(collector.records(), lines)
    assert agent.metric("trawl_agent_spool_bytes") == 0
    assert agent.term() == 0


def test_spool_full_pauses_reading_and_says_so(daemons, tmp_path):
    collector = Collector(daemons, tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = Agent(daemons, tmp_path, collector.port, tail_input(logs / "*.log"),
                  "  spool: { max_bytes: 4MiB }\n  batch: { max_bytes: 64KiB, linger: 100ms }\n",
                  "  backoff_max: 300ms\n").start()
    # Incompressible lines, so that 4 MiB of spool is reached.
    lines = ["full %d %s" % (i, os.urandom(64).hex()) for i in range(60000)]
    write(logs / "big.log", lines)
    size = (logs / "big.log").stat().st_size
    wait_for(lambda: agent.metric("trawl_agent_backpressure") == 1, what="backpressure")
    status, _, body = agent.ready()
    assert status == 503 and b"spool full" in body
    time.sleep(0.5)
    m = agent.metrics()
    assert m["trawl_agent_bytes_read_total"] < size  # the file is the buffer
    assert m["trawl_agent_spool_bytes"] <= 5 * 1024 * 1024
    assert m['trawl_agent_records_discarded_total{reason="error"}'] == 0
    collector.start()
    wait_for(lambda: agent.metric("trawl_agent_records_sent_total") == len(lines), timeout=40,
             what="everything sent")
    assert agent.ready()[0] == 200
    assert agent.metric("trawl_agent_backpressure") == 0
    assert collector.count() == len(lines)
    got = collector.query("-o", "json").stdout.decode().count('"message":"full ')
    assert got == len(lines)
    assert agent.term() == 0


def test_413_splits_the_batch_and_nothing_is_lost(daemons, tmp_path):
    collector = Collector(daemons, tmp_path, extra="  limits: { records_max: 50 }\n").start()
    logs = tmp_path / "logs"
    logs.mkdir()
    lines = ["split %d" % i for i in range(1000)]
    write(logs / "a.log", lines)
    agent = Agent(daemons, tmp_path, collector.port, tail_input(logs / "*.log"),
                  "  batch: { max_records: 200, linger: 100ms }\n").start()
    wait_for(lambda: collector.count() >= len(lines), what="split batches stored")
    assert_exactly_once(collector.records(), lines)
    assert agent.metric("trawl_agent_batches_split_total") >= 3
    wait_for(lambda: agent.metric("trawl_agent_spool_files") == 0, what="spool empty")
    assert agent.term() == 0


def test_400_is_dead_lettered_and_corrupt_spool_files_quarantined(daemons, tmp_path):
    collector = Collector(daemons, tmp_path).start()
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = Agent(daemons, tmp_path, collector.port, tail_input(logs / "*.log"),
                  "  batch: { linger: 100ms }\n")
    spool = agent.data_dir / "spool"
    spool.mkdir(parents=True)
    garbage = zstandard.ZstdCompressor(level=1).compress(os.urandom(4096))
    (spool / ("%020d.batch" % 5)).write_bytes(spool_file(5, garbage, 1))
    good = zstandard.ZstdCompressor(level=1).compress(b"\x81\xa7message\xa3bad")
    (spool / ("%020d.batch" % 6)).write_bytes(spool_file(6, good, 1, corrupt_crc=True))
    (spool / ("%020d.batch" % 7)).write_bytes(spool_file(7, good, 1)[:-3])  # cut short
    lines = ["after %d" % i for i in range(100)]
    write(logs / "a.log", lines)
    agent.start()
    wait_for(lambda: collector.count() >= len(lines), what="lines stored")
    wait_for(lambda: agent.metric("trawl_agent_batches_deadlettered_total") == 1, what="dead letter")
    assert (agent.data_dir / "deadletter" / ("%020d.batch" % 5)).exists()
    assert sorted(os.listdir(spool / "quarantine")) == ["%020d.batch" % 6, "%020d.batch" % 7]
    assert agent.metric("trawl_agent_spool_quarantined_total") == 2
    assert_exactly_once(collector.records(), lines)
    assert "corrupt spool file" in agent.log_text()
    assert agent.term() == 0


def test_401_stops_sending_until_the_token_is_fixed(daemons, tmp_path):
    good = "s3cr3t-token-of-node-1"
    collector = Collector(daemons, tmp_path, tokens={"node-1": good}).start()
    logs = tmp_path / "logs"
    logs.mkdir()
    token = tmp_path / "token"
    token.write_text("wrong-token-wrong-token\n")
    agent = Agent(daemons, tmp_path, collector.port, tail_input(logs / "*.log"),
                  "  batch: { linger: 100ms }\n",
                  "  token_file: %s\n  auth_retry: 1h\n" % token).start()
    lines = ["auth %d" % i for i in range(100)]
    write(logs / "a.log", lines)
    wait_for(lambda: agent.metric("trawl_agent_output_auth_failed") == 1, what="auth alarm")
    time.sleep(0.5)
    assert agent.metric('trawl_agent_send_failures_total{reason="auth"}') == 1  # one probe, no storm
    assert collector.count() == 0
    assert "ALARM" in agent.log_text() and "wrong-token" not in agent.log_text()
    token.write_text(good + "\n")
    agent.hup()
    wait_for(lambda: collector.count() >= len(lines), what="lines stored after reload")
    assert_exactly_once(collector.records(), lines)
    wait_for(lambda: agent.metric("trawl_agent_output_auth_failed") == 0, what="alarm cleared")
    assert agent.metric('trawl_agent_config_reloads_total{result="ok"}') == 1
    assert agent.term() == 0
