"""Every benchmark runs to its end at a tiny size, so that none rots unnoticed. Their figures
are not asserted (a benchmark measures; `make test` times nothing): each must start its own
pair, measure every figure it promises and write its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.platform_pair import PROJECT

BENCHMARKS = {
    "bench.run": (["--acteurs", "2000", "--repeat", "1"], ["figures", "ratios"]),
    "bench.incremental": (["--sizes", "1000", "--interval", "1"], ["sizes", "ratios"]),
    "bench.follower": (["--sizes", "1000", "--edits", "2", "--every", "0", "--idle", "1"], ["sizes", "targets"]),
}


@pytest.mark.parametrize("module", list(BENCHMARKS))
def test_each_benchmark_runs_at_a_tiny_size(module, tmp_path):
    args, keys = BENCHMARKS[module]
    env = {**os.environ, "LACARTE_PROJECT_DIR": str(PROJECT.root)}
    done = subprocess.run([sys.executable, "-m", module, *args, "--results", str(tmp_path)], cwd=PROJECT.root,
                          env=env, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    written = sorted(tmp_path.glob("*.json"))
    assert written, done.stdout[-2000:]
    results = json.loads(written[-1].read_text())
    for key in keys:
        assert results.get(key), (key, results)
    if "figures" in results:
        assert results.get("complete") is True
