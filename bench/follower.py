"""The resident follower against the every-minute incremental cycle, side by side in one run.

    python -m bench.follower [--sizes 100000 1000000] [--edits 60] [--every 2] [--share 0.01]
                             [--results DIR]

For each size: demo data, the deploy and the first full run, then, on the same data:
- the map's reader (La Carte's query on the webapp, 4 per second), idle: its p99;
- the follower (`lacarte follow`, a process of its own) watching while nothing changes: its
  CPU, and the CPU of its session on the webapp, in % of a core;
- single edits, one every `every` seconds (renames, as the web app's admin makes them): the
  time from each commit to the new name in qfdmo_displayedacteur (p50, p95, max), with the
  reader's p99 during the stream;
- a burst editing `share` of the actors (every kind of change, lacarte.edits): the time
  from its commit until the follower has published it;
- the old cycle: one `lacarte run --incremental` after an edit, without the follower (an edit
  then waits for the next minute's tick, plus this).
With `taskset` present, the webapp instance is pinned to the first core, and the warehouse and
the follower to the second, so that the reader's figure measures the webapp's own work.
Writes <date>-follower.json in `--results` (bench/results).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bench.harness import BenchPair, print_targets
from bench.incremental import Reader, checksums
from lacarte.changes.follow import read_follower
from lacarte.demo_follow import FollowerProcess, rename_and_wait, shown_acteurs
from lacarte.edits import edit_share
from lacarte.pipeline import run_steps
from lacarte.steps import JOBS

console = Console()
RESULTS = Path(__file__).resolve().parent / "results"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU of one process so far (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def pin(pair: BenchPair) -> bool:
    """The webapp's server processes on core 0, the warehouse's on core 1 (new backends inherit)."""
    if not shutil.which("taskset") or (os.cpu_count() or 1) < 2:
        return False
    for side, core in (("webapp", "0"), ("warehouse", "1")):
        with pair.connect(side, user="admin") as conn:
            postmaster = int(Path(conn.execute("select current_setting('data_directory')").fetchone()[0],
                                  "postmaster.pid").read_text().split()[0])
        children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
        for pid in [str(postmaster), *children]:
            subprocess.run(["taskset", "-a", "-cp", core, pid], capture_output=True, check=False)
    return True


def percentile(values: list[float], share: float) -> float | None:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else None


def webapp_session_pid(pair: BenchPair) -> int | None:
    """The follower's session on the webapp (the stream role's)."""
    with pair.connect("webapp", user="admin") as conn:
        found = conn.execute("select pid from pg_stat_activity where usename = 'webapp_stream' "
                             "order by backend_start limit 1").fetchone()
    return found[0] if found else None


def measure_size(pair: BenchPair, size: int, edits: int, every: float, share: float, reader: Reader,
                 pinned: bool, idle: float) -> dict:
    console.print(f"[bold]{size:,} actors[/bold]")
    figures: dict = {"acteurs": size}
    pair.load(size)
    run_steps(pair.settings, JOBS["run"], quiet=True)
    if pinned:
        pin(pair)  # the backends the load started are gone; new ones inherit the postmasters' cores
    reader.label = f"{size}-idle"
    time.sleep(idle)
    figures["reader_p99_idle_s"] = reader.p99(f"{size}-idle")

    # The stream caught up first: loading the actors and publishing them into the empty map
    # may write more WAL than the slot may keep (max_slot_wal_keep_size), and the run that
    # finds the slot invalidated rebuilds everything, which is not the old cycle measured next.
    started = time.perf_counter()
    caught_up = run_steps(pair.settings, JOBS["incremental"], quiet=True)
    figures["catch_up"] = {"mode": caught_up.mode, "seconds": time.perf_counter() - started,
                           "messages": list(caught_up.messages)}
    console.print(f"  caught up with the stream: {caught_up.mode or 'nothing to do'}, "
                  f"{figures['catch_up']['seconds']:.1f} s")

    webapp = pair.settings.database("webapp")
    acteurs = shown_acteurs(webapp, edits + 1)
    # The old cycle: one incremental run after an edit, without the follower.
    with pair.connect("webapp") as conn:
        conn.execute("update qfdmo_acteur set nom = nom || ' (avant)' where identifiant_unique = %s", [acteurs[-1]])
    started = time.perf_counter()
    old_cycle = run_steps(pair.settings, JOBS["incremental"], quiet=True)
    figures["old_cycle_s"] = time.perf_counter() - started
    figures["old_cycle_mode"] = old_cycle.mode
    console.print(f"  the every-minute cycle after one edit: {figures['old_cycle_s']:.1f} s (plus the wait for its tick)")

    follower = FollowerProcess(pair.settings, ["taskset", "-c", "1"] if pinned else [])
    try:
        follower.wait_watching()
        reader.label = None
        session = webapp_session_pid(pair)
        own_before, session_before = cpu_seconds(follower.process.pid), cpu_seconds(session) if session else 0.0
        time.sleep(idle)
        figures["follower_idle_cpu_pct"] = 100 * (cpu_seconds(follower.process.pid) - own_before) / idle
        figures["follower_webapp_session_idle_cpu_pct"] = (100 * (cpu_seconds(session) - session_before) / idle
                                                          if session else None)
        console.print(f"  idle: follower {figures['follower_idle_cpu_pct']:.2f} % of a core, its webapp session "
                      f"{figures['follower_webapp_session_idle_cpu_pct'] or 0:.2f} %")

        reader.label = f"{size}-stream"
        latencies: list[float] = []
        cycle_steps: list[dict[str, float]] = []
        for number, acteur in enumerate(acteurs[:edits]):
            started = time.perf_counter()
            before = follower.cycles()
            latencies.append(rename_and_wait(webapp, acteur, f"Bench {number} {time.time():.0f}"))
            follower.wait_cycles(before + 1)
            cycle_steps.append(read_follower(pair.settings).last_cycle_steps or {})
            time.sleep(max(0.0, every - (time.perf_counter() - started)))
        reader.label = None
        figures["edit_to_map_s"] = {"p50": statistics.median(latencies), "p95": percentile(latencies, 0.95),
                                    "max": max(latencies), "edits": len(latencies), "every_s": every}
        figures["edit_cycle_steps_p50_s"] = {
            step: statistics.median(found[step] for found in cycle_steps if step in found)
            for step in dict.fromkeys(step for found in cycle_steps for step in found)}
        console.print("  the single edits' cycles, median seconds per step: " + ", ".join(
            f"{step} {seconds:.3f}" for step, seconds in figures["edit_cycle_steps_p50_s"].items()))
        figures["reader_p99_stream_s"] = reader.p99(f"{size}-stream")
        console.print(f"  single edits: p50 {figures['edit_to_map_s']['p50']:.2f} s, p95 "
                      f"{figures['edit_to_map_s']['p95']:.2f} s; reader p99 {figures['reader_p99_stream_s']:.3f} s "
                      f"(idle {figures['reader_p99_idle_s']:.3f} s)")

        follower.wait_watching()  # the last single edit's cycle has ended
        before = follower.cycles()
        started = time.perf_counter()
        counts = edit_share(pair.settings, share, seed=7)
        committed = time.perf_counter()
        with pair.connect("warehouse") as conn:
            while True:
                state = conn.execute("select cycles, state from lacarte_state.follower").fetchone()
                owed = conn.execute("select (select count(*) from lacarte_state.to_build) + "
                                    "(select count(*) from lacarte_state.to_publish)").fetchone()[0]
                if state[0] > before and state[1] == "waiting for changes" and not owed:
                    break
                time.sleep(0.1)
        figures["burst"] = {"share": share, "rows": sum(counts.values()), "edit_s": committed - started,
                            "commit_to_map_s": time.perf_counter() - committed, "cycles": follower.cycles() - before,
                            "last_cycle_steps_s": read_follower(pair.settings).last_cycle_steps}
        console.print(f"  burst of {share:.0%}: on the map {figures['burst']['commit_to_map_s']:.1f} s after its commit")
    finally:
        follower.stop()
    # What the follower left equals a full rebuild: every model and published table, and the
    # full run finds nothing to publish.
    before = checksums(pair)
    full = run_steps(pair.settings, JOBS["run"], quiet=True)
    with pair.connect("warehouse") as conn:
        rows = conn.execute("select change_rows from exposure.exposure_publication_change_set").fetchone()[0]
    after = checksums(pair)
    figures["equivalence"] = {
        "full_run_after_follower_change_rows": rows, "full_run_mode": full.mode, "tables_compared": len(after),
        "tables_differing": sorted(k for k in after if after[k] != before.get(k))}
    console.print(f"  follower == full rebuild: {len(after) - len(figures['equivalence']['tables_differing'])} of "
                  f"{len(after)} tables equal, {rows} rows for the full run to publish")
    return figures


def plot(results: dict, path: Path) -> None:
    """Left: an edit's and a burst's way to the map, and the old cycle, against the targets;
    right: where a single edit's cycle spends its time, step by step (medians)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = results["sizes"]
    labels = [f"{size['acteurs']:,}" for size in sizes]
    fig, (latency, steps) = plt.subplots(1, 2, figsize=(11, 4.5))
    figures = (("single edit, p50", lambda s: s["edit_to_map_s"]["p50"], 1.0),
               ("single edit, p95", lambda s: s["edit_to_map_s"]["p95"], 3.0),
               ("1 % burst", lambda s: s["burst"]["commit_to_map_s"], 15.0),
               ("the every-minute cycle (without its tick)", lambda s: s["old_cycle_s"], None))
    width = 0.8 / len(figures)
    for number, (label, value, target) in enumerate(figures):
        bars = latency.bar([i + number * width for i in range(len(sizes))], [value(s) for s in sizes], width,
                           label=label)
        if target is not None:
            latency.hlines(target, -0.5, len(sizes), colors=bars.patches[0].get_facecolor(), linestyles="dashed")
    latency.set_xticks([i + width * (len(figures) - 1) / 2 for i in range(len(sizes))], labels)
    latency.set_yscale("log")
    latency.set_xlabel("actors")
    latency.set_ylabel("seconds, commit to map (dashed: targets)")
    latency.legend(fontsize=8)
    latency.grid(True, axis="y", which="both", alpha=0.3)
    names = list(dict.fromkeys(step for s in sizes for step in s["edit_cycle_steps_p50_s"]))
    bottoms = [0.0] * len(sizes)
    for name in names:
        heights = [s["edit_cycle_steps_p50_s"].get(name, 0.0) for s in sizes]
        steps.bar(labels, heights, bottom=bottoms, label=name)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    steps.set_xlabel("actors")
    steps.set_ylabel("seconds (median of the single edits' cycles)")
    steps.legend(fontsize=8)
    fig.suptitle("The resident follower: a correction's way to the map")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--summarize", type=Path, metavar="JSON", help="only the plot of a run's JSON")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--edits", type=int, default=60, help="single edits per size (default 60)")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between single edits (default 2)")
    parser.add_argument("--share", type=float, default=0.01, help="share of the actors in the burst (default 0.01)")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of each idle measurement (default 30)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes (default bench/results)")
    args = parser.parse_args()
    if args.summarize:
        plot(json.loads(args.summarize.read_text()), args.summarize.with_suffix(".png"))
        console.print(f"written {args.summarize.with_suffix('.png')}")
        return
    if min(args.sizes) < 100 or args.edits < 1 or args.every < 0 or not 0 < args.share <= 0.5 or args.idle <= 0:
        parser.error("sizes of at least 100 actors, at least one edit, a non-negative interval, a share in (0, 0.5], "
                     "idle periods above 0 s")
    stamp = datetime.now(UTC)
    args.results.mkdir(parents=True, exist_ok=True)
    output = args.results / f"{stamp:%Y-%m-%d}-follower.json"
    results: dict = {"date": stamp.isoformat(timespec="seconds"), "sizes": [],
                     "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "system": platform.platform()}}
    started = time.monotonic()
    with BenchPair() as pair:
        pinned = pin(pair)
        results["pinned"] = pinned
        reader = Reader(pair)
        reader.thread.start()
        try:
            for size in sorted(args.sizes):
                results["sizes"].append(measure_size(pair, size, args.edits, args.every, args.share, reader, pinned,
                                                     args.idle))
                results["elapsed_s"] = round(time.monotonic() - started, 1)
                output.write_text(json.dumps(results, indent=2, default=str))
        finally:
            reader.stop.set()
    large = results["sizes"][-1]
    stream, idle_p99 = large["reader_p99_stream_s"], large["reader_p99_idle_s"]
    results["targets"] = {name: {"value": value, "target": target, "acteurs": large["acteurs"]} for name, value, target in (
        ("edit_to_map_p50_s", large["edit_to_map_s"]["p50"], "<= 1"),
        ("edit_to_map_p95_s", large["edit_to_map_s"]["p95"], "<= 3"),
        ("burst_to_map_s", large["burst"]["commit_to_map_s"], "<= 15"),
        ("reader_p99_stream_over_idle", stream / idle_p99 if stream is not None and idle_p99 else None, "<= 1.5"),
        ("follower_webapp_idle_cpu_pct", large["follower_webapp_session_idle_cpu_pct"], "< 2"),
    )}
    output.write_text(json.dumps(results, indent=2, default=str))
    plot(results, output.with_suffix(".png"))
    print_targets(console, results["targets"])
    console.print(f"written {output} and its plot")


if __name__ == "__main__":
    main()
