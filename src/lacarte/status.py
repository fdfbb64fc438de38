"""What runs and what it holds: the local instances, and the rows of the tables the
publication fills (read from the models), in the webapp and in the sample."""

from __future__ import annotations

from datetime import UTC

from psycopg import sql
from rich.console import Console
from rich.table import Table

from lacarte.db import connect
from lacarte.errors import UserError
from lacarte.manifest import published_tables
from lacarte.settings import Settings


def count_rows(settings: Settings, dbname: str, tables: list[str]) -> dict[str, int | None]:
    try:
        with connect(settings.database("webapp", dbname=dbname)) as conn:
            return {t: conn.execute(sql.SQL("select count(*) from public.{}").format(sql.Identifier(t))).fetchone()[0]
                    for t in tables}
    except UserError:
        return dict.fromkeys(tables)


def print_status(settings: Settings, console: Console) -> None:
    from lacarte.instances.cluster import Instances

    instances = Instances(settings)
    if instances.root.exists():
        table = Table("instance", "state", "address", "data", title="local PostgreSQL instances")
        for row in instances.status():
            table.add_row(row["instance"], row["state"], row["address"], row["data"])
        console.print(table)
    tables = [p.table for p in published_tables(settings)]
    webapp = count_rows(settings, settings.get("WEBAPP_DB_NAME"), ["qfdmo_acteur", "qfdmo_revisionacteur", *tables])
    sample = count_rows(settings, settings.get("WEBAPP_SAMPLE_DB_NAME"), ["qfdmo_acteur", "qfdmo_revisionacteur", *tables])
    table = Table("table", "webapp", "webapp_sample", title="rows (actors, and the tables the publication fills)")
    for name in webapp:
        table.add_row(name, *(f"{v:,}" if v is not None else "-" for v in (webapp[name], sample[name])))
    console.print(table)
    print_runs(settings, console)
    console.print("analysts: psql on the warehouse as role analyst (schemas marts, exposure, reference)")


def print_runs(settings: Settings, console: Console) -> None:
    """The last runs of the pipeline and how fresh the map is."""
    from datetime import datetime

    from lacarte.changes.report import freshness, recent_runs

    try:
        with connect(settings.database("warehouse")) as conn:
            runs, fresh = recent_runs(conn), freshness(conn)
    except UserError as error:
        console.print(f"runs: the warehouse is unreachable ({error})")
        return
    if not runs or fresh is None:
        console.print("runs: none recorded yet (lacarte run)")
        return
    table = Table("run", "job: mode", "pulled", "actors changed/rebuilt", "published", "rows sent",
                  title="last runs (lacarte_state.runs)", caption=f"run {runs[0].run_id}: {runs[0].reason}")
    for run in runs:
        table.add_row(str(run.run_id), f"{run.job}: {run.mode}", f"{run.pulled_at:%m-%d %H:%M:%S}",
                      f"{run.changed_acteurs} / {run.affected_acteurs}",
                      f"{run.published_at:%H:%M:%S}" if run.published_at else "-",
                      "-" if run.change_set_rows is None else f"{run.change_set_rows:,}")
    console.print(table)
    if fresh.as_of:
        age = (datetime.now(UTC) - fresh.as_of).total_seconds()
        console.print(f"map up to date as of {fresh.as_of:%Y-%m-%d %H:%M:%S %Z} ({age:.0f} s ago)")
    if fresh.owed:
        console.print(f"owed by the next run: {', '.join(fresh.owed)}")
    print_lock(settings, console)
    print_follower(settings, console)


def print_follower(settings: Settings, console: Console) -> None:
    """The follower's heartbeat, its last cycle and latency, and the change stream's lag."""
    from lacarte.changes.follow import follower_status
    from lacarte.changes.stream import stream_lag

    found = follower_status(settings)
    if found is None:
        console.print("follower: none has run (lacarte follow); the every-minute DAG carries the changes")
    else:
        console.print(f"follower: {found}")
    lag = stream_lag(settings)
    if lag is not None:
        console.print(f"change stream: {lag}")


def print_lock(settings: Settings, console: Console) -> None:
    """Which job holds the warehouse, and since when."""
    from lacarte.changes.lock import holder

    held = holder(settings)
    if held is None:
        console.print("warehouse lock: free")
    else:
        job, since, age = held
        console.print(f"warehouse lock: held by job {job} since {since:%Y-%m-%d %H:%M:%S %Z} "
                      f"({age.total_seconds():.0f} s); other jobs wait or exit 75 until it ends")
