"""What the incremental pipeline did lately, and how fresh the map is (for `lacarte status`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from lacarte.changes.state import SCHEMA, read_status


@dataclass(frozen=True)
class RunRow:
    run_id: int
    job: str
    mode: str
    reason: str
    changed_acteurs: int
    affected_acteurs: int
    pulled_at: datetime
    built_at: datetime | None
    published_at: datetime | None
    change_set_rows: int | None


@dataclass(frozen=True)
class Freshness:
    as_of: datetime | None  # the webapp's changes up to then are on the map
    owed: list[str]  # what a next run still owes


def recent_runs(conn: psycopg.Connection, limit: int = 5) -> list[RunRow]:
    if not conn.execute("select to_regclass(%s) is not null", [f"{SCHEMA}.runs"]).fetchone()[0]:
        return []
    rows = conn.execute(
        f"select run_id, job, mode, reason, changed_acteurs, affected_acteurs, pulled_at, built_at, published_at, "
        f"change_set_rows from {SCHEMA}.runs order by run_id desc limit %s", [limit]).fetchall()
    return [RunRow(*row) for row in rows]


def freshness(conn: psycopg.Connection) -> Freshness | None:
    if not conn.execute("select to_regclass(%s) is not null", [f"{SCHEMA}.status"]).fetchone()[0]:
        return None
    status = read_status(conn)
    owed = []
    pending = conn.execute(f"select (select count(*) from {SCHEMA}.to_build), (select count(*) from {SCHEMA}.to_publish)"
                           ).fetchone()
    if status.needs_full_build:
        owed.append("a full build")
    if pending[0]:
        owed.append(f"{pending[0]} actors to rebuild")
    if pending[1] or status.publish_all:
        owed.append("a publication" + (f" of {pending[1]} actors" if pending[1] else ""))
    if status.needs_reconcile:
        owed.append(f"a full reconciliation ({status.reconcile_reason})")
    last_published = conn.execute(f"select max(pulled_at) from {SCHEMA}.runs where published_at is not null"
                                  ).fetchone()[0]
    as_of = last_published if owed else (status.checked_at or last_published)
    return Freshness(as_of, owed)
