"""Collector detection and the file sink: alert log, cursors, kill -9, reload, rotation (DESIGN.md §5)."""
import json
import os
import random
import re
import shutil
import signal
import time

import pytest

from conftest import DATA, Collector, binary, http_request, make_batch, post_batch, run

RULES = DATA / "rules" / "rules.yaml"
EVENTS = [json.loads(l) for l in (DATA / "rules" / "events.jsonl").read_text().splitlines()]
GOLDEN = [json.loads(l) for l in (DATA / "rules" / "events.alerts.jsonl").read_text().splitlines()]
RELOAD_FAILED = "trawl-rules-reload-failed"
BATCH = 3  # records per posted batch


def strip(alert):
    """The alert without detected_at (the only field that may differ)."""
    a = dict(alert)
    a.pop("detected_at", None)
    return a


EXPECTED = [strip(g["alert"]) for g in GOLDEN]  # in the events' order
EXPECTED_BY_ID = {a["alert_id"]: a for a in EXPECTED}
EVENT_INDEX = {e["id"]: i for i, e in enumerate(EVENTS)}


def expected_for(first, last):
    """Expected alerts of events[first:last], in order."""
    return [strip(g["alert"]) for g in GOLDEN if first <= EVENT_INDEX[g["test_id"]] < last]


def batches(first=0, last=len(EVENTS)):
    """(seq, body, records) for events[first:last], BATCH records each, in file order."""
    out = []
    for start in range(first, last, BATCH):
        recs = [e["record"] for e in EVENTS[start:min(start + BATCH, last)]]
        out.append((start // BATCH + 1, make_batch(recs), len(recs)))
    return out


class DetectCollector(Collector):
    """A collector with the starter rules and a file sink."""

    def __init__(self, daemons, tmp_path, rules=RULES, detect="{ poll: 20ms }"):
        self.alerts_path = tmp_path / "alerts.jsonl"
        conf = ("rules: [%s]\nsinks:\n  - type: file\n    path: %s\n" % (rules, self.alerts_path))
        super().__init__(daemons, tmp_path, extra="  detect: %s\n" % detect + conf)

    def post(self, items):
        for seq, body, n in items:
            status, _, reply = post_batch(self.port, body, seq=seq, records=n)
            assert status == 200, reply

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def signal(self, sig):
        os.kill(self.proc.pid, sig)


def read_alerts(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f.read().splitlines()]


def wait_for(cond, what, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def wait_alerts(path, n, timeout=30.0):
    """The alerts of path once there are at least n."""
    return wait_for(lambda: (lambda a: a if len(a) >= n else None)(read_alerts(path)),
                    "%d alerts in %s" % (n, path), timeout)


def metric(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def test_alerts_equal_the_reference(daemons, tmp_path):
    c = DetectCollector(daemons, tmp_path).start()
    c.post(batches())
    got = wait_alerts(c.alerts_path, len(EXPECTED))
    time.sleep(0.3)  # nothing more may come
    got = read_alerts(c.alerts_path)
    assert [strip(a) for a in got] == EXPECTED
    assert all(isinstance(a["detected_at"], int) for a in got)

    text = c.metrics()
    assert metric(text, "trawl_collector_detect_records_total") == len(EVENTS)
    assert metric(text, 'trawl_collector_alerts_total{rule="k8s-secret-read-burst",severity="high"}') == 1
    assert metric(text, 'trawl_collector_rule_matches_total{rule="k8s-exec-attach",severity="medium"}') >= 2
    assert metric(text, 'trawl_collector_alerts_suppressed_total{rule="k8s-secret-enumeration"}') == 1
    assert metric(text, "trawl_collector_detect_lag_blocks") == 0
    assert metric(text, "trawl_collector_rules_loaded") == 32
    sink = re.search(r'trawl_collector_alerts_sent_total\{sink="([^"]+)",type="file",result="ok"\} (\d+)',
                     text)
    assert sink and int(sink.group(2)) == len(EXPECTED)
    # The sink writes its cursor at most every 100 ms after delivering.
    cursor = c.data_dir / "cursors" / ("sink-" + sink.group(1))
    deadline = time.monotonic() + 10
    while not cursor.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cursor.exists()

    # The alert log is a store like the other: verifiable, and queryable.
    proc = run([binary("trawl"), "verify", "--store", str(c.data_dir / "alerts")])
    assert proc.returncode == 0, proc.stdout
    proc = run([binary("trawl"), "query", "--store", str(c.data_dir / "alerts"), "-o", "json"])
    logged = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    assert logged[-1]["type"] == "cursor"  # every block ends with the detect cursor
    logged = [r for r in logged if r["type"] == "alert"]
    assert [r["alert_id"] for r in logged] == [a["alert_id"] for a in EXPECTED]
    assert [json.loads(r["alert"]) for r in logged] == got

    # A restart neither repeats nor loses anything: both cursors are durable.
    c.signal(signal.SIGTERM)
    assert c.proc.wait(timeout=20) == 0
    c.start()
    more = batches(0, 3)  # already stored: duplicates, no new records
    c.post(more)
    time.sleep(0.5)
    assert [strip(a) for a in read_alerts(c.alerts_path)] == EXPECTED
    assert "rebuilt threshold and throttle state" in _stderr_so_far(c)


def _stderr_so_far(c):
    """Stop the collector and return its stderr."""
    c.signal(signal.SIGTERM)
    c.proc.wait(timeout=20)
    return c.proc.stderr.read().decode()


# Kill after these batches (index: 3 events each): between a throttled rule's
# first alert and its repeat (12, 23), inside threshold runs (21, 43). After
# 1.2 s the detect cursor is durable past them, so only the replay at start-up
# can bring their threshold/throttle state back; None kills at a random moment
# (evaluating, committing, writing, syncing).
KILLS = {12: 1.2, 21: None, 23: 1.2, 43: 1.2}


def test_kill_9_mid_way_loses_no_alert(daemons, tmp_path):
    rng = random.Random(20240611)
    c = DetectCollector(daemons, tmp_path).start()
    for i, item in enumerate(batches()):
        c.post([item])
        if i in KILLS:
            time.sleep(KILLS[i] if KILLS[i] is not None else rng.random() * 0.1)
            c.kill9()
            c.start()
    c.kill9()  # and a fifth time with the tail still in flight
    c.start()

    def complete():
        ids = {a["alert_id"] for a in read_alerts(c.alerts_path)}
        return ids if ids >= set(EXPECTED_BY_ID) else None

    wait_for(complete, "every expected alert after 5 kills")
    time.sleep(0.3)
    got = read_alerts(c.alerts_path)
    assert {a["alert_id"] for a in got} == set(EXPECTED_BY_ID)
    for a in got:
        assert strip(a) == EXPECTED_BY_ID[a["alert_id"]]
    print("%d lines for %d alerts after 5 kills" % (len(got), len(EXPECTED)))


def test_broken_rules_on_sighup_raise_an_alert_and_keep_the_running_set(daemons, tmp_path):
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    shutil.copy(RULES, rules_dir / "rules.yaml")
    c = DetectCollector(daemons, tmp_path, rules=rules_dir).start()
    half = 78
    c.post(batches(0, half - half % BATCH))
    first = expected_for(0, half - half % BATCH)
    wait_alerts(c.alerts_path, len(first))

    broken = rules_dir / "broken.yaml"
    broken.write_text("version: 1\nrules:\n  - id: broken\n    title: Broken\n    severity: high\n"
                      "    source: container\n    condition: message regex '(unclosed'\n")
    c.signal(signal.SIGHUP)
    got = wait_alerts(c.alerts_path, len(first) + 1)
    failed = [a for a in got if a["rule"]["id"] == RELOAD_FAILED]
    assert len(failed) == 1
    f = failed[0]
    assert re.fullmatch(r"[0-9a-f]{32}", f["alert_id"])
    assert f["rule"]["severity"] == "high"
    assert any("broken.yaml:" in e for e in f["fields"]["errors"]), f
    assert f["output"].startswith("rule reload failed")
    assert f["time"] == f["record"]["time"]
    text = c.metrics()
    assert metric(text, 'trawl_collector_rules_reloads_total{result="failed"}') == 1
    assert metric(text, "trawl_collector_rules_last_reload_success") == 0
    assert metric(text, 'trawl_collector_config_reloads_total{result="failed"}') == 1

    # Detection goes on with the running set, its state intact.
    broken.unlink()
    c.signal(signal.SIGHUP)
    wait_for(lambda: metric(c.metrics(), 'trawl_collector_rules_reloads_total{result="ok"}') == 1,
             "a good reload")
    c.post(batches(half - half % BATCH))
    got = wait_alerts(c.alerts_path, len(EXPECTED) + 1)
    time.sleep(0.3)
    got = read_alerts(c.alerts_path)
    assert [strip(a) for a in got if a["rule"]["id"] != RELOAD_FAILED] == EXPECTED
    assert metric(c.metrics(), "trawl_collector_rules_last_reload_success") == 1


def test_sigusr1_reopens_the_alert_file(daemons, tmp_path):
    c = DetectCollector(daemons, tmp_path).start()
    split = 90
    c.post(batches(0, split))
    first = expected_for(0, split)
    wait_alerts(c.alerts_path, len(first))
    rotated = tmp_path / "alerts.jsonl.1"
    os.rename(c.alerts_path, rotated)
    c.signal(signal.SIGUSR1)
    wait_for(lambda: os.path.exists(c.alerts_path), "the file reopened at its path")
    c.post(batches(split))
    rest = expected_for(split, len(EVENTS))
    wait_alerts(c.alerts_path, len(rest))
    time.sleep(0.3)
    assert [strip(a) for a in read_alerts(rotated)] == first
    assert [strip(a) for a in read_alerts(c.alerts_path)] == rest


def test_detection_can_be_switched_off(daemons, tmp_path):
    # Nothing is evaluated; the sinks still start (and find nothing).
    c = DetectCollector(daemons, tmp_path, detect="{ enabled: false }").start()
    c.post(batches(0, 30))
    time.sleep(0.5)
    assert read_alerts(c.alerts_path) == []
    assert metric(c.metrics(), "trawl_collector_detect_records_total") is None
