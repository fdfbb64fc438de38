"""The warehouse's record of the incremental pipeline (schema lacarte_state).

- runs: one row per pull (its mode, why, how many actors it touched, when it was built and
  published);
- stream: the position in the webapp's change stream up to which the warehouse has recorded
  what the changes owe (lacarte.changes.stream writes it);
- tracked: how each webapp table names its rows and their actor (read from the live catalog);
- to_build / to_publish: the actors a build, then a publication, still owes;
- job_lock: the job that holds the warehouse (lacarte.changes.lock);
- status: one row: the code the warehouse was built with, whether a full build or a full
  reconciliation is owed, the last change set the webapp confirmed;
- published__<table>: what each webapp table holds, as of the confirmed change set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

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
