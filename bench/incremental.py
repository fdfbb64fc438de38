"""The incremental pipeline against today's daily cycle, measured side by side in one run.

    python -m bench.incremental [--sizes 10000 100000 1000000] [--share 0.01] [--interval 60]

For each size: demo data, the deploy, the first full run (which fills the empty map: the full
publication), then, on the same data:
- today's daily cycle: `dbt build`, the link refresh, `publish_exposures` comparing every row;
- the new daily cycle (`lacarte run`: full build, change set computed in the warehouse);
- an incremental cycle after editing `share` of the actors with a mix of every kind of change,
  twice, and one with nothing changed;
- a fixed-rate reader of La Carte's query on the webapp: idle, during the full publication,
  during the incremental cycles (p99 latencies);
- at the largest size: the time from an edit to the map with a scheduler ticking every
  `interval` seconds, and incremental == full (every model and published table by checksum,
  and a full run after the incremental ones finding nothing to publish).
Writes bench/results/<date>-incremental.json and the plot bench/results/<date>-incremental.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from rich.console import Console

from bench.harness import BenchPair, print_targets
from bench.measures import MAP_QUERY
from lacarte.changes.pull import pull
from lacarte.edits import edit_share
from lacarte.pipeline import run_steps
from lacarte.steps import JOBS, step_named

# The daily job's build step, as the job runs it (the change set is its own step).
BUILD = step_named("run", "build")

console = Console()
RESULTS = Path(__file__).resolve().parent / "results"
READER_HZ = 4  # La Carte's query takes about 0.1 s at 1M actors: a quarter of a core at most
LOCAL_MAP_QUERY = MAP_QUERY.format(schema="public", acteur="qfdmo_displayedacteur",
                                   proposition="qfdmo_displayedpropositionservice",
                                   sous_categorie="qfdmo_displayedpropositionservice_sous_categories")

READER_TIMEOUT_MS = 30_000


class Reader:
    """La Carte's query on the webapp at a fixed rate; latencies per labelled period."""

    def __init__(self, pair: BenchPair):
        self.pair = pair
        self.label: str | None = None
        self.samples: dict[str, list[float]] = {}
        self.failures: dict[str, list[str]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        """Until stopped: a reader that loses its connection (an instance restarting, a query
        cancelled) records the failure and connects again, instead of dying silently."""
        while not self.stop.is_set():
            try:
                # A query that stalls (planned on stale statistics) counts as a sample of the
                # timeout, and a failure: the figures never leave it out.
                with self.pair.connect("webapp", options=f"-c statement_timeout={READER_TIMEOUT_MS}") as conn:
                    next_at = time.perf_counter()
                    while not self.stop.is_set():
                        label = self.label
                        next_at += 1 / READER_HZ
                        if label:  # reads only while a period is measured
                            started = time.perf_counter()
                            try:
                                conn.execute(LOCAL_MAP_QUERY).fetchall()
                            except psycopg.errors.QueryCanceled:
                                self.failures.setdefault(label, []).append(f"no answer in {READER_TIMEOUT_MS} ms")
                            self.samples.setdefault(label, []).append(time.perf_counter() - started)
                        time.sleep(max(0.0, next_at - time.perf_counter()))
            except psycopg.Error as error:
                if self.label:
                    self.failures.setdefault(self.label, []).append(str(error).splitlines()[0])
                time.sleep(1)

    def p99(self, label: str) -> float | None:
        """None when the period has no sample (the figure was not measured)."""
        values = sorted(self.samples.get(label, []))
        return values[min(len(values) - 1, int(0.99 * len(values)))] if values else None


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def webapp_transaction_seconds(pair: BenchPair) -> float:
    """How long the webapp's last publication transaction lasted (its own record)."""
    with pair.connect("webapp") as conn:
        return float(conn.execute("select extract(epoch from applied_at - started_at) from lacarte_publication.applied "
                                  "order by applied_at desc limit 1").fetchone()[0])


def checksums(pair: BenchPair) -> dict[str, str]:
    """Every model and every published table, as an order-free checksum of its rows."""
    from lacarte.manifest import published_tables

    found: dict[str, str] = {}
    digest = "select count(*) || ':' || coalesce(sum(('x' || substr(md5(r::text), 1, 15))::bit(60)::bigint), 0) from ({}) as r"
    columns: dict[str, list[str]] = {}
    with pair.connect("warehouse") as conn:
        for schema, table in conn.execute(
                "select table_schema, table_name from information_schema.tables where table_schema in "
                "('staging', 'intermediate', 'marts', 'exposure') and table_name not like 'exposure_publication%'"
                " order by 1, 2").fetchall():
            found[f"{schema}.{table}"] = conn.execute(digest.format(f'select * from "{schema}"."{table}"')).fetchone()[0]
            columns[table] = [r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
                "order by ordinal_position", [schema, table]).fetchall()]
    with pair.connect("webapp") as conn:
        for item in published_tables(pair.settings):
            select = ", ".join(f'"{c}"' for c in columns[item.model])
            found[f"webapp.{item.table}"] = conn.execute(digest.format(
                f'select {select} from public."{item.table}"')).fetchone()[0]
    return found


def job(pair: BenchPair, name: str):
    return run_steps(pair.settings, JOBS[name], quiet=True)


def measure_size(pair: BenchPair, size: int, share: float, interval: float, largest: bool, reader: Reader,
                 idle: float = 30.0) -> dict:
    figures: dict = {"acteurs": size}
    console.rule(f"{size:,} actors")
    pair.load(size)
    reader.label = f"{size}:full_publication"
    fill = job(pair, "run")  # the map is empty: its publication is a full one
    reader.label = None
    figures["first_full_run_s"] = sum(fill.seconds.values())
    figures["full_publication_webapp_s"] = webapp_transaction_seconds(pair)
    figures["reader_p99_full_publication_s"] = reader.p99(f"{size}:full_publication")
    # Today's daily cycle: build, link, publish_exposures comparing every row.
    old_steps = {
        "build": lambda: pair.dbt(*BUILD.dbt),
        "link": lambda: pair.dbt("run-operation", "refresh_fdw", "--target", "webapp", link_password_for="webapp"),
        "publish_exposures": lambda: pair.dbt("run-operation", "publish_exposures", "--target", "webapp"),
    }
    figures["todays_daily_cycle_steps_s"] = {name: timed(action) for name, action in old_steps.items()}
    figures["todays_daily_cycle_s"] = sum(figures["todays_daily_cycle_steps_s"].values())
    daily = job(pair, "run")
    figures["new_daily_cycle_s"] = sum(daily.seconds.values())
    figures["new_daily_cycle_steps_s"] = daily.seconds
    reader.label = f"{size}:idle"
    time.sleep(idle)
    reader.label = None
    figures["reader_p99_idle_s"] = reader.p99(f"{size}:idle")
    cycles = []
    for seed in (1, 2):
        edits = edit_share(pair.settings, share, seed)
        reader.label = f"{size}:incremental"
        result = job(pair, "incremental")
        reader.label = None
        with pair.connect("warehouse") as conn:
            run_row = conn.execute(
                "select changed_acteurs, affected_acteurs, change_set_rows, seconds_webapp_snapshot "
                "from lacarte_state.runs order by run_id desc limit 1").fetchone()
        cycles.append({"edits": edits, "mode": result.mode, "steps_s": result.seconds,
                       "cycle_s": sum(result.seconds.values()), "changed_acteurs": run_row[0],
                       "affected_acteurs": run_row[1], "change_set_rows": run_row[2],
                       "pull_webapp_snapshot_s": run_row[3],
                       "publish_webapp_s": webapp_transaction_seconds(pair)})
        console.print(f"  incremental cycle: {cycles[-1]['cycle_s']:.1f} s, {run_row[1]} actors, {run_row[2]} rows")
    figures["incremental_cycles"] = cycles
    figures["incremental_cycle_s"] = statistics.median(c["cycle_s"] for c in cycles)
    figures["incremental_publish_webapp_s"] = statistics.median(c["publish_webapp_s"] for c in cycles)
    figures["reader_p99_incremental_s"] = reader.p99(f"{size}:incremental")
    figures["reader_failures"] = {label: errors for label, errors in reader.failures.items()
                                  if label.startswith(f"{size}:")}
    unchanged = job(pair, "incremental")
    assert unchanged.nothing_changed, unchanged.messages
    figures["unchanged_cycle_s"] = sum(unchanged.seconds.values())
    # What an unchanged cycle asks of the webapp: the pull's read-only snapshot (a look at its change stream).
    idle_pull = pull(pair.settings, "incremental")
    assert idle_pull.mode == "none"
    figures["unchanged_webapp_s"] = idle_pull.webapp_seconds
    if largest:
        figures["edit_to_map_s"] = edit_to_map(pair, interval)
        before = checksums(pair)
        full = job(pair, "run")
        with pair.connect("warehouse") as conn:
            rows = conn.execute("select change_rows from exposure.exposure_publication_change_set").fetchone()[0]
        after = checksums(pair)
        figures["equivalence"] = {
            "full_run_after_incremental_change_rows": rows, "full_run_mode": full.mode,
            "tables_compared": len(after), "tables_differing": sorted(k for k in after if after[k] != before.get(k)),
        }
    return figures


def measure_reader(size: int, share: float) -> dict:
    """Only the map's reader, at one size, in a run of its own: during the first full
    publication, idle, during two incremental cycles after editing `share` of the actors, and
    idle again."""
    figures: dict = {"acteurs": size, "share": share}
    with BenchPair() as pair:
        reader = Reader(pair)
        reader.thread.start()
        try:
            pair.load(size)
            reader.label = "full_publication"
            job(pair, "run")
            reader.label = None
            figures["full_publication_webapp_s"] = webapp_transaction_seconds(pair)
            reader.label = "idle"
            time.sleep(30)
            reader.label = None
            cycles = []
            for seed in (1, 2):
                edit_share(pair.settings, share, seed)
                reader.label = "incremental"
                result = job(pair, "incremental")
                reader.label = None
                cycles.append({"mode": result.mode, "cycle_s": sum(result.seconds.values()),
                               "publish_webapp_s": webapp_transaction_seconds(pair)})
            reader.label = "idle_after"
            time.sleep(30)
            reader.label = None
        finally:
            reader.stop.set()
    figures["cycles"] = cycles
    for label in ("idle", "full_publication", "incremental", "idle_after"):
        figures[f"reader_p99_{label}_s"] = reader.p99(label)
        figures[f"reader_samples_{label}"] = len(reader.samples.get(label, []))
    figures["reader_failures"] = reader.failures
    # The map right after the first full publication (period "idle", the 30 s after the job)
    # against the map once everything settled (period "idle_after"): target <= 1.5.
    right_after, settled = figures["reader_p99_idle_s"], figures["reader_p99_idle_after_s"]
    figures["reader_p99_right_after_first_publication_over_settled"] = {
        "value": right_after / settled if right_after and settled else None, "target": "<= 1.5"}
    return figures


def edit_to_map(pair: BenchPair, interval: float, trials: int = 3) -> dict:
    """Edits at random moments; a scheduler starts an incremental run at every tick of
    `interval` seconds (one run at a time); the time until each edit is on the map."""
    rng = random.Random(7)
    latencies = []
    origin = time.monotonic()

    def next_tick() -> float:
        elapsed = time.monotonic() - origin
        return origin + interval * (int(elapsed // interval) + 1)

    with pair.connect("webapp") as conn:
        targets = [r[0] for r in conn.execute(
            "select identifiant_unique from qfdmo_displayedacteur where identifiant_unique in "
            "(select identifiant_unique from qfdmo_acteur) and identifiant_unique not in "
            "(select identifiant_unique from qfdmo_revisionacteur) order by md5(identifiant_unique) limit %s",
            [trials]).fetchall()]
        for index, acteur in enumerate(targets):
            time.sleep(rng.uniform(0, interval))
            name = f"latency {index}"
            conn.execute("update qfdmo_acteur set nom = %s where identifiant_unique = %s", [name, acteur])
            edited = time.monotonic()
            while True:
                time.sleep(max(0.0, next_tick() - time.monotonic()))
                job(pair, "incremental")
                if conn.execute("select nom from qfdmo_displayedacteur where identifiant_unique = %s",
                                [acteur]).fetchone() == (name,):
                    latencies.append(time.monotonic() - edited)
                    break
    return {"interval_s": interval, "latencies_s": latencies, "max_s": max(latencies),
            "mean_s": statistics.mean(latencies)}


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [f["acteurs"] for f in results["sizes"]]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, label in (("todays_daily_cycle_s", "today's daily cycle (build, link, full comparison)"),
                       ("new_daily_cycle_s", "new daily cycle (full build, change set)"),
                       ("incremental_cycle_s", f"incremental cycle ({results['share']:.0%} of actors edited)"),
                       ("unchanged_cycle_s", "incremental cycle, nothing changed")):
        ax.plot(sizes, [float(f[key]) for f in results["sizes"]], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("actors")
    ax.set_ylabel("seconds (wall clock, 2 cores)")
    ax.set_title("Cost of a cycle against the size of the webapp")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--share", type=float, default=0.01, help="share of the actors edited (default 0.01)")
    parser.add_argument("--interval", type=float, default=60.0, help="the incremental DAG's interval (seconds)")
    parser.add_argument("--summarize", type=Path, metavar="JSON", help="only the ratios and the plot of a run's JSON")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes (default bench/results)")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of the reader's idle period (default 30)")
    parser.add_argument("--reader-only", action="store_true",
                        help="only the map's reader, at the largest size: <date>-incremental-<size>-reader.json")
    args = parser.parse_args()
    if args.reader_only:
        size = max(args.sizes)
        figures = measure_reader(size, args.share)
        args.results.mkdir(parents=True, exist_ok=True)
        output = args.results / f"{datetime.now(UTC):%Y-%m-%d}-incremental-{size}-reader.json"
        output.write_text(json.dumps(figures, indent=2, default=str))
        console.print(json.dumps(figures, indent=2, default=str))
        return
    if args.summarize:
        summarize(json.loads(args.summarize.read_text()), args.summarize)
        return
    stamp = datetime.now(UTC)
    args.results.mkdir(parents=True, exist_ok=True)
    output = args.results / f"{stamp:%Y-%m-%d}-incremental.json"
    results: dict = {"date": stamp.isoformat(timespec="seconds"), "share": args.share, "sizes": [],
                     "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "system": platform.platform()}}
    started = time.monotonic()
    with BenchPair() as pair:
        reader = Reader(pair)
        reader.thread.start()
        try:
            for size in sorted(args.sizes):
                results["sizes"].append(measure_size(pair, size, args.share, args.interval,
                                                     size == max(args.sizes), reader, args.idle))
                results["elapsed_s"] = round(time.monotonic() - started, 1)
                output.write_text(json.dumps(results, indent=2, default=str))
        finally:
            reader.stop.set()
    summarize(results, output)


def summarize(results: dict, output: Path) -> None:
    """The ratios against the issue's targets, the JSON and the plot."""
    large = results["sizes"][-1]

    def ratio(numerator: str, denominator: str, target: str, **extra) -> dict:
        """At the largest size where both figures were measured (a missing figure is None)."""
        for size in reversed(results["sizes"]):
            top, bottom = size.get(numerator), size.get(denominator)
            if top is not None and bottom:
                return {"value": float(top) / float(bottom), "target": target, "acteurs": size["acteurs"], **extra}
        return {"value": None, "target": target, "note": "not measured"}

    edit_to_map = large.get("edit_to_map_s") or {}
    results["ratios"] = {
        "incremental_cycle_over_todays_daily": ratio("incremental_cycle_s", "todays_daily_cycle_s", "<= 0.15"),
        "webapp_publish_1pct_over_full_publication": ratio(
            "incremental_publish_webapp_s", "full_publication_webapp_s", "<= 0.05"),
        "webapp_unchanged_over_full_publication": ratio(
            "unchanged_webapp_s", "full_publication_webapp_s", "<= 0.01",
            note="nothing changed: the run reads the webapp's change stream and stops; no publication"),
        "reader_p99_full_publication_over_idle": ratio(
            "reader_p99_full_publication_s", "reader_p99_idle_s", "<= 1.5"),
        "reader_p99_incremental_over_idle": ratio("reader_p99_incremental_s", "reader_p99_idle_s", "<= 1.5"),
        "edit_to_map_max_seconds": {"value": edit_to_map.get("max_s"), "target": "<= 60",
                                    "acteurs": large["acteurs"]},
    }
    output.write_text(json.dumps(results, indent=2, default=str))
    plot(results, output.with_suffix(".png"))
    print_targets(console, results["ratios"])
    console.print(f"written {output} and {output.with_suffix('.png')}")

if __name__ == "__main__":
    main()
