"""trawl rules check / trawl rules test (DESIGN.md §9) and the rule language (RULES.md)."""
import glob
import json
import os
import random
import re
import subprocess

import pytest

from conftest import DATA, binary, run

RULES = DATA / "rules"
SIGMA = DATA / "sigma" / "rules"
ORACLE = RULES / "ref_eval.py"
PYTHON = "/usr/bin/python3"


def trawl(*args, **kw):
    return run([binary("trawl")] + [str(a) for a in args], **kw)


def out(proc):
    return proc.stdout.decode("utf-8", "replace")


def err(proc):
    return proc.stderr.decode("utf-8", "replace")


def have_pyyaml():
    return subprocess.run([PYTHON, "-c", "import yaml"], capture_output=True).returncode == 0


def oracle(*args):
    """The executable specification; skips the test without PyYAML."""
    if not have_pyyaml():
        pytest.skip("python3-yaml is not installed: no oracle")
    return subprocess.run([PYTHON, str(ORACLE)] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=120)


def write_events(path, events):
    with open(path, "w", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")


def ev(eid, expect, record, kind="positive", rule=None):
    return {"id": eid, "kind": kind, "rule": rule, "expect": expect, "record": record}


# --- the starter pack and its labelled events -------------------------------------------------

def test_starter_pack_passes_every_labelled_event():
    proc = trawl("rules", "test", "--rules", RULES / "rules.yaml", RULES / "events.jsonl")
    lines = out(proc).splitlines()
    assert lines[-1] == "158 passed, 0 failed", out(proc)
    assert proc.returncode == 0
    assert not [l for l in lines if l.startswith(("FAIL", "COVERAGE"))]


def test_starter_pack_without_the_index_gives_the_same():
    proc = trawl("rules", "test", "--exhaustive", "--rules", RULES / "rules.yaml", RULES / "events.jsonl")
    assert out(proc).splitlines()[-1] == "158 passed, 0 failed"


def test_alert_objects_are_byte_identical_to_the_goldens(tmp_path):
    alerts = tmp_path / "alerts.jsonl"
    proc = trawl("rules", "test", "--now", "0", "--alerts", alerts, "--rules", RULES / "rules.yaml",
                 RULES / "events.jsonl")
    assert proc.returncode == 0
    assert alerts.read_bytes() == (RULES / "events.alerts.jsonl").read_bytes()


def test_alert_ids_are_deterministic(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for f in (a, b):
        trawl("rules", "test", "--alerts", f, "--rules", RULES / "rules.yaml", RULES / "events.jsonl")
    ids_a = [json.loads(l)["alert"]["alert_id"] for l in a.read_text().splitlines()]
    ids_b = [json.loads(l)["alert"]["alert_id"] for l in b.read_text().splitlines()]
    assert ids_a == ids_b and len(ids_a) == 34
    # detected_at is the wall clock, everything else is the same
    assert json.loads(a.read_text().splitlines()[0])["alert"]["detected_at"] > 0


def test_a_wrong_expectation_fails_with_the_line(tmp_path):
    lines = (RULES / "events.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["expect"] = ["k8s-exec-attach"]
    lines[0] = json.dumps(first)
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")
    proc = trawl("rules", "test", "--rules", RULES / "rules.yaml", events)
    text = out(proc)
    assert proc.returncode == 1
    assert "FAIL k8s-privileged-container/neg-request-received: expected ['k8s-exec-attach'] got []" in text
    assert text.splitlines()[-1] == "157 passed, 1 failed"


def test_a_wrong_golden_alert_fails(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_bytes((RULES / "events.jsonl").read_bytes())
    golden = (RULES / "events.alerts.jsonl").read_text().splitlines()
    g = json.loads(golden[0])
    g["alert"]["output"] += " (edited)"
    golden[0] = json.dumps(g)
    (tmp_path / "events.alerts.jsonl").write_text("\n".join(golden) + "\n")
    proc = trawl("rules", "test", "--rules", RULES / "rules.yaml", events)
    text = out(proc)
    assert proc.returncode == 1
    assert "FAIL k8s-privileged-container/pos: alert of k8s-privileged-container differs" in text
    assert text.splitlines()[-1] == "157 passed, 1 failed"


def test_coverage_gaps_fail(tmp_path):
    lines = [l for l in (RULES / "events.jsonl").read_text().splitlines()
             if json.loads(l)["rule"] != "aws-lambda-eol-runtime"]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")
    proc = trawl("rules", "test", "--rules", RULES / "rules.yaml", events)
    assert "COVERAGE aws-lambda-eol-runtime: 0 positive, 0 near-miss tests" in out(proc)
    assert proc.returncode == 1


def test_the_oracle_agrees_on_the_starter_pack():
    proc = oracle(RULES / "rules.yaml", RULES / "events.jsonl")
    assert proc.stdout.splitlines()[-1] == "158 passed, 0 failed"


# --- rules check ----------------------------------------------------------------------------

def test_check_a_good_pack():
    proc = trawl("rules", "check", RULES / "rules.yaml")
    assert proc.returncode == 0
    assert out(proc) == "ok: 32 rules from 1 files\n"


BROKEN = """\
version: 1
lists:
  cyc: [$cyc]
macros:
  kevt: audit.stage = ResponseComplete
rules:
  - id: bad-op
    title: t
    severity: low
    source: k8s_audit
    condition: kevt and audit.action === get
  - id: bad-sev
    title: t
    severity: urgent
    source: [k8s_audit, pods]
    condition: kevt
    output: "{audit.actor.name"
  - id: bad-regex
    title: t
    severity: low
    source: container
    condition: message regex '\\Z'
    throttle: {key: [k8s.pod], window: 1w}
"""


def test_check_reports_every_error_with_its_position(tmp_path):
    f = tmp_path / "broken.yaml"
    f.write_text(BROKEN)
    proc = trawl("rules", "check", f)
    assert proc.returncode == 1
    assert out(proc) == ""
    p = str(f)
    assert err(proc).splitlines() == [
        p + ":3:3: list 'cyc': list cycle via $cyc",
        p + ":11:40: rule 'bad-op': condition: unexpected '=' after the condition",
        p + ":14:15: rule 'bad-sev': severity must be one of informational low medium high critical",
        p + ":15:25: rule 'bad-sev': unknown source kind 'pods'",
        p + ":17:13: rule 'bad-sev': unbalanced brace (use {{ and }}) in template '{audit.actor.name'",
        p + ":22:16: rule 'bad-regex': condition: non-portable regex escape \\Z",
        p + ":23:40: rule 'bad-regex': bad duration '1w' (want e.g. 500ms, 60s, 2m, 1h, 1d)",
        "7 errors",
    ]


def test_check_reports_yaml_and_file_errors(tmp_path):
    bad = tmp_path / "syntax.yaml"
    bad.write_text("rules:\n  - id: x\n   title: t\n")
    proc = trawl("rules", "check", bad, tmp_path / "missing.yaml")
    lines = err(proc).splitlines()
    assert proc.returncode == 1
    assert lines[0] == str(tmp_path / "missing.yaml") + ": cannot read: No such file or directory"
    assert re.match(re.escape(str(bad)) + r":3:\d+: YAML syntax error: ", lines[1]), lines
    assert lines[2] == "2 errors"


def test_check_a_directory_and_an_overlay(tmp_path):
    (tmp_path / "a.yaml").write_bytes((RULES / "rules.yaml").read_bytes())
    (tmp_path / "b.yml").write_text(
        "version: 1\noverrides:\n  - rule: k8s-exec-attach\n    severity: high\n"
        "  - rule: no-such-rule\n    enabled: false\n")
    (tmp_path / "notes.txt").write_text("not a rule file")
    proc = trawl("rules", "check", tmp_path)
    assert proc.returncode == 1
    assert err(proc).splitlines() == [str(tmp_path / "b.yml") + ":5:11: overlay: unknown rule id 'no-such-rule'",
                                      "1 errors"]


# --- Sigma ----------------------------------------------------------------------------------

def sigma_files():
    return sorted(glob.glob(str(SIGMA / "**" / "*.yml"), recursive=True))


def test_every_sigma_rule_loads_or_is_refused_with_a_reason():
    loaded = refused = 0
    for f in sigma_files():
        proc = trawl("rules", "check", f)
        lines = (out(proc) + err(proc)).splitlines()
        if proc.returncode == 0:
            loaded += 1
            assert lines == ["ok: 1 rules from 1 files (Sigma: 1 loaded, 0 refused)"], f
        else:
            refused += 1
            assert proc.returncode == 1
            assert len(lines) == 2 and lines[1] == "1 errors", lines
            assert re.match(re.escape(f) + r":\d+:\d+: Sigma rule refused: \S.*$", lines[0]), lines
    assert (loaded, refused) == (125, 1)


def test_the_sigma_directory_with_skip():
    proc = trawl("rules", "check", "--sigma-skip", SIGMA)
    assert proc.returncode == 0
    assert out(proc) == "ok: 125 rules from 126 files (Sigma: 125 loaded, 1 refused)\n"
    assert "aws_update_login_profile.yml:24:9: warning: Sigma rule refused: unsupported Sigma modifier " \
           "'fieldref'" in proc.stderr.decode()


def test_sigma_rules_fire_where_the_oracle_fires(tmp_path):
    """Every loadable Sigma rule, over every labelled record: the same hits as ref_eval.py."""
    if not have_pyyaml():
        pytest.skip("python3-yaml is not installed: no oracle")
    script = tmp_path / "sigma_hits.py"
    script.write_text(
        "import sys, json, glob, os\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import ref_eval, yaml\n"
        "recs = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]\n"
        "hits = {r['id']: [] for r in recs}\n"
        "for f in sorted(glob.glob(os.path.join(sys.argv[2], '**', '*.yml'), recursive=True)):\n"
        "    try:\n"
        "        title, sources, ast = ref_eval.load_sigma(f)\n"
        "    except Exception:\n"
        "        continue\n"
        "    sid = yaml.safe_load(open(f))['id']\n"
        "    for r in recs:\n"
        "        if ref_eval.record_kind(r['record']) in sources and ref_eval.ev_sigma(r['record'], ast):\n"
        "            hits[r['id']].append(sid)\n"
        "print(json.dumps(hits))\n")
    want = json.loads(subprocess.run([PYTHON, str(script), str(RULES), str(SIGMA), str(RULES / "events.jsonl")],
                                     capture_output=True, text=True, check=True).stdout)
    proc = trawl("rules", "test", "--sigma-skip", "--rules", SIGMA, RULES / "events.jsonl")
    got = {k: [] for k in want}
    for line in out(proc).splitlines():
        m = re.match(r"FAIL (\S+): expected \[.*?\] got \[(.*)\]$", line)
        if m and m.group(2):
            got[m.group(1)] = [x.strip().strip("'") for x in m.group(2).split(",")]
    assert {k: sorted(v) for k, v in got.items()} == {k: sorted(v) for k, v in want.items()}
    assert sum(len(v) for v in want.values()) > 50


# --- targeted cases, RULES.md section by section ----------------------------------------------

def run_case(tmp_path, rules_yaml, events, overlays=(), with_oracle=True):
    """Run labelled events through trawl (and the oracle when it is there); return trawl's output."""
    pack = tmp_path / "pack.yaml"
    pack.write_text(rules_yaml)
    files = [pack]
    for i, o in enumerate(overlays):
        f = tmp_path / ("tune%d.yaml" % i)
        f.write_text(o)
        files.append(f)
    events_f = tmp_path / "case.jsonl"
    write_events(events_f, events)
    proc = trawl("rules", "test", "-v", "--rules", *files, events_f)
    text = out(proc)
    n = len(events)
    assert text.splitlines()[-1] == "%d passed, 0 failed" % n, text
    if with_oracle and have_pyyaml():
        args = [pack, events_f]
        for f in files[1:]:
            args += ["--overlay", f]
        o = oracle(*args, "-v")
        assert o.stdout.splitlines()[-1] == "%d passed, 0 failed" % n, o.stdout
        py_alerts = [l for l in o.stdout.splitlines() if l.startswith("  ALERT")]
        c_alerts = [l for l in text.splitlines() if l.startswith("  ALERT")]
        assert py_alerts == c_alerts
    return text


def rule(rid, source, condition, **extra):
    r = {"id": rid, "title": "t", "severity": "low", "source": source, "condition": condition}
    r.update(extra)
    return r


def pack_yaml(rules, lists=None, aliases=None, macros=None):
    doc = {"version": 1, "rules": rules}
    if lists:
        doc["lists"] = lists
    if aliases:
        doc["aliases"] = aliases
    if macros:
        doc["macros"] = macros
    return json.dumps(doc, ensure_ascii=False)  # JSON is YAML


def rec(kind="file", t=0, **kw):
    r = {"time": 1700000000000000000 + t * 1000000000, "source": {"kind": kind, "format": "x"}}
    r.update(kw)
    return r


def test_operators_and_quantifiers(tmp_path):
    rules = [
        rule("num", "file", "http.status >= 500 and http.status < 600"),
        rule("numstr", "file", "fields.n = 1000"),
        rule("bool", "file", "fields.ok = true"),
        rule("cidr-all", "file", "all(fields.ips) cidr $corp"),
        rule("glob", "file", "fields.path glob '/etc/*.conf'"),
        rule("pmatch", "file", "fields.path pmatch /var/lib/kubelet"),
        rule("keys", "file", "keys(fields.data) iregex 'passw(or)?d$'"),
        rule("ne-missing", "syslog", "syslog.app != sshd"),
        rule("regex-cjk", "syslog", "message regex '\\bAKIA[0-9A-Z]{16}\\b'"),
        rule("idx", "syslog", "fields.hops[-1] = 10.0.0.9"),
    ]
    lists = {"corp": ["10.0.0.0/8", "192.168.0.0/16"]}
    events = [
        ev("e1", ["num"], rec(http={"status": 503})),
        ev("e2", [], rec(http={"status": "5xx"}), kind="near_miss", rule="num"),
        ev("e3", ["numstr"], rec(fields={"n": "1e3"})),
        ev("e4", ["bool"], rec(fields={"ok": "TRUE"})),
        ev("e5", [], rec(fields={"ok": 1}), kind="near_miss", rule="bool"),
        ev("e6", ["cidr-all"], rec(fields={"ips": ["10.1.1.1", "::ffff:192.168.3.4"]})),
        ev("e7", [], rec(fields={"ips": ["10.1.1.1", "8.8.8.8"]}), kind="near_miss", rule="cidr-all"),
        ev("e8", [], rec(fields={"ips": []}), kind="near_miss", rule="cidr-all"),
        ev("e9", ["glob"], rec(fields={"path": "/etc/x/y.conf"})),
        ev("e10", ["pmatch"], rec(fields={"path": "/var/lib/../lib/kubelet//pki/"})),
        ev("e11", [], rec(fields={"path": "/var/lib/kubelet2"}), kind="near_miss", rule="pmatch"),
        ev("e12", ["keys"], rec(fields={"data": {"DB_PASSWORD": "x"}})),
        ev("e13", ["ne-missing"], rec("syslog", message="x")),
        ev("e14", [], rec("syslog", syslog={"app": "sshd"}, message="y"), kind="near_miss", rule="ne-missing"),
        ev("e15", ["ne-missing", "regex-cjk"], rec("syslog", message="密钥AKIAABCDEFGHIJKLMNOP")),
        ev("e16", ["ne-missing", "idx"], rec("syslog", message="z", fields={"hops": ["1.1.1.1", "10.0.0.9"]})),
        ev("e17", [], rec(fields={"n": "1e3x"}), kind="near_miss", rule="numstr"),
        ev("e18", [], rec(fields={"path": "/etc/x/y.conf.bak"}), kind="near_miss", rule="glob"),
        ev("e19", [], rec(fields={"data": {"password_hint": "x"}}), kind="near_miss", rule="keys"),
        ev("e20", [], rec("syslog", syslog={"app": "sshd"}, message="xAKIAABCDEFGHIJKLMNOP"), kind="near_miss",
           rule="regex-cjk"),
        ev("e21", [], rec("syslog", syslog={"app": "sshd"}, fields={"hops": ["10.0.0.9", "1.1.1.1"]}),
           kind="near_miss", rule="idx"),
    ]
    run_case(tmp_path, pack_yaml(rules, lists=lists), events)


def test_exceptions_all_and_rows(tmp_path):
    rules = [rule("exec", "k8s_audit", "audit.target.subresource = exec", exceptions=[
        {"name": "bastion", "fields": ["audit.actor.name", "all(audit.source_addresses)"], "comps": ["in", "cidr"],
         "values": [[["sre@corp"], "10.20.0.0/24"], [["bot@corp"], "10.30.0.0/24"]]}])]

    def a(name, addrs):
        return rec("k8s_audit", audit={"target": {"subresource": "exec"}, "actor": {"name": name},
                                       "source_addresses": addrs})
    events = [
        ev("trusted", [], a("sre@corp", ["10.20.0.5"]), kind="near_miss", rule="exec"),
        ev("forged-xff", ["exec"], a("sre@corp", ["10.20.0.5", "203.0.113.9"])),
        ev("second-row", [], a("bot@corp", ["10.30.0.1"]), kind="near_miss", rule="exec"),
        ev("other-user", ["exec"], a("eve@corp", ["10.20.0.5"])),
    ]
    run_case(tmp_path, pack_yaml(rules), events)


def test_overlays_and_filters(tmp_path):
    rules = [
        rule("admin", "file", "user.name in $admins", tags=["theme.x"],
             exceptions=[{"name": "jump", "fields": ["host.name"], "values": [["bastion"]]}]),
        rule("boom", ["file", "syslog"], "message contains boom"),
        rule("dormant", "file", "message exists", enabled=False),
    ]
    overlay = ("version: 1\n"
               "overrides:\n"
               "  - rule: admin\n"
               "    append_exceptions:\n"
               "      - {name: jump, values: [[jump2]]}\n"
               "  - list: admins\n"
               "    append: [ops]\n"
               "  - rule: dormant\n"
               "    enabled: true\n"
               "filters:\n"
               "  - id: no-ci\n"
               "    rules: [\"source:syslog\"]\n"
               "    condition: host.name startswith ci-\n")
    events = [
        ev("ops-is-admin-now", ["admin", "dormant"], rec(user={"name": "ops"}, host={"name": "x"}, message="m")),
        ev("appended-row", ["dormant"], rec(user={"name": "root"}, host={"name": "jump2"}, message="m"),
           kind="near_miss", rule="admin"),
        ev("filtered", [], rec("syslog", message="boom", host={"name": "ci-3"}), kind="near_miss", rule="boom"),
        ev("not-filtered", ["boom"], rec("syslog", message="boom", host={"name": "web"})),
        ev("dormant-near", [], rec("syslog", message="no"), kind="near_miss", rule="dormant"),
    ]
    run_case(tmp_path, pack_yaml(rules, lists={"admins": ["root"]}), events, overlays=[overlay])


def test_templates_json_masked_and_aliases(tmp_path):
    rules = [rule("secret", "container", "logtext regex '\\b(AKIA|ASIA)[0-9A-Z]{16}\\b'",
                  output="{message:masked} | {fields:json} | {fields.l:json} | {logtext} | {nope} | {{x}}",
                  fields=["fields.l", "nope", "logtext"])]
    events = [
        ev("pos", ["secret"], rec("container", message="k=AKIAABCDEFGHIJKLMNOP",
                                  fields={"l": [1, None, {"a": 3000.0}], "b": "ASIAABCDEFGHIJKLMNOP"})),
        ev("neg", [], rec("container", message="AKIAABCDEFGHIJKLMNOPQ"), kind="near_miss", rule="secret"),
    ]
    text = run_case(tmp_path, pack_yaml(rules, aliases={"logtext": ["message", "fields.*"]}), events)
    assert ("k=AKIA**************** | {\"b\":\"ASIAABCDEFGHIJKLMNOP\",\"l\":[1,null,{\"a\":3000}]} | "
            "[1,null,{\"a\":3000}] | k=AKIAABCDEFGHIJKLMNOP,1,{\"a\":3000},ASIAABCDEFGHIJKLMNOP | <NA> | {x}") in text


def test_threshold_window_edges_and_throttle(tmp_path):
    rules = [
        rule("burst", "file", "message contains fail",
             threshold={"count": 3, "window": "60s", "group_by": ["host.name"]},
             output="{threshold.count} fails in {threshold.window} on {host.name}"),
        rule("distinct", "file", "message contains denied",
             threshold={"count": 2, "window": "1m", "group_by": ["user"], "distinct": ["action"]}),
        rule("noisy", "syslog", "message exists", throttle={"key": ["host.name"], "window": "10s", "max": 2}),
    ]

    def f(t, msg, **kw):
        return rec("file", t=t, message=msg, host={"name": "h"}, **kw)
    events = [
        ev("b0", [], f(0, "fail"), kind="setup", rule="burst"),
        ev("b1", [], f(30, "fail"), kind="setup", rule="burst"),
        ev("b2-edge", [], f(60, "fail"), kind="setup", rule="burst"),   # t0 is out: (60-60, 60]
        ev("b3", ["burst"], f(61, "fail")),
        ev("b4-cleared", [], f(62, "fail"), kind="near_miss", rule="burst"),
        ev("d0", [], f(100, "denied", user="u", action="a")),
        ev("d1-same", [], f(101, "denied", user="u", action="a"), kind="near_miss", rule="distinct"),
        ev("d2", ["distinct"], f(102, "denied", user="u", action="b")),
        ev("n0", ["noisy"], rec("syslog", t=200, message="x", host={"name": "h"})),
        ev("n1", ["noisy"], rec("syslog", t=201, message="x", host={"name": "h"})),
        ev("n2-suppressed", [], rec("syslog", t=202, message="x", host={"name": "h"}), kind="throttle", rule="noisy"),
        ev("n3-other-key", ["noisy"], rec("syslog", t=203, message="x", host={"name": "g"})),
        ev("n4-new-window", ["noisy"], rec("syslog", t=210, message="x", host={"name": "h"})),
        ev("n5-near", [], rec("syslog", t=211), kind="near_miss", rule="noisy"),
    ]
    text = run_case(tmp_path, pack_yaml(rules), events)
    assert "3 fails in 60s on h" in text
    assert "throttle-suppressed alerts: {'noisy': 1}" in text


def test_macros_lists_and_typed_yaml(tmp_path):
    yaml_text = ("version: 1\n"
                 "lists:\n"
                 "  codes: [401, 403, \"404\"]\n"
                 "  flags: [yes, off]\n"
                 "  nested: [$codes, 500]\n"
                 "macros:\n"
                 "  bad: http.status in $nested\n"
                 "  flagged: fields.f in $flags\n"
                 "rules:\n"
                 "  - id: m\n"
                 "    title: t\n"
                 "    severity: low\n"
                 "    source: file\n"
                 "    condition: bad and not flagged\n")
    events = [
        ev("int", ["m"], rec(http={"status": 403})),
        ev("str-num", ["m"], rec(http={"status": "404"})),
        ev("float", ["m"], rec(http={"status": 500.0})),
        ev("flag", [], rec(http={"status": 401}, fields={"f": "True"}), kind="near_miss", rule="m"),
        ev("other", [], rec(http={"status": 200}), kind="near_miss", rule="m"),
    ]
    run_case(tmp_path, yaml_text, events)


# --- conformance on generated packs -------------------------------------------------------------

KINDS = ["container", "k8s_audit", "faas"]
STRS = ["alpha", "ALPHA", "10.0.0.1", "::ffff:10.0.0.7", "/etc//passwd", "", "1", "1.0", "2.5", "true",
        "x AKIAABCDEFGHIJKLMNOP y", "密钥café", "a*b", "tab\there"]
PATHS = ["message", "audit.a", "fields.a", "fields.b.c", "fields.*", "fields.a[0]", "fields.a[-1]", "al", "audit[*]"]
OPS = ["=", "!=", "<", ">=", "in", "ieq", "contains", "icontains", "startswith", "iendswith", "glob", "iglob",
       "peq", "pmatch", "regex", "iregex", "cidr"]


def gen_value(r, d=0):
    t = r.random()
    if d < 2 and t < 0.15:
        return {k: gen_value(r, d + 1) for k in r.sample(["a", "b", "c"], r.randint(0, 2))}
    if d < 2 and t < 0.3:
        return [gen_value(r, d + 1) for _ in range(r.randint(0, 3))]
    if t < 0.45:
        return r.choice([0, 1, -1, 2.5, 1.0, 3000, 1e16])
    if t < 0.5:
        return r.choice([True, False, None])
    return r.choice(STRS)


def gen_literal(r, op):
    return {"<": "1", ">=": "2.5", "cidr": r.choice(["10.0.0.0/8", "10.0.0.1"]),
            "regex": r.choice(["'a'", "'^A'", "'[0-9]+'", "'x*'", "'AKIA[A-Z]{16}'"]),
            "iregex": "'alpha'", "glob": "'a*'", "iglob": "'*A*'", "peq": "/etc/passwd",
            "pmatch": "/etc"}.get(op, r.choice(["alpha", "1", "true", "2.5", "$l", "''"]))


def gen_cond(r, d=0):
    t = r.random()
    if d < 2 and t < 0.25:
        return "(%s %s %s)" % (gen_cond(r, d + 1), r.choice(["and", "or"]), gen_cond(r, d + 1))
    if d < 2 and t < 0.35:
        return "not " + gen_cond(r, d + 1)
    if t < 0.45:
        return "%s exists" % r.choice(PATHS)
    op = r.choice(OPS)
    operand = r.choice(PATHS)
    if r.random() < 0.2:
        operand = "all(%s)" % operand
    return "%s %s %s" % (operand, op, gen_literal(r, op))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_packs_match_the_oracle(tmp_path, seed):
    """Random conditions, templates, thresholds and throttles: alert objects identical to ref_eval.py."""
    if not have_pyyaml():
        pytest.skip("python3-yaml is not installed: no oracle")
    r = random.Random(seed)
    rules = []
    for i in range(25):
        x = rule("r%d" % i, r.sample(KINDS, r.randint(1, 2)), gen_cond(r),
                 output="{%s} {%s:json} {%s:masked}" % (r.choice(PATHS), r.choice(PATHS), r.choice(PATHS)),
                 fields=r.sample(PATHS, 2))
        if r.random() < 0.3:
            x["threshold"] = {"count": 2, "window": "1m", "group_by": [r.choice(PATHS)],
                              "distinct": r.choice(PATHS)}
        if r.random() < 0.3:
            x["throttle"] = {"key": [r.choice(PATHS)], "window": "90s"}
        rules.append(x)
    pack = tmp_path / "pack.yaml"
    pack.write_text(pack_yaml(rules, lists={"l": ["alpha", 1, True]}, aliases={"al": ["audit.a", "fields.a"]}))
    events = tmp_path / "events.jsonl"
    recs = []
    for i in range(120):
        rr = rec(r.choice(KINDS), t=i * r.choice([1, 20, 45]), id="r%d" % i, message=r.choice(STRS),
                 audit={k: gen_value(r, 1) for k in r.sample(["a", "b"], r.randint(1, 2))},
                 fields={k: gen_value(r, 1) for k in r.sample(["a", "b", "c"], r.randint(1, 3))})
        recs.append(ev("e%d" % i, [], rr, kind="setup"))
    write_events(events, recs)
    py = tmp_path / "py.jsonl"
    c = tmp_path / "c.jsonl"
    oracle(pack, events, "--alerts", py, "--now", "0")
    trawl("rules", "test", "--now", "0", "--alerts", c, "--rules", pack, events)
    assert c.read_bytes() == py.read_bytes()
    assert py.read_bytes().count(b"\n") > 20
