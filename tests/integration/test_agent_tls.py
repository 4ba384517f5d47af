"""Agent to collector over HTTPS: the collector's name is verified, mutual TLS works."""
import shutil
import socket
import subprocess
import time

import pytest

from agent_util import Agent, assert_exactly_once, wait_for
from conftest import Collector, binary

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None,
                                reason="needs the openssl CLI (scripts/deps.sh test)")

KEY = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes".split()


def openssl(d, *args):
    proc = subprocess.run(["openssl"] + list(args), cwd=d, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()


def issue(d, name, subj, ext):
    (d / (name + ".ext")).write_text("".join(l + "\n" for l in ext))
    openssl(d, "req", *KEY, "-keyout", name + ".key", "-out", name + ".csr", "-subj", subj)
    openssl(d, "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", name + ".pem", "-extfile", name + ".ext")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("agent-pki")
    openssl(d, "req", "-x509", *KEY, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=trawl-agent-test-ca")
    issue(d, "good", "/CN=collector",
          ["subjectAltName=IP:127.0.0.1,DNS:localhost", "extendedKeyUsage=serverAuth"])
    issue(d, "wrong", "/CN=127.0.0.1",  # a CN is not a name check: only SANs count
          ["subjectAltName=DNS:collector.elsewhere.example", "extendedKeyUsage=serverAuth"])
    issue(d, "client", "/CN=node-1", ["extendedKeyUsage=clientAuth"])
    return d


def tls_collector(daemons, tmp_path, pki, cert, client_ca=False):
    extra = "  tls:\n    cert_file: %s\n    key_file: %s\n" % (pki / (cert + ".pem"),
                                                              pki / (cert + ".key"))
    if client_ca:
        extra += "    client_ca_file: %s\n" % (pki / "ca.pem")
    c = Collector(daemons, tmp_path, extra=extra)
    with open(tmp_path / "collector.log", "ab") as log:
        c.proc = daemons.start([binary("trawl-collector"), "--config", str(c.config)],
                               stdout=subprocess.DEVNULL, stderr=log)
    end = time.monotonic() + 15
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", c.port), timeout=1).close()
            return c
        except OSError:
            time.sleep(0.05)
    raise AssertionError("collector did not listen")


def agent_for(daemons, tmp_path, pki, collector, extra=""):
    logs = tmp_path / "logs"
    logs.mkdir()
    return logs, Agent(daemons, tmp_path, collector.port,
                       '  - type: tail\n    paths: ["%s/*.log"]\n' % logs,
                       "  batch: { linger: 100ms }\n  drain_timeout: 1s\n",
                       "  ca_file: %s\n  backoff_max: 300ms\n%s" % (pki / "ca.pem", extra),
                       url="https://127.0.0.1:%d" % collector.port).start()


def test_matching_certificate_is_accepted(daemons, tmp_path, pki):
    collector = tls_collector(daemons, tmp_path, pki, "good")
    logs, agent = agent_for(daemons, tmp_path, pki, collector)
    lines = ["tls %d" % i for i in range(50)]
    (logs / "a.log").write_text("".join(l + "\n" for l in lines))
    wait_for(lambda: collector.count() >= len(lines), what="lines over HTTPS")
    assert_exactly_once(collector.records(), lines)
    assert agent.term() == 0


def test_certificate_for_another_name_is_refused(daemons, tmp_path, pki):
    collector = tls_collector(daemons, tmp_path, pki, "wrong")
    logs, agent = agent_for(daemons, tmp_path, pki, collector)
    (logs / "a.log").write_text("secret line\n")
    wait_for(lambda: agent.metric('trawl_agent_send_failures_total{reason="network"}') >= 2,
             what="handshakes refused")
    assert agent.metric("trawl_agent_batches_acked_total") == 0
    assert collector.count() == 0
    assert "subject name" in agent.log_text()  # curl: no SAN matches 127.0.0.1
    assert agent.term() == 0


def test_client_certificate_for_mutual_tls(daemons, tmp_path, pki):
    collector = tls_collector(daemons, tmp_path, pki, "good", client_ca=True)
    logs, agent = agent_for(daemons, tmp_path, pki, collector,
                            "  cert_file: %s\n  key_file: %s\n" % (pki / "client.pem",
                                                                   pki / "client.key"))
    (logs / "a.log").write_text("mtls line\n")
    wait_for(lambda: collector.count() >= 1, what="line over mutual TLS")
    assert [r["message"] for r in collector.records()] == ["mtls line"]
    assert agent.term() == 0
