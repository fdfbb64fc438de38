"""The pull: what changed in the webapp since the last run, and which actors must be rebuilt.

The webapp's change stream (lacarte.changes.stream) says which rows of the tracked tables
changed, up to a position in its WAL read at the start of the pull; the webapp is then asked
only by key, read-only, as the link's reader role:
1. the changes committed before that position give the changed rows: their keys, their actor
   column (new rows) and their old keys (updated and deleted rows). When there are none and
   nothing is owed, the run stops there ("nothing changed");
2. the actors of those rows, new (from the change, through the parent row in the webapp for a
   table that follows another) and old (the warehouse's staging copy, by key), are closed
   under rule 3: their parents, old and new, and all the children of those parents;
3. the warehouse records them (to_build, to_publish) with the position, then the stream is
   advanced to it. A pull that dies in between reads the same changes again.
A change to a reference table, an emptied table, a new version of the project's code, a first
run, an unfinished full build, a slot lost or recreated, or a change touching more than
`incremental_max_share` of the actors makes the run full, and the run's summary says why.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from lacarte.changes import state
from lacarte.changes.state import SCHEMA, ensure_state, read_status
from lacarte.changes.stream import (
    Change,
    ChangeStream,
    keys_of,
    open_stream,
    record_position,
    recorded_position,
    stream_columns,
)
from lacarte.changes.tracking import Tracked, read_sources, record_tracked
from lacarte.db import connect
from lacarte.dbt import parse_manifest
from lacarte.errors import UserError
from lacarte.settings import Settings
from lacarte.steps import FULL, INCREMENTAL, NOTHING

# Connections reading the warehouse's staging copy while the webapp is read.
STAGING_READERS = 2


@dataclass
class Pull:
    """What a pull decided."""

    run_id: int | None
    mode: str  # none | incremental | full
    reason: str
    changed_tables: list[str] = field(default_factory=list)
    changed_acteurs: int = 0
    affected_acteurs: int = 0
    seconds: float = 0.0
    webapp_seconds: float = 0.0  # how long the pull's read-only snapshot stayed open on the webapp

    def summary(self) -> str:
        if self.mode == NOTHING:
            return f"nothing changed ({self.reason})"
        tables = f"; tables changed: {', '.join(self.changed_tables)}" if self.changed_tables else ""
        if self.mode == FULL:
            return f"full run: {self.reason}{tables}"
        return (f"incremental run {self.run_id}: {self.changed_acteurs} actors changed, {self.affected_acteurs} "
                f"to rebuild with their parents and children ({self.reason}){tables}")


def code_hash(manifest: Any, dbt_vars: dict[str, Any]) -> str:
    """A fingerprint of what the build computes with: models, seeds, macros, variables."""
    parts = sorted(f"{n.unique_id}:{n.checksum.checksum}" for n in manifest.nodes.values()
                   if n.resource_type in ("model", "seed", "snapshot"))
    parts += sorted(f"{m.unique_id}:{hashlib.sha256(m.macro_sql.encode()).hexdigest()}"
                    for m in manifest.macros.values() if m.package_name == manifest.metadata.project_name)
    parts.append(json.dumps(dbt_vars, sort_keys=True, default=str))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def model_acteur_rules(manifest: Any) -> dict[str, Any]:
    """model name -> its `meta.acteur` (a column, {via, column, key}, or false), which every
    model sets (tests/test_incremental.py checks it; merge_slice refuses a model without it)."""
    return {node.alias or node.name: (node.config.meta or {}).get("acteur")
            for node in manifest.nodes.values() if node.resource_type == "model"}


class Puller:
    def __init__(self, settings: Settings, job: str, full_reason: str | None = None, reconcile: bool = False):
        self.settings = settings
        self.job = job
        self.full_reason = full_reason
        self.reconcile = reconcile
        self.vars = settings.project.dbt_vars
        self.webapp_database = settings.database("webapp", user=settings.link_user("warehouse"))

    # -- the two sides ------------------------------------------------------------------------
    def run(self) -> Pull:
        started = time.monotonic()
        manifest = parse_manifest(self.settings)
        self.acteur_rules = model_acteur_rules(manifest)
        new_hash = code_hash(manifest, self.vars)
        self.readers = threading.local()
        with (open_stream(self.settings) as stream, connect(self.warehouse_database()) as warehouse,
              connect(self.webapp_database) as webapp, ExitStack() as self.reader_connections,
              ThreadPoolExecutor(max_workers=STAGING_READERS, thread_name_prefix="staging") as self.warehouse_queue):
            slot_reason = self.slot_reason(stream, warehouse)
            start = stream.recreate() if slot_reason else None  # before anything is read: every later commit is in it
            upto = stream.position()
            if start is not None:  # the slot may start past the flushed position
                upto = warehouse.execute("select greatest(%s::pg_lsn, %s::pg_lsn)::text", [upto, start]).fetchone()[0]
            webapp.execute("begin isolation level repeatable read read only")
            opened = time.monotonic()
            warehouse.execute("begin")
            ensure_state(warehouse)
            status = read_status(warehouse, lock=True)
            sources = read_sources(manifest, self.vars, webapp)
            record_tracked(warehouse, sources)
            self.webapp, self.warehouse, self.sources = webapp, warehouse, sources
            reason = slot_reason or self.full_run_reason(status, new_hash)
            changes = [] if reason else stream.read(upto, stream_columns(sources))
            changed = sorted({change.table for change in changes})
            reason = reason or self.reason_in(changes)
            if reason:
                self.reconcile = self.reconcile or self.reconciliation_due(status)
                pull = self.record_full(reason, changed, new_hash)
            else:
                pull = self.record_incremental(status, changes, changed)
            record_position(warehouse, stream.slot, upto)
            webapp.execute("commit")
            pull.webapp_seconds = time.monotonic() - opened
            warehouse.execute("commit")
            # Only now may the stream forget them: the warehouse holds what they owe.
            stream.advance(upto)
        pull.seconds = time.monotonic() - started
        if pull.run_id is not None:
            with connect(self.warehouse_database()) as warehouse:
                state.record_pull_seconds(warehouse, pull.run_id, pull.seconds, pull.webapp_seconds)
        return pull

    def warehouse_database(self):
        return self.settings.database("warehouse")

    # -- the decision -------------------------------------------------------------------------
    def slot_reason(self, stream: ChangeStream, warehouse: psycopg.Connection) -> str | None:
        """Why the stream cannot say what changed since the warehouse's last pull (the slot is
        then recreated and the run is full)."""
        slot = stream.state()
        if not slot.exists:
            return f"the change stream's slot {stream.slot} does not exist on the webapp (first run, or it was dropped)"
        if slot.lost:
            return (f"the change stream's slot {stream.slot} was invalidated: the webapp kept more WAL for it than "
                    "its max_slot_wal_keep_size allows (no run read it for too long)")
        recorded = recorded_position(warehouse, stream.slot)
        if recorded is None:
            return f"the warehouse has no position in the change stream's slot {stream.slot}"
        if warehouse.execute("select %s::pg_lsn > %s::pg_lsn", [slot.confirmed, recorded]).fetchone()[0]:
            return (f"the change stream's slot {stream.slot} starts at {slot.confirmed}, after the position the "
                    f"warehouse recorded ({recorded}): the changes in between are unknown (was it recreated?)")
        return None

    def full_run_reason(self, status, new_hash) -> str | None:
        if self.full_reason:
            return self.full_reason
        if status.needs_full_build:
            return "no complete full build is recorded (first run, or the last full build did not finish)"
        if status.code_hash != new_hash:
            return "the project's code changed since the last full build (models, seeds, macros or vars)"
        return None

    def reason_in(self, changes: list[Change]) -> str | None:
        for change in changes:
            if change.table in self.sources.reference:
                return f"reference table {change.table} changed"
            if change.action == "T":
                return f"table {change.table} was emptied (truncate)"
        return None

    def reconciliation_due(self, status) -> bool:
        """The daily run reconciles when the last full reconciliation is older than
        var reconcile_every_days."""
        if self.job != "run":
            return False
        days = float(self.vars.get("reconcile_every_days", 7))
        return status.reconciled_at is None or self.warehouse.execute(
            "select clock_timestamp() - %s > make_interval(secs => %s)", [status.reconciled_at, days * 86400]
        ).fetchone()[0]

    def record_full(self, reason, changed, new_hash) -> Pull:
        run_id = state.new_run(self.warehouse, self.job, FULL, reason)
        state.owe_full_build(self.warehouse, new_hash, "the periodic full reconciliation" if self.reconcile else None)
        return Pull(run_id, FULL, reason, changed)

    def record_incremental(self, status, changes: list[Change], changed: list[str]) -> Pull:
        pending_build = self.warehouse.execute(f"select count(*) from {SCHEMA}.to_build").fetchone()[0]
        pending_publish = self.warehouse.execute(f"select count(*) from {SCHEMA}.to_publish").fetchone()[0]
        owed = pending_publish or status.publish_all or status.needs_reconcile
        if not changes and not pending_build and not owed:
            state.mark_checked(self.warehouse)
            return Pull(None, NOTHING, "no change in the webapp's stream, nothing owed")
        direct: set[str] = set()
        old_owners: list[Future] = []
        for table, keys in keys_of(changes).items():
            old_owners.append(self.on_warehouse(self.staging_owners, self.sources.tracked[table], sorted(keys)))
        for table in changed:
            values = [change.acteur for change in changes if change.table == table and change.key is not None]
            direct |= self.remote_owners(self.sources.tracked[table], values)
        for owners in old_owners:
            direct |= owners.result()
        affected = self.close_under_parents(direct)
        total = self.acteur_count()
        share = float(self.vars.get("incremental_max_share", 0.2))
        if len(affected) + pending_build > share * max(total, 1):
            reason = (f"{len(affected) + pending_build} actors to rebuild, more than {share:.0%} of {total}: "
                      "a full build is faster")
            return self.record_full(reason, changed, read_status(self.warehouse).code_hash)
        reason = "pending actors of an earlier run" if not changes else "changes in the webapp's stream"
        if not changes and not pending_build:
            reason = "nothing changed; publishing what is owed"
        first_change = min((c.committed_at for c in changes if c.committed_at), default=None)
        run_id = state.new_run(self.warehouse, self.job, INCREMENTAL, reason, len(direct), len(affected), first_change)
        state.owe_actors(self.warehouse, sorted(affected), run_id)
        state.mark_checked(self.warehouse)
        return Pull(run_id, INCREMENTAL, reason, changed, len(direct), len(affected))

    def acteur_count(self) -> int:
        """At least how many actors the warehouse knows: the largest of the staging tables whose
        rows are actors, as counted by the statistics each build leaves (a threshold needs no
        exact count, and counting a million keys took seconds of the pull)."""
        models = [t.staging_model for t in self.sources.tracked.values()
                  if t.key_column == t.acteur_column and not t.via_table]
        return int(self.warehouse.execute(
            "select coalesce(max(greatest(reltuples, 0)), 0) from pg_class where oid = any(array("
            "select to_regclass(format('staging.%%I', m)) from unnest(%s::text[]) as m))", [models]).fetchone()[0])

    # -- which actors ---------------------------------------------------------------------------
    def on_warehouse(self, function, *args) -> Future:
        """Run a query on the warehouse's staging copy beside the webapp's (the two instances
        work at the same time), on one of the readers' own connections (see `reader`)."""
        return self.warehouse_queue.submit(function, *args)

    def reader(self) -> psycopg.Connection:
        """The calling worker's connection to the warehouse. The staging copy does not change
        during a pull (the job lock), so the readers need not share the pull's transaction."""
        conn = getattr(self.readers, "conn", None)
        if conn is None:
            conn = self.readers.conn = self.reader_connections.enter_context(connect(self.warehouse_database()))
        return conn

    def column_type(self, conn, schema: str, table: str, column: str) -> str:
        found = conn.execute(
            "select format_type(atttypid, atttypmod) from pg_attribute where attrelid = "
            "to_regclass(format('%%I.%%I', %s::text, %s::text)) and attname = %s and not attisdropped",
            [schema, table, column]).fetchone()
        if not found:
            raise UserError(f"{schema}.{table} has no column {column}: staging models keep their source's primary key "
                            "and the column naming the actor (meta.acteur)")
        return found[0]

    def remote_owners(self, tracked: Tracked, values: Iterable[str | None]) -> set[str]:
        """The actors the webapp's rows name (a table that follows another: through its parent row)."""
        present = sorted({v for v in values if v is not None})
        if not tracked.via_table or not present:
            return set(present)
        key_type = self.column_type(self.webapp, "public", tracked.via_table, tracked.via_key)
        query = sql.SQL("select p.{}::text from public.{} as p where p.{} = any(%s::{}[])").format(
            sql.Identifier(tracked.via_acteur_column), sql.Identifier(tracked.via_table), sql.Identifier(tracked.via_key),
            sql.SQL(key_type))
        return {r[0] for r in self.webapp.execute(query, [present]).fetchall() if r[0] is not None}

    def staging_owners(self, tracked: Tracked, keys: list[str]) -> set[str]:
        """The actors the warehouse's staging copy gives the rows of these keys (their old actors)."""
        if not keys:
            return set()
        rule = self.acteur_rules.get(tracked.staging_model)
        if isinstance(rule, dict):
            owner = sql.SQL("v.{}::text").format(sql.Identifier(self.acteur_rules[rule["via"]]))
            join = sql.SQL("join staging.{} as v on v.{} = s.{}").format(
                sql.Identifier(rule["via"]), sql.Identifier(rule["key"]), sql.Identifier(rule["column"]))
        else:
            owner = sql.SQL("s.{}::text").format(sql.Identifier(rule))
            join = sql.SQL("")
        key_type = self.column_type(self.reader(), "staging", tracked.staging_model, tracked.key_column)
        query = sql.SQL("select {} from staging.{} as s {} where s.{} = any(%s::{}[])").format(
            owner, sql.Identifier(tracked.staging_model), join, sql.Identifier(tracked.key_column), sql.SQL(key_type))
        return {r[0] for r in self.reader().execute(query, [keys]).fetchall() if r[0] is not None}

    def close_under_parents(self, acteurs: set[str]) -> set[str]:
        """Rule 3: with each actor, its parents (old and new) and all their children (old and new)."""
        if not acteurs:
            return set()
        link = self.vars["acteur_parents"]
        staging = sql.Identifier(self.sources.tracked[link["table"]].staging_model)
        table, column = sql.Identifier(link["table"]), sql.Identifier(link["column"])
        ids = sorted(acteurs)
        parents_query = "select {col}::text from {schema}.{table} where identifiant_unique = any(%s) and {col} is not null"
        children_query = "select identifiant_unique::text from {schema}.{table} where {col} = any(%s)"

        def on_both(query: str, values: list[str]) -> set[str]:
            def found(conn: psycopg.Connection | None, schema: str, name: sql.Identifier) -> set[str]:
                return {r[0] for r in (conn or self.reader()).execute(sql.SQL(query).format(
                    col=column, schema=sql.Identifier(schema), table=name), [values]).fetchall()}
            before = self.on_warehouse(found, None, "staging", staging)
            return found(self.webapp, "public", table) | before.result()

        parents = set(ids) | on_both(parents_query, ids)
        return parents | on_both(children_query, sorted(parents))


def pull(settings: Settings, job: str, full_reason: str | None = None, reconcile: bool = False) -> Pull:
    return Puller(settings, job, full_reason, reconcile).run()

