"""The warehouse's record of the incremental pipeline (schema lacarte_state).

- runs: one row per pull (its mode, why, how many actors it touched, when it was built and
  published);
- stream: the position in the webapp's change stream up to which the warehouse has recorded
  what the changes owe (lacarte.changes.stream writes it);
- tracked: how each webapp table names its rows and their actor (read from the live catalog
  by lacarte.changes.tracking, which writes it);
- to_build / to_publish: the actors a build, then a publication, still owes;
- job_lock: the job that holds the warehouse (lacarte.changes.lock);
- status: one row: the code the warehouse was built with, whether a full build or a full
  reconciliation is owed, the last change set the webapp confirmed;
- published__<table>: what each webapp table holds, as of the confirmed change set.

This module is the only writer of runs, to_build, to_publish and status (the functions at
its end); each other table names its writer above (published__<table>: lacarte.changes.confirm,
the follower's heartbeat: lacarte.changes.follow), and dbt reads them all as sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

SCHEMA = "lacarte_state"

DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.runs (
    run_id bigint generated always as identity primary key,
    job text not null,
    mode text not null check (mode in ('none', 'incremental', 'full')),
    reason text not null,
    changed_acteurs bigint not null default 0,
    affected_acteurs bigint not null default 0,
    pulled_at timestamptz not null default clock_timestamp(),
    seconds_pull double precision,
    seconds_webapp_snapshot double precision,
    sliced_at timestamptz,
    built_at timestamptz,
    published_at timestamptz,
    change_set_rows bigint
);
drop table if exists {SCHEMA}.watermarks;
create table if not exists {SCHEMA}.stream (
    slot text primary key,
    position pg_lsn not null,
    recorded_at timestamptz not null default clock_timestamp()
);
alter table {SCHEMA}.runs add column if not exists first_change_at timestamptz;
create table if not exists {SCHEMA}.tracked (
    source_table text primary key,
    key_column text not null,
    acteur_column text not null,
    via_table text,
    via_key text,
    via_acteur_column text,
    staging_model text not null
);
create table if not exists {SCHEMA}.to_build (
    identifiant_unique text primary key,
    run_id bigint not null
);
create table if not exists {SCHEMA}.to_publish (
    identifiant_unique text primary key,
    run_id bigint not null
);
create table if not exists {SCHEMA}.status (
    singleton boolean primary key default true check (singleton),
    code_hash text,
    needs_full_build boolean not null default true,
    publish_all boolean not null default true,
    needs_reconcile boolean not null default true,
    reconcile_reason text default 'no publication recorded yet',
    confirmed_change_set bigint,
    checked_at timestamptz,
    reconciled_at timestamptz
);
create table if not exists {SCHEMA}.job_lock (
    singleton boolean primary key default true check (singleton),
    job text not null,
    acquired_at timestamptz not null
);
alter table {SCHEMA}.job_lock add column if not exists holder_pid integer;
insert into {SCHEMA}.status (singleton) values (true) on conflict do nothing;
"""


@dataclass
class Status:
    code_hash: str | None
    needs_full_build: bool
    publish_all: bool
    needs_reconcile: bool
    reconcile_reason: str | None
    confirmed_change_set: int | None
    checked_at: datetime | None = None
    reconciled_at: datetime | None = None


def ensure_state(conn: psycopg.Connection) -> None:
    """Create the schema and its tables if missing (idempotent)."""
    conn.execute(DDL)


def read_status(conn: psycopg.Connection, lock: bool = False) -> Status:
    row = conn.execute(
        "select code_hash, needs_full_build, publish_all, needs_reconcile, reconcile_reason, confirmed_change_set, "
        f"checked_at, reconciled_at "
        f"from {SCHEMA}.status{' for update' if lock else ''}").fetchone()
    return Status(*row)


# -- the writes: this module is the only writer of runs, to_build, to_publish and status -------
def new_run(conn: psycopg.Connection, job: str, mode: str, reason: str, changed: int = 0, affected: int = 0,
            first_change: datetime | None = None) -> int:
    """A row in runs; `first_change`: when the oldest change it reads was committed in the
    webapp (the follower's latency runs from there to the publication)."""
    return conn.execute(
        f"insert into {SCHEMA}.runs (job, mode, reason, changed_acteurs, affected_acteurs, first_change_at) "
        "values (%s, %s, %s, %s, %s, %s) returning run_id", [job, mode, reason, changed, affected, first_change]
    ).fetchone()[0]


def record_pull_seconds(conn: psycopg.Connection, run_id: int, seconds: float, webapp_seconds: float | None) -> None:
    conn.execute(f"update {SCHEMA}.runs set seconds_pull = %s, seconds_webapp_snapshot = %s where run_id = %s",
                 [seconds, webapp_seconds, run_id])


def owe_full_build(conn: psycopg.Connection, code_hash: str, reconcile_reason: str | None = None) -> None:
    """Nothing owed actor by actor: a full build and the publication of every actor are
    (and a full reconciliation, with `reconcile_reason` unless one is already owed)."""
    conn.execute(f"delete from {SCHEMA}.to_build")
    conn.execute(f"delete from {SCHEMA}.to_publish")
    conn.execute(
        f"update {SCHEMA}.status set needs_full_build = true, publish_all = true, code_hash = %s, "
        "checked_at = clock_timestamp()"
        + (", needs_reconcile = true, reconcile_reason = coalesce(reconcile_reason, %s)" if reconcile_reason else ""),
        [code_hash, reconcile_reason] if reconcile_reason else [code_hash])


def owe_actors(conn: psycopg.Connection, acteurs: list[str], run_id: int) -> None:
    """The actors run `run_id` must build, then publish."""
    for table in ("to_build", "to_publish"):
        conn.execute(sql.SQL("insert into {}.{} (identifiant_unique, run_id) select unnest(%s::text[]), %s "
                             "on conflict (identifiant_unique) do update set run_id = excluded.run_id").format(
            sql.Identifier(SCHEMA), sql.Identifier(table)), [acteurs, run_id])
    conn.execute(f"analyze {SCHEMA}.to_build, {SCHEMA}.to_publish")


def mark_checked(conn: psycopg.Connection) -> None:
    conn.execute(f"update {SCHEMA}.status set checked_at = clock_timestamp()")


def mark_sliced(conn: psycopg.Connection) -> None:
    """The last run's slice is built (the merge refuses a slice older than the last pull)."""
    conn.execute(f"update {SCHEMA}.runs set sliced_at = clock_timestamp() where run_id = (select max(run_id) "
                 f"from {SCHEMA}.runs)")


def mark_merged(conn: psycopg.Connection) -> None:
    """The last run's actors are merged into every model: built, nothing left to build (in
    the merge's transaction)."""
    conn.execute(f"update {SCHEMA}.runs set built_at = clock_timestamp() where run_id = (select max(run_id) "
                 f"from {SCHEMA}.runs)")
    conn.execute(f"delete from {SCHEMA}.to_build")


def mark_full_build(conn: psycopg.Connection) -> int | None:
    """The full build the last run owed is done; its run id."""
    conn.execute(f"update {SCHEMA}.status set needs_full_build = false")
    row = conn.execute(f"update {SCHEMA}.runs set built_at = clock_timestamp() where run_id = "
                       f"(select max(run_id) from {SCHEMA}.runs) returning run_id").fetchone()
    return row[0] if row else None


def mark_published(conn: psycopg.Connection, change_set_id: int, covered_run: int | None, rows: int,
                   every_actor: bool, reconciled: bool) -> None:
    """The webapp confirmed change set `change_set_id`: what it covered is no longer owed."""
    if reconciled:
        conn.execute(f"update {SCHEMA}.status set needs_reconcile = false, reconcile_reason = null, "
                     "reconciled_at = clock_timestamp()")
    conn.execute(f"update {SCHEMA}.status set confirmed_change_set = %s"
                 + (", publish_all = false" if every_actor else ""), [change_set_id])
    conn.execute(f"delete from {SCHEMA}.to_publish where run_id <= %s", [covered_run or 0])
    conn.execute(f"update {SCHEMA}.runs set published_at = clock_timestamp(), change_set_rows = %s "
                 "where run_id = %s", [rows, change_set_id])


def owe_reconciliation(conn: psycopg.Connection, reason: str) -> None:
    conn.execute(f"update {SCHEMA}.status set needs_reconcile = true, reconcile_reason = %s", [reason])
