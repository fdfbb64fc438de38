"""Benchmarks at production scale, measured side by side in one run.

    python -m bench.run [--acteurs 1000000] [--quick] [--repeat 3]     (from the checkout)

Starts its own pair of instances (free ports, under /var/tmp), loads demo data at a tenth of
the scale and at the scale, and measures each figure several times, interleaving the variants
that are compared so that a noisy machine affects them alike. Prints a table (median, min,
max, ratio against the target) and writes bench/results/<date>-<scale>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import measures
from bench.harness import BenchPair
from lacarte.steps import step_named

# The daily job's build step, as the job runs it (the change set is its own step).
BUILD = step_named("run", "build")

console = Console()
RESULTS = Path(__file__).resolve().parent / "results"


def summarize(samples: list[float]) -> dict[str, float]:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "runs": len(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--acteurs", type=int, default=1_000_000, help="the large scale (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="50,000 actors, for trying it out")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (default 3)")
    parser.add_argument("--only-map", action="store_true", help="only the publication and the map query, at the large scale")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes (default bench/results)")
    args = parser.parse_args()
    large = 50_000 if args.quick else args.acteurs
    small = large // 10
    started = time.monotonic()
    figures: dict[str, dict] = {}

    stamp = datetime.now(UTC)
    args.results.mkdir(parents=True, exist_ok=True)
    output = args.results / f"{stamp:%Y-%m-%d}-{large}{'-map' if args.only_map else ''}.json"

    def write(ratios: dict | None = None) -> None:
        """Written after every figure: an interrupted run keeps what it measured."""
        output.write_text(json.dumps({
            "date": stamp.isoformat(timespec="seconds"), "acteurs": {"small": small, "large": large},
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
            "elapsed_s": round(time.monotonic() - started, 1), "complete": ratios is not None,
            "figures": figures, "ratios": {k: {"value": v, "target": t} for k, (v, t) in (ratios or {}).items()},
        }, indent=2))

    def record(name: str, samples: list[float], note: str = "") -> None:
        figures[name] = {**summarize(samples), "note": note}
        console.print(f"  {name}: median {figures[name]['median']:.3f} s ({len(samples)} runs)")
        write()

    with BenchPair() as pair:
        if args.only_map:
            pair.load(large)
            pair.dbt(*BUILD.dbt)
            pair.dbt("run-operation", "refresh_fdw", "--target", "webapp")
            publication = measures.publication(pair, 1)
            record("publish_full", publication["full"], "empty displayed tables filled (dbt CLI)")
            record("publish_unchanged", publication["unchanged"], "same exposures published again (dbt CLI)")
            record("publish_reader_blocked", publication["blocked"], "longest query of a concurrent reader")
            for variant, samples in measures.map_query(pair, args.repeat * 5).items():
                record(f"map_query_{variant}", samples, "actors with a proposition for one sub-category within 10 km")
            return
        console.rule(f"small scale: {small:,} actors")
        pair.load(small)
        record(f"build_{small}", measures.full_build(pair, 1), "dbt build, staging to exposure, tests included")
        record(f"sample_{small}", measures.sample_build(pair, args.repeat), "build_sample.py, same territories")

        console.rule(f"large scale: {large:,} actors")
        pair.load(large)
        pulls = measures.pull(pair, args.repeat)
        for variant, samples in pulls.items():
            record(f"pull_{variant}", samples, "all 20 source tables copied into the warehouse")
        record(f"build_{large}", measures.full_build(pair, 1), "dbt build, staging to exposure, tests included")
        refresh = measures.link_refresh(pair, args.repeat)
        record("refresh_noop", refresh["noop"], "dbt run-operation refresh_fdw, dbt start-up included")
        record("refresh_column_added", refresh["changed"], "one column added to one source table")
        record("refresh_reader_blocked", refresh["blocked"], "longest wait of a concurrent reader")
        publication = measures.publication(pair, args.repeat)
        record("publish_full", publication["full"], "empty displayed tables filled")
        record("publish_unchanged", publication["unchanged"], "same exposures published again")
        record("publish_reader_blocked", publication["blocked"], "longest wait of a concurrent reader")
        record(f"sample_{large}", measures.sample_build(pair, args.repeat), "build_sample.py, same territories")
        record("sample_naive_dump_restore", measures.dump_restore(pair, 1), "pg_dump | pg_restore of the whole webapp")
        for variant, samples in measures.map_query(pair, args.repeat * 5).items():
            note = "actors with a proposition for one sub-category within 10 km of Paris"
            if variant == "link_no_pushdown":
                note += f"; one run, stopped at {measures.NO_PUSHDOWN_TIMEOUT_S} s (then a lower bound)"
            record(f"map_query_{variant}", samples, note)

    ratios = {
        "pull_tuned_over_local": (figures["pull_tuned"]["median"] / figures["pull_local"]["median"], "<= 1.5"),
        "pull_defaults_over_tuned": (figures["pull_defaults"]["median"] / figures["pull_tuned"]["median"], "report"),
        "build_large_over_small": (figures[f"build_{large}"]["median"] / figures[f"build_{small}"]["median"], "<= 10"),
        "build_over_pull": (figures[f"build_{large}"]["median"] / figures["pull_tuned"]["median"], "<= 4"),
        "refresh_noop_seconds": (figures["refresh_noop"]["median"], "< 2 s"),
        "refresh_reader_blocked_seconds": (figures["refresh_reader_blocked"]["max"], "< 0.1 s"),
        "publish_reader_blocked_seconds": (figures["publish_reader_blocked"]["max"], "< 0.1 s"),
        "sample_large_over_small": (figures[f"sample_{large}"]["median"] / figures[f"sample_{small}"]["median"], "<= 2"),
        "dump_restore_over_sample": (figures["sample_naive_dump_restore"]["median"] / figures[f"sample_{large}"]["median"],
                                     "report"),
        "map_link_pushdown_over_local": (figures["map_query_link_pushdown"]["median"] / figures["map_query_local"]["median"],
                                         "report"),
        "map_link_no_pushdown_over_pushdown": (
            figures["map_query_link_no_pushdown"]["median"] / figures["map_query_link_pushdown"]["median"], "report"),
    }
    table = Table("figure", "median s", "min s", "max s", "runs", title=f"figures at {small:,} / {large:,} actors")
    for name, figure in figures.items():
        table.add_row(name, f"{figure['median']:.3f}", f"{figure['min']:.3f}", f"{figure['max']:.3f}", str(figure["runs"]))
    console.print(table)
    ratio_table = Table("ratio", "value", "target", title="ratios")
    for name, (value, target) in ratios.items():
        ratio_table.add_row(name, f"{value:.2f}", target)
    console.print(ratio_table)
    write(ratios)
    console.print(f"written {output}")


if __name__ == "__main__":
    main()
