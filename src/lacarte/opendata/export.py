"""`lacarte opendata export`: the weekly open-data file, written aside, checked, then swapped in.

1. refuse bad input first (destination, threshold, credentials, production and a local folder)
   and a warehouse whose last full build did not complete;
2. COPY the exposure model to a temporary file, in one snapshot that also counts its rows;
3. check the file: its rows against the model's, its content against the Table Schema of the
   model's contract (frictionless), and its size against the file it replaces (the same typed
   threshold as the publication, var publish_min_ratio);
4. only then put the timestamped copy, replace the stable `acteurs.csv` (an atomic rename in a
   folder, one upload in a bucket) and its `datapackage.json`, and remove old copies beyond
   var opendata_keep_files.
A failure at any point leaves the destination as it was.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from psycopg import sql

from lacarte.db import connect
from lacarte.dbt import parse_manifest
from lacarte.errors import StepFailure, UserError
from lacarte.guards import database_environment
from lacarte.opendata.descriptor import DESCRIPTOR_NAME, MODEL, STABLE_NAME, data_package, published_rows, table_schema
from lacarte.opendata.destinations import TIMESTAMPED, Destination, LocalFolder, parse_destination
from lacarte.settings import Settings

DEFAULT_DESTINATION = "opendata"
ERRORS_SHOWN = 5


@dataclass
class ExportResult:
    destination: str
    timestamped: str
    rows: int
    previous_rows: int | None
    removed: list[str]


def typed_var(settings: Settings, name: str, kind: type, low: float, high: float | None = None) -> float | int:
    """A dbt var of the project, refused unless it has the right type and range."""
    value = settings.project.dbt_vars.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not isinstance(value, int)):
        raise UserError(f"var {name} must be a {'whole number' if kind is int else 'number'}, not {value!r} "
                        "(dbt_project.yml); nothing was done")
    if value < low or (high is not None and value > high):
        raise UserError(f"var {name} must be between {low} and {high if high is not None else 'infinity'}, "
                        f"not {value!r} (dbt_project.yml); nothing was done")
    return value


def destination_of(settings: Settings, to: str | None) -> Destination:
    text = to if to is not None else settings.values.get("LACARTE_OPENDATA_DESTINATION", DEFAULT_DESTINATION)
    destination = parse_destination(text, settings.values, settings.project.root)
    if isinstance(destination, LocalFolder) and _production(settings):
        raise UserError("production publishes open data to its bucket: give --to s3://BUCKET/PREFIX (or "
                        "LACARTE_OPENDATA_DESTINATION); a local folder is refused; nothing was done")
    return destination


def _production(settings: Settings) -> bool:
    return settings.environment == "production" or database_environment(settings.database("webapp")) == "production"


def check_full_build(settings: Settings) -> None:
    """The exposure must come from a completed build: never from a failed or running full build."""
    with connect(settings.database("warehouse")) as conn:
        state = conn.execute("select to_regclass('lacarte_state.status') is not null, "
                             "to_regclass(%s) is not null", [f"exposure.{MODEL}"]).fetchone()
        if not all(state):
            raise StepFailure(f"the warehouse has no completed build of {MODEL}: run `lacarte run` first; "
                              "nothing was exported")
        owed = conn.execute("select needs_full_build from lacarte_state.status").fetchone()[0]
    if owed:
        raise StepFailure("the last full build of the warehouse did not complete (it failed, or it is running): "
                          "the open data waits for a successful `lacarte run`; nothing was exported")


def copy_model(settings: Settings, path: Path, on_progress: Callable[[int], None]) -> int:
    """COPY the model as CSV into `path` in one snapshot; return the model's row count."""
    query = sql.SQL("copy (select * from exposure.{} order by identifiant) to stdout with (format csv, header)").format(
        sql.Identifier(MODEL))
    with connect(settings.database("warehouse"), autocommit=False) as conn:
        conn.execute("set transaction isolation level repeatable read, read only")
        rows = conn.execute(sql.SQL("select count(*) from exposure.{}").format(sql.Identifier(MODEL))).fetchone()[0]
        written = 0
        with path.open("wb") as out, conn.cursor().copy(query) as copy:
            for chunk in copy:
                out.write(chunk)
                written += len(chunk)
                on_progress(written)
        conn.rollback()
    return rows


def count_records(path: Path) -> int:
    """CSV records after the header (a value may hold a newline)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def validate(path: Path, schema: dict) -> dict:
    """Frictionless validation of the file against its Table Schema; its stats when valid."""
    from frictionless import Resource, Schema

    report = Resource(path=path.name, basepath=str(path.parent), schema=Schema.from_descriptor(schema),
                      format="csv", encoding="utf-8").validate()
    if not report.valid:
        errors = report.flatten(["rowNumber", "fieldName", "type", "note"])
        shown = "; ".join(f"row {r} {f or ''} {t}: {n}".replace("  ", " ") for r, f, t, n in errors[:ERRORS_SHOWN])
        raise StepFailure(f"the open-data file does not match its Table Schema ({len(errors)} error(s): {shown}); "
                          "the published file was left as it was")
    return report.tasks[0].stats


def previous_rows(destination: Destination, workdir: Path) -> int | None:
    """How many rows the published file holds: from its descriptor, else by counting it."""
    rows = published_rows(destination.read_json(DESCRIPTOR_NAME))
    if rows is not None:
        return rows
    previous = workdir / "previous.csv"
    return count_records(previous) if destination.download(STABLE_NAME, previous) else None


def export_open_data(settings: Settings, to: str | None = None, keep: int | None = None,
                     on_message: Callable[[str], None] = lambda _m: None,
                     on_progress: Callable[[int], None] = lambda _b: None) -> ExportResult:
    """Write, check and publish the open-data file (module docstring)."""
    min_ratio = typed_var(settings, "publish_min_ratio", float, 0, 1)
    if keep is None:
        keep = typed_var(settings, "opendata_keep_files", int, 1)
    elif isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise UserError(f"--keep must be a whole number of at least 1, not {keep!r}; nothing was done")
    destination = destination_of(settings, to)
    destination.check()
    check_full_build(settings)
    schema = table_schema(parse_manifest(settings))
    timestamped = f"{datetime.now(UTC):%Y%m%d%H%M%S}.csv"
    workdir = Path(tempfile.mkdtemp(prefix="lacarte-opendata-"))
    try:
        written = workdir / STABLE_NAME
        on_message(f"writing {MODEL} aside")
        rows = copy_model(settings, written, on_progress)
        found = count_records(written)
        if found != rows:
            raise StepFailure(f"the file holds {found} rows but {MODEL} has {rows}; the published file was left as it was")
        on_message(f"validating {rows:,} rows against the Table Schema")
        stats = validate(written, schema)
        before = previous_rows(destination, workdir)
        if rows == 0:
            raise StepFailure(f"{MODEL} is empty: an empty file never replaces the open data; nothing was published")
        if before and rows < min_ratio * before:
            raise StepFailure(f"the new file has {rows:,} rows, less than publish_min_ratio ({min_ratio}) of the "
                              f"{before:,} published: refused like a shrinking publication; nothing was published")
        package = workdir / DESCRIPTOR_NAME
        package.write_text(json.dumps(data_package(schema, rows, stats["bytes"], stats["sha256"], timestamped),
                                      ensure_ascii=False, indent=2))
        on_message(f"publishing to {destination.describe()}")
        destination.put_file(timestamped, written, "text/csv")
        destination.put_file(STABLE_NAME, written, "text/csv")
        destination.put_file(DESCRIPTOR_NAME, package, "application/json")
        copies = [name for name in destination.names() if TIMESTAMPED.match(name)]
        removed = copies[:-keep] if len(copies) > keep else []
        destination.delete(removed)
        return ExportResult(destination.describe(), timestamped, rows, before, removed)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

