"""The three programs exist and answer --version."""
from conftest import binary, run


def test_version():
    for name in ("trawl", "trawl-agent", "trawl-collector"):
        proc = run([binary(name), "--version"])
        assert proc.returncode == 0
