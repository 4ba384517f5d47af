"""trawl parse on every sample of tests/data/formats/manifest.tsv: exactly the expected records."""
import json
import os
import shlex

import pytest

from conftest import binary, run, DATA

FORMATS = DATA / "formats"


def manifest():
    rows = []
    with open(FORMATS / "manifest.tsv") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            rows.append(dict(zip(("input", "expected", "format", "path", "target", "now",
                                  "options", "env"), cols)))
    return rows


ROWS = manifest()


def row_id(row):
    return row["expected"].replace(".expected.jsonl", "")


def parse_args(row, fmt):
    args = [binary("trawl"), "parse", "--format", fmt]
    for key in ("path", "target", "now"):
        if row[key] != "-":
            args += ["--" + key, row[key]]
    if row["options"] != "-":
        args += shlex.split(row["options"])
    args.append(str(FORMATS / row["input"]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if row["env"] != "-":
        for pair in row["env"].split(" "):
            key, _, value = pair.partition("=")
            env[key] = value
    return args, env


def expected(row):
    with open(FORMATS / row["expected"]) as f:
        return [json.loads(line) for line in f if line.strip()]


def diff(got, want):
    """The first difference between two record lists, for the failure message."""
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            keys = sorted(set(g) | set(w))
            bad = {k: (g.get(k), w.get(k)) for k in keys if g.get(k) != w.get(k)}
            return "record %d differs (got, want): %s" % (i, json.dumps(bad)[:3000])
    return "got %d records, want %d" % (len(got), len(want))


@pytest.mark.parametrize("row", ROWS, ids=row_id)
def test_expected_records(row):
    args, env = parse_args(row, row["format"])
    proc = run(args, env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    got = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    want = expected(row)
    assert got == want, diff(got, want)


@pytest.mark.parametrize("row", [r for r in ROWS if r["options"] == "-"], ids=row_id)
def test_auto_detection_gives_the_same_records(row):
    args, env = parse_args(row, "auto")
    proc = run(args, env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    got = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    want = expected(row)
    assert got == want, diff(got, want)


def test_all_reference_records_are_covered():
    assert sum(len(expected(r)) for r in ROWS) == 218
