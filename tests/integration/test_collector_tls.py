"""Collector over HTTPS with client certificates (mTLS): collector.tls, DESIGN.md §3.

A throwaway PKI is made with the openssl CLI (scripts/deps.sh test installs it):
a CA, a server certificate for 127.0.0.1 and localhost, client certificates
from that CA (CN=node-1; one with only a DNS SAN) and a self-signed one.
With client_ca_file the collector completes the handshake without a client
certificate and answers 403 before any route runs; GET /healthz and /readyz
are exempt so that probes work.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess

import pytest

from conftest import (Collector, assert_no_sanitizer_report, binary, http_request,
                      make_batch, run)

T0 = 1718409600000000000
TOKEN = "s3cr3t-token-of-node-1"
OTHER = "s3cr3t-token-of-node-2"

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None,
                                reason="needs the openssl CLI (scripts/deps.sh test)")


def recs(n, agent="node-1"):
    return [{"time": T0 + i, "message": "line %d" % i,
             "source": {"kind": "file", "format": "text", "path": "/var/log/%s.log" % agent}}
            for i in range(n)]


def openssl(*args, cwd):
    proc = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()


def ext_file(d, name, lines):
    path = d / (name + ".ext")
    path.write_text("".join(l + "\n" for l in lines))
    return str(path)


def issue(d, name, subj, ext, ca="ca"):
    key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes".split()
    openssl("req", *key, "-keyout", name + ".key", "-out", name + ".csr", "-subj", subj, cwd=d)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-days", "2", "-out", name + ".pem",
            "-extfile", ext_file(d, name, ext), cwd=d)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes".split()
    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=trawl-test-ca", cwd=d)
    issue(d, "server", "/CN=collector",
          ["subjectAltName=IP:127.0.0.1,DNS:localhost", "extendedKeyUsage=serverAuth"])
    issue(d, "client", "/CN=node-1", ["extendedKeyUsage=clientAuth"])
    issue(d, "san", "/O=trawl", ["subjectAltName=DNS:san-node", "extendedKeyUsage=clientAuth"])
    openssl("req", "-x509", *key, "-keyout", "self.key", "-out", "self.pem", "-days", "2",
            "-subj", "/CN=node-1", "-addext", "extendedKeyUsage=clientAuth", cwd=d)
    return d


class TLSCollector(Collector):
    """A collector with collector.tls; stderr (debug) goes to a file."""

    def __init__(self, daemons, tmp_path, pki, client_ca=True, tokens=None):
        self.pki = pki
        extra = "  tls:\n    cert_file: %s\n    key_file: %s\n" % (pki / "server.pem",
                                                                  pki / "server.key")
        if client_ca:
            extra += "    client_ca_file: %s\n" % (pki / "ca.pem")
        super().__init__(daemons, tmp_path, tokens=tokens, extra=extra)
        self.log = tmp_path / "collector.log"

    def start(self):
        with open(self.log, "wb") as err:
            self.proc = self.daemons.start([binary("trawl-collector"), "--config",
                                            str(self.config), "--log-level", "debug"],
                                           stdout=subprocess.DEVNULL, stderr=err)
        import time
        end = time.monotonic() + 15
        while time.monotonic() < end:
            assert self.proc.poll() is None, "collector exited:\n" + self.log.read_text()
            try:
                # The probe exemption: no client certificate here.
                status, _, _ = self.request("GET", "/healthz", cert=None)
                assert status == 200
                return self
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)
        raise AssertionError("collector did not serve HTTPS on %d" % self.port)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        text = self.log.read_text(errors="replace")
        assert_no_sanitizer_report(text)
        return text

    def context(self, cert="client"):
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.pem"))
        if cert is not None:
            ctx.load_cert_chain(str(self.pki / (cert + ".pem")), str(self.pki / (cert + ".key")))
        return ctx

    def request(self, method, path, body=None, headers=None, cert="client"):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                           context=self.context(cert))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def post_batch(self, records, agent="node-1", seq=1, token=TOKEN, cert="client"):
        h = {"Content-Type": "application/vnd.trawl.batch+msgpack",
             "Content-Encoding": "zstd", "Trawl-Agent": agent,
             "Trawl-Batch": str(seq), "Trawl-Records": str(len(records))}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        return self.request("POST", "/v1/batches", make_batch(records), h, cert=cert)

    def metrics(self):
        status, _, body = self.request("GET", "/metrics")
        assert status == 200
        return body.decode()


@pytest.fixture
def collector(daemons, tmp_path, pki):
    c = TLSCollector(daemons, tmp_path, pki, tokens={"node-1": TOKEN, "node-2": OTHER}).start()
    yield c
    c.stop()


def test_batch_over_https_with_client_certificate_is_stored(collector):
    status, _, body = collector.post_batch(recs(3))
    assert (status, json.loads(body)) == (200, {"accepted": 3})
    assert collector.records() == recs(3)
    proc = run([binary("trawl"), "verify", "--store", str(collector.data_dir)])
    assert proc.returncode == 0, proc.stderr.decode()


def test_metrics_are_served_over_tls(collector):
    collector.post_batch(recs(1))
    text = collector.metrics()
    assert "trawl_collector_build_info" in text
    assert 'trawl_http_requests_total{path="/v1/batches",code="200"} 1' in text


def test_plain_http_to_the_tls_port_fails(collector):
    with pytest.raises((OSError, http.client.HTTPException)):
        http_request(collector.port, "GET", "/healthz", timeout=5)
    # It keeps serving HTTPS.
    assert collector.request("GET", "/healthz", cert=None)[0] == 200


@pytest.mark.parametrize("cert,reason", [
    (None, "client certificate required"),
    ("self", "client certificate not trusted"),
], ids=["no client certificate", "self-signed client certificate"])
def test_without_a_trusted_client_certificate_every_route_is_403(collector, cert, reason):
    for method, path in (("GET", "/metrics"), ("GET", "/nope"), ("POST", "/v1/records")):
        status, _, body = collector.request(method, path, cert=cert)
        assert (status, json.loads(body)) == (403, {"error": reason}), (method, path)
    status, _, body = collector.post_batch(recs(1), cert=cert)
    assert (status, json.loads(body)) == (403, {"error": reason})
    assert collector.count() == 0
    # Probes are exempt.
    assert collector.request("GET", "/healthz", cert=cert)[0] == 200
    status, _, body = collector.request("GET", "/readyz", cert=cert)
    assert (status, body) == (200, b"ready")


def test_certificate_and_token_must_both_pass(collector):
    status, _, _ = collector.post_batch(recs(1), token=None)
    assert status == 401
    status, _, _ = collector.post_batch(recs(1), token="nope-nope-nope-nope")
    assert status == 401
    status, _, _ = collector.post_batch(recs(1), token=TOKEN, cert="self")
    assert status == 403
    assert collector.count() == 0


@pytest.mark.parametrize("cert,agent,token,name", [
    ("client", "node-2", OTHER, "node-1"),  # node-1's certificate, node-2's token
    ("san", "node-1", TOKEN, "san-node"),   # no CN: named by its first DNS SAN
], ids=["CN", "DNS SAN"])
def test_certificate_name_other_than_agent_id_is_logged_not_enforced(collector, cert, agent,
                                                                     token, name):
    status, _, body = collector.post_batch(recs(1, agent), agent=agent, token=token, cert=cert)
    assert (status, json.loads(body)) == (200, {"accepted": 1})
    # One line per collector: the log rate-limits repeats of a message.
    log = collector.stop()
    assert any("differs from the agent id" in l and "agent=%s" % agent in l and
               "client_cn=%s" % name in l for l in log.splitlines()), log


def test_server_certificate_verifies_for_its_names_only(collector, pki):
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    for host in ("127.0.0.1", "localhost"):
        with socket.create_connection(("127.0.0.1", collector.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as tls:
                assert tls.version() in ("TLSv1.3", "TLSv1.2")
    with socket.create_connection(("127.0.0.1", collector.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ctx.wrap_socket(raw, server_hostname="collector.example.com")
    # And a client that trusts only the system CAs refuses it.
    with socket.create_connection(("127.0.0.1", collector.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1")


@pytest.mark.parametrize("version", ["TLSv1_2", "TLSv1_3"])
def test_tls_1_2_and_1_3_are_served(collector, pki, version):
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    ctx.minimum_version = ctx.maximum_version = getattr(ssl.TLSVersion, version)
    with socket.create_connection(("127.0.0.1", collector.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() == version.replace("_", ".")


def test_https_without_client_ca_takes_tokens_only(daemons, tmp_path, pki):
    c = TLSCollector(daemons, tmp_path, pki, client_ca=False, tokens={"node-1": TOKEN}).start()
    try:
        status, _, body = c.post_batch(recs(2), cert=None)
        assert (status, json.loads(body)) == (200, {"accepted": 2})
        assert c.request("GET", "/metrics", cert=None)[0] == 200
    finally:
        c.stop()


@pytest.mark.parametrize("tls,message", [
    ("    cert_file: /x/server.pem\n", "'collector.tls.cert_file' needs 'collector.tls.key_file'"),
    ("    key_file: /x/server.key\n", "'collector.tls.key_file' needs 'collector.tls.cert_file'"),
    ("    client_ca_file: /x/ca.pem\n", "'collector.tls.client_ca_file' needs"),
], ids=["cert without key", "key without cert", "client CA without cert"])
def test_half_a_tls_config_is_a_config_error(tmp_path, tls, message):
    cfg = tmp_path / "collector.yaml"
    cfg.write_text("collector:\n  data_dir: %s\n  tls:\n%s" % (tmp_path / "data", tls))
    proc = run([binary("trawl-collector"), "--config", str(cfg), "--check-config"])
    assert proc.returncode == 78
    err = proc.stderr.decode()
    assert "%s:4:" % cfg in err and message in err, err


def test_bad_tls_files_stop_the_start_with_the_file_named(daemons, tmp_path, pki):
    cfg = tmp_path / "collector.yaml"
    cfg.write_text("collector:\n  data_dir: %s\n  listen: 127.0.0.1:0\n  tls:\n"
                   "    cert_file: %s\n    key_file: %s\n"
                   % (tmp_path / "data", pki / "server.pem", pki / "client.key"))
    proc = run([binary("trawl-collector"), "--config", str(cfg)], timeout=30)
    err = proc.stderr.decode()
    assert proc.returncode != 0
    assert "cannot set up TLS" in err and "client.key" in err and "do not match" in err, err
