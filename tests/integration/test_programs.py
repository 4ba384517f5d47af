"""The three programs: --version, --help, --check-config, and a daemon's life."""
import http.client
import os
import signal
import socket
import time

import pytest

from conftest import binary, run, TOP_SRCDIR

DAEMONS = ("trawl-agent", "trawl-collector")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("name", ("trawl",) + DAEMONS)
def test_version(name):
    proc = run([binary(name), "--version"])
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith(name + " (trawl) ")


@pytest.mark.parametrize("name", ("trawl",) + DAEMONS)
def test_help(name):
    proc = run([binary(name), "--help"])
    assert proc.returncode == 0
    assert b"usage:" in proc.stdout


@pytest.mark.parametrize("name", DAEMONS)
def test_unknown_option_is_a_usage_error(name):
    proc = run([binary(name), "--config", "x", "--bogus"])
    assert proc.returncode == 64
    assert b"--bogus" in proc.stderr


def test_example_collector_config_is_ok():
    proc = run([binary("trawl-collector"), "--config",
                str(TOP_SRCDIR / "configs" / "collector.yaml"), "--check-config"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"configuration OK\n"


def test_three_mistakes_reported_in_one_pass(tmp_path):
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(
        "agent:\n"
        "  id: node-1\n"
        "  http: { listn: 127.0.0.1:2021 }\n"
        "inputs:\n"
        "  - type: tail\n"
        "    paths: [/var/log/app/*.log]\n"
        "    format: json\n"
        "output:\n"
        "  type: http\n"
        "  timeout: 10 sec\n")
    proc = run([binary("trawl-agent"), "--config", str(cfg), "--check-config"])
    assert proc.returncode == 78
    lines = proc.stderr.decode().splitlines()
    assert lines == [
        "%s:3:11: unknown key 'listn' in 'agent.http'; did you mean 'listen'?" % cfg,
        "%s:10:12: invalid duration '10 sec' for 'output.timeout': use a number with ms, s, m or h" % cfg,
        "%s:9:3: missing required key 'output.url'" % cfg,
    ]


def test_missing_config_file(tmp_path):
    proc = run([binary("trawl-collector"), "--config", str(tmp_path / "nope.yaml"),
                "--check-config"])
    assert proc.returncode == 78
    assert b"nope.yaml" in proc.stderr and b"No such file" in proc.stderr


def test_yaml_syntax_error_has_a_position(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("collector:\n  data_dir: [unclosed\n")
    proc = run([binary("trawl-collector"), "--config", str(cfg), "--check-config"])
    assert proc.returncode == 78
    assert proc.stderr.decode().startswith(str(cfg) + ":")


def http_get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def wait_http(port, proc, deadline=10.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        assert proc.poll() is None, proc.stderr.read().decode()
        try:
            return http_get(port, "/healthz")
        except OSError:
            time.sleep(0.05)
    raise AssertionError("daemon did not listen on %d" % port)


def test_collector_serves_endpoints_and_stops_on_sigterm(tmp_path, daemons):
    port = free_port()
    cfg = tmp_path / "collector.yaml"
    cfg.write_text("collector:\n  data_dir: %s\n  listen: 127.0.0.1:%d\n" % (tmp_path, port))
    proc = daemons.start([binary("trawl-collector"), "--config", str(cfg)])
    assert wait_http(port, proc) == (200, "ok")
    status, body = http_get(port, "/readyz")
    assert status == 200
    status, body = http_get(port, "/metrics")
    assert status == 200
    assert "trawl_collector_build_info{version=" in body
    status, _ = http_get(port, "/nope")
    assert status == 404
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_agent_reload_keeps_running_config_on_error(tmp_path, daemons):
    port = free_port()
    cfg = tmp_path / "agent.yaml"
    good = ("agent:\n  data_dir: %s\n  http: { listen: 127.0.0.1:%d }\n"
            "inputs:\n  - type: tail\n    paths: [%s/*.log]\n"
            "output:\n  type: http\n  url: http://127.0.0.1:1\n" % (tmp_path, port, tmp_path))
    cfg.write_text(good)
    proc = daemons.start([binary("trawl-agent"), "--config", str(cfg)])
    wait_http(port, proc)
    cfg.write_text(good + "bogus: 1\n")
    os.kill(proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    body = ""
    while time.monotonic() < deadline:
        body = http_get(port, "/metrics")[1]
        if 'trawl_agent_config_reloads_total{result="failed"} 1' in body:
            break
        time.sleep(0.05)
    assert 'trawl_agent_config_reloads_total{result="failed"} 1' in body
    assert http_get(port, "/healthz")[0] == 200
    cfg.write_text(good)
    os.kill(proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        body = http_get(port, "/metrics")[1]
        if 'trawl_agent_config_reloads_total{result="ok"} 1' in body:
            break
        time.sleep(0.05)
    assert 'trawl_agent_config_reloads_total{result="ok"} 1' in body
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


@pytest.mark.parametrize("name,doc", (("trawl-agent", "config-agent.md"),
                                      ("trawl-collector", "config-collector.md")))
def test_config_reference_in_docs_matches_the_key_table(name, doc):
    proc = run([binary(name), "--config-reference"])
    assert proc.returncode == 0
    with open(TOP_SRCDIR / "docs" / doc, "rb") as f:
        assert proc.stdout == f.read(), \
            "docs/%s is stale: regenerate with %s --config-reference" % (doc, name)
