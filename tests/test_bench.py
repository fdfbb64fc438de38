"""Every benchmark runs to its end at a tiny size, so that none rots unnoticed. Their figures
are not asserted (a benchmark measures; `make test` times nothing): each must start its own
pair, measure every figure it promises and write its JSON. They run in the background from the
start of the session (tests/conftest.py), and this module comes last."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.platform_pair import PROJECT

BENCHMARKS = {
    "bench.run": (["--acteurs", "2000", "--repeat", "1"], ["figures", "ratios"]),
    "bench.incremental": (["--sizes", "1000", "--interval", "1", "--idle", "1"], ["sizes", "ratios"]),
    "bench.follower": (["--sizes", "1000", "--edits", "2", "--every", "0", "--idle", "1"], ["sizes", "targets"]),
}


def start_benchmarks(folder: Path) -> dict[str, tuple[Path, subprocess.Popen]]:
    """The three at a tiny size, at once, each on its own pair, in the background (conftest
    starts them with the session, so that they run while the other modules do), at the lowest
    CPU priority (their instances inherit it): they take what the other tests leave of the two
    cores instead of slowing them down."""
    env = {**os.environ, "LACARTE_PROJECT_DIR": str(PROJECT.root)}
    running = {}
    for module, (args, _keys) in BENCHMARKS.items():
        results = folder / module
        running[module] = (results, subprocess.Popen(
            ["nice", "-n", "19", sys.executable, "-m", module, *args, "--results", str(results)], cwd=PROJECT.root,
            env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    return running


def test_every_benchmark_runs_at_a_tiny_size(benchmarks_in_background):
    running = benchmarks_in_background
    outputs = {module: process.communicate(timeout=1800)[0] for module, (_results, process) in running.items()}
    for module, (results, process) in running.items():
        assert process.returncode == 0, (module, outputs[module][-3000:])
        written = sorted(results.glob("*.json"))
        assert written, (module, outputs[module][-2000:])
        found = json.loads(written[-1].read_text())
        for key in BENCHMARKS[module][1]:
            assert found.get(key), (module, key, found)
        if "figures" in found:
            assert found.get("complete") is True, module
