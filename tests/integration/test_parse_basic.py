"""trawl parse for the json and text formats."""
import base64
import json

from conftest import binary, run

NOW = "2024-06-15T00:00:00Z"
NOW_NS = 1718409600000000000


def parse(args, data):
    proc = run([binary("trawl"), "parse"] + args, input=data)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


def test_text_lines_take_the_reference_clock():
    recs = parse(["--format", "text", "--now", NOW, "--path", "/var/log/app.log"],
                 b"one\r\ntwo\nlast without newline")
    assert recs == [
        {"time": NOW_NS, "message": "one",
         "source": {"kind": "file", "format": "text", "path": "/var/log/app.log"}},
        {"time": NOW_NS, "message": "two",
         "source": {"kind": "file", "format": "text", "path": "/var/log/app.log"}},
        {"time": NOW_NS, "message": "last without newline",
         "source": {"kind": "file", "format": "text", "path": "/var/log/app.log"}},
    ]


def test_text_invalid_utf8_goes_to_raw():
    data = b"caf\xe9 \xff\xfe ok"
    (rec,) = parse(["--format", "text", "--now", NOW], data + b"\n")
    assert rec["message"] == data.decode("utf-8", "replace")
    assert base64.b64decode(rec["raw"]) == data


def test_json_lifts_level_message_time_and_keeps_fields():
    line = {"level": "WARNING", "msg": "disk almost full", "time": "2024-06-14T16:20:02.25Z",
            "pct": 91, "ratio": 0.91, "tags": ["a", {"b": None}], "ok": True,
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"}
    (rec,) = parse(["--format", "json", "--now", NOW], json.dumps(line).encode() + b"\n")
    assert rec == {
        "time": 1718382002250000000,
        "level": "warn",
        "message": "disk almost full",
        "trace": {"id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"},
        "fields": line,
        "source": {"kind": "file", "format": "json"},
    }


def test_json_epoch_times_and_numeric_levels():
    lines = [{"ts": 1718382001.5, "level": 50, "message": "pino error"},
             {"timestamp": 1718382001500, "severity": "critical"}]
    recs = parse(["--format", "json", "--now", NOW],
                 b"".join(json.dumps(l).encode() + b"\n" for l in lines))
    assert recs[0]["time"] == 1718382001500000000 and recs[0]["level"] == "error"
    assert recs[0]["message"] == "pino error"
    assert recs[1]["time"] == 1718382001500000000 and recs[1]["level"] == "fatal"
    assert "message" not in recs[1]


def test_json_malformed_line_keeps_what_it_can():
    recs = parse(["--format", "json", "--now", NOW], b'{"msg": "cut\nnot json at all\n')
    assert [r["message"] for r in recs] == ['{"msg": "cut', "not json at all"]
    assert all("fields" not in r and r["time"] == NOW_NS for r in recs)


def test_auto_picks_json_for_objects_and_text_otherwise(tmp_path):
    j = tmp_path / "a.log"
    j.write_bytes(b'{"msg":"x"}\n')
    t = tmp_path / "b.log"
    t.write_bytes(b"plain\n")
    proc = run([binary("trawl"), "parse", str(j), str(t)])
    recs = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    assert [r["source"]["format"] for r in recs] == ["json", "text"]
    assert [r["source"]["path"] for r in recs] == [str(j), str(t)]


def test_unknown_format_is_an_error():
    proc = run([binary("trawl"), "parse", "--format", "nope"], input=b"x\n")
    assert proc.returncode == 2
    assert b"unknown format 'nope'" in proc.stderr


def test_missing_file_is_an_error(tmp_path):
    proc = run([binary("trawl"), "parse", str(tmp_path / "missing.log")])
    assert proc.returncode == 2
    assert b"missing.log" in proc.stderr
