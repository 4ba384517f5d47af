"""Every sample record round-trips exactly through the batch codec and the store:
canonical JSON -> msgpack record -> zstd batch -> stored block -> batch -> canonical JSON."""
import json

import pytest

from conftest import DATA, TOP_BUILDDIR, binary, run

SAMPLES = sorted((DATA / "formats").glob("*.expected.jsonl"))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name.replace(".expected.jsonl", ""))
def test_sample_records_round_trip_through_batches(tmp_path, path):
    # split on \n only: a sample holds a raw U+2028, which splitlines() would cut at
    lines = [l for l in path.read_text().split("\n") if l.strip()]
    store = tmp_path / "data" / "store"
    store.parent.mkdir()
    proc = run([str(TOP_BUILDDIR / "tests" / "store-write"), str(store), "--per-batch", "4",
                str(path)])
    assert proc.returncode == 0, proc.stderr
    out = run([binary("trawl"), "query", "--store", str(tmp_path / "data"), "-o", "json"])
    assert out.returncode == 0, out.stderr
    got = [json.loads(l) for l in out.stdout.decode().split("\n") if l]
    assert got == [json.loads(l) for l in lines]
