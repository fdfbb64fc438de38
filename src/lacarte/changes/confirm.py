"""What the webapp really has: the confirmation of a publication, and the record of a full build.

The webapp records each change set it applies (schema lacarte_publication, table applied, in
the same transaction as the change itself). The confirmation reads that record as the link's
reader role and, when the webapp applied the warehouse's current change set, folds it into the
warehouse's copy of the published tables (lacarte_state.published__<table>): the next change
set is computed against that. A record the warehouse does not know (a restored webapp, a lost
publication) is never skipped: the next publication is a full reconciliation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from lacarte.changes import state
from lacarte.changes.pull import model_acteur_rules
from lacarte.changes.state import SCHEMA, ensure_state, read_status
from lacarte.db import connect
from lacarte.dbt import parse_manifest
from lacarte.manifest import Published, published_from_manifest, published_tables
from lacarte.settings import Settings

LEDGER = "lacarte_publication.applied"
CHANGES = "exposure_publication_changes"
CHANGE_SET = "exposure_publication_change_set"


@dataclass(frozen=True)
class Applied:
    change_set_id: int
    kind: str


@dataclass(frozen=True)
class ChangeSet:
    change_set_id: int
    base_change_set: int | None
    scope: str
    covered_run: int | None


def state_table(table: str) -> sql.Identifier:
    return sql.Identifier(SCHEMA, f"published__{table}")


def last_applied(settings: Settings) -> Applied | None:
    with connect(settings.database("webapp", user=settings.link_user("warehouse"))) as webapp:
        if not webapp.execute("select to_regclass(%s) is not null", [LEDGER]).fetchone()[0]:
            return None
        row = webapp.execute(f"select change_set_id, kind from {LEDGER} order by applied_at desc, change_set_id desc "
                             "limit 1").fetchone()
    return Applied(*row) if row else None


def current_change_set(conn: psycopg.Connection) -> ChangeSet | None:
    if not conn.execute("select to_regclass(%s) is not null", [f"exposure.{CHANGE_SET}"]).fetchone()[0]:
        return None
    row = conn.execute(f"select change_set_id, base_change_set, scope, covered_run from exposure.{CHANGE_SET}").fetchone()
    return ChangeSet(*row) if row else None


def confirm(settings: Settings) -> str:
    """Fold the change set the webapp applied into the warehouse's copy; say what happened."""
    applied = last_applied(settings)
    with connect(settings.database("warehouse")) as conn, conn.transaction():
        ensure_state(conn)
        status = read_status(conn, lock=True)
        change_set = current_change_set(conn)
        if applied is None:
            if status.confirmed_change_set is None:
                return "no publication recorded by the webapp yet"
            return _needs_reconcile(conn, f"the webapp has no record of change set {status.confirmed_change_set}")
        if applied.change_set_id == status.confirmed_change_set:
            return f"the webapp holds change set {applied.change_set_id}, as confirmed"
        if change_set is None or applied.change_set_id != change_set.change_set_id:
            return _needs_reconcile(conn, f"the webapp applied change set {applied.change_set_id}, which the warehouse "
                                          "did not prepare (restored webapp?)")
        if applied.kind == "reconcile":
            manifest = parse_manifest(settings)
            _copy_exposures(conn, published_from_manifest(manifest), model_acteur_rules(manifest))
        else:
            _fold(conn, published_tables(settings))
        rows = conn.execute(f"select count(*) from exposure.{CHANGES}").fetchone()[0]
        state.mark_published(conn, applied.change_set_id, change_set.covered_run, rows,
                             every_actor=change_set.scope == "all", reconciled=applied.kind == "reconcile")
        return (f"change set {applied.change_set_id} ({applied.kind}, {rows} rows) is confirmed: the warehouse's copy "
                "of the published tables follows it")


def _needs_reconcile(conn: psycopg.Connection, reason: str) -> str:
    state.owe_reconciliation(conn, reason)
    return f"{reason}: the next publication reconciles every table"


def _copy_exposures(conn: psycopg.Connection, published: list[Published], acteur_rules: dict[str, Any]) -> None:
    """After a full reconciliation the webapp holds the exposures: copy them, keyed, with the
    column naming the actor indexed (the change set reads a few actors' rows by it)."""
    for item in published:
        target = state_table(item.table)
        conn.execute(sql.SQL("drop table if exists {}").format(target))
        conn.execute(sql.SQL("create table {} as select * from {}").format(
            target, sql.Identifier(item.schema, item.model)))
        conn.execute(sql.SQL("alter table {} add primary key ({})").format(
            target, sql.SQL(", ").join(map(sql.Identifier, item.key))))
        rule = acteur_rules.get(item.model)
        if rule:
            conn.execute(sql.SQL("create index on {} ({})").format(
                target, sql.Identifier(rule["column"] if isinstance(rule, dict) else rule)))


def _fold(conn: psycopg.Connection, published: list[Published]) -> None:
    """state := state - the change set's keys + its inserted and updated rows."""
    for item in published:
        target = state_table(item.table)
        conn.execute(sql.SQL(
            "with changed as (select r.* from exposure.{changes} as c "
            "cross join lateral jsonb_populate_record(null::{target}, c.key_data) as r where c.published_table = %s) "
            "delete from {target} as s using changed where {match}").format(
            target=target, changes=sql.Identifier(CHANGES),
            match=sql.SQL(" and ").join(sql.SQL("s.{k} = changed.{k}").format(k=sql.Identifier(k)) for k in item.key)),
            [item.table])
        conn.execute(sql.SQL(
            "insert into {target} select r.* from exposure.{changes} as c "
            "cross join lateral jsonb_populate_record(null::{target}, c.row_data) as r "
            "where c.published_table = %s and c.op in ('insert', 'update')").format(
                target=target, changes=sql.Identifier(CHANGES)),
            [item.table])


def mark_built(settings: Settings) -> str:
    with connect(settings.database("warehouse")) as conn, conn.transaction():
        run_id = state.mark_full_build(conn)
    return f"full build of run {run_id if run_id is not None else '?'} recorded"
