"""Every benchmark runs to its end at a tiny size, so that none rots unnoticed. Their figures
are not asserted (a benchmark measures; `make test` times nothing): each must start its own
pair, measure every figure it promises and write its JSON. Each is a test of its own, which the
suite's scheduler (tests/conftest.py) hands to a worker early, beside the other modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.platform_pair import PROJECT

BENCHMARKS = {
    "bench.run": (["--acteurs", "2000", "--repeat", "1"], ["figures", "ratios"]),
    "bench.incremental": (["--sizes", "1000", "--interval", "1", "--idle", "1"], ["sizes", "ratios"]),
    "bench.follower": (["--sizes", "1000", "--edits", "2", "--every", "0", "--idle", "1"], ["sizes", "targets"]),
}


@pytest.mark.parametrize("module", BENCHMARKS)
def test_the_benchmark_runs_at_a_tiny_size(module: str, tmp_path: Path):
    args, keys = BENCHMARKS[module]
    ran = subprocess.run([sys.executable, "-m", module, *args, "--results", str(tmp_path)], cwd=PROJECT.root,
                         env={**os.environ, "LACARTE_PROJECT_DIR": str(PROJECT.root)},
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800)
    assert ran.returncode == 0, ran.stdout[-3000:]
    written = sorted(tmp_path.glob("*.json"))
    assert written, ran.stdout[-2000:]
    found = json.loads(written[-1].read_text())
    for key in keys:
        assert found.get(key), (key, found)
    if "figures" in found:
        assert found.get("complete") is True
