"""The pull: what changed in the webapp since the last run, and which actors must be rebuilt.

Everything the webapp is asked is read-only, as the link's reader role, in one repeatable-read
snapshot, and cheap for it:
1. its activity counters (pg_stat_user_tables) say which tables changed at all: when none did
   and nothing is owed, the run stops there ("nothing changed");
2. in a table that changed, the rows written since its last scan are those whose `xmin` is at
   or after the transaction horizon recorded then (`age(xmin) <= age(horizon)`); this sees
   inserts and updates whatever touched them (bulk updates leave `modifie_le` alone);
3. when a table's delete counter moved, its rows older than that horizon and the warehouse's
   staging copy (without the recent keys) are counted by buckets of the actor column, both
   instances at once; the staging rows of the buckets that differ are looked up by key in the
   webapp, and those it lacks are the deleted rows (see Puller.deletions);
4. the actors of those rows, old (from the staging copy) and new (from the webapp), are closed
   under rule 3: their parents, old and new, and all the children of those parents.
A change to a reference table, a new version of the project's code, a first run, an unfinished
full build or a change touching more than `incremental_max_share` of the actors makes the run
full, and the run's summary says why.
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

from lacarte.changes.state import SCHEMA, ensure_state, read_status
from lacarte.changes.tracking import Tracked, read_sources, record_tracked
from lacarte.db import connect
from lacarte.dbt import parse_manifest
from lacarte.errors import UserError
from lacarte.settings import Settings
from lacarte.steps import FULL, INCREMENTAL, NOTHING

# Transaction ids are compared modulo 2^32: a horizon older than this makes the run full.
XID_SAFE_AGE = 2**31 - 10_000_000
INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})
# Connections reading the warehouse's staging copy while the webapp is read.
STAGING_READERS = 2


@dataclass(frozen=True)
class Buckets:
    """The SQL that counts a table's rows by buckets of its acteur column (see Puller.deletions)."""

    bucket: sql.SQL  # of the acteur column
    checksum: sql.SQL  # of the keys
    staging_column: str
    key_type: str  # of the key in staging


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
    """model name -> its `meta.acteur` (a column, {via, column, key}, or false)."""
    rules = {}
    for node in manifest.nodes.values():
        if node.resource_type == "model":
            meta = node.config.meta or {}
            rules[node.alias or node.name] = meta.get("acteur", (meta.get("publish") or {}).get("acteur_column"))
    return rules


class Puller:
    def __init__(self, settings: Settings, job: str, full_reason: str | None = None, reconcile: bool = False):
        self.settings = settings
        self.job = job
        self.full_reason = full_reason
        self.reconcile = reconcile
        self.vars = settings.project.dbt_vars
        reader = self.vars["fdw_links"]["warehouse"]["remote_user"]
        self.webapp_database = settings.database("webapp", user=reader)

    # -- the two sides ------------------------------------------------------------------------
    def run(self) -> Pull:
        started = time.monotonic()
        manifest = parse_manifest(self.settings)
        self.acteur_rules = model_acteur_rules(manifest)
        new_hash = code_hash(manifest, self.vars)
        self.readers = threading.local()
        with (connect(self.warehouse_database()) as warehouse, connect(self.webapp_database) as webapp,
              ExitStack() as self.reader_connections,
              ThreadPoolExecutor(max_workers=STAGING_READERS, thread_name_prefix="staging") as self.warehouse_queue):
            webapp.execute("begin isolation level repeatable read read only")
            opened = time.monotonic()
            warehouse.execute("begin")
            ensure_state(warehouse)
            status = read_status(warehouse, lock=True)
            sources = read_sources(manifest, self.vars, webapp)
            record_tracked(warehouse, sources)
            self.webapp, self.warehouse, self.sources = webapp, warehouse, sources
            self.same_text_hash = self.text_hashes_agree()
            counters, horizon, next_xid, track_counts = self.remote_activity(sources.all_tables)
            marks = self.watermarks()
            changed = sorted(t for t in sources.all_tables if marks.get(t, {}).get("counters") != counters.get(t))
            reason = self.full_run_reason(status, new_hash, track_counts, marks, horizon, next_xid, changed)
            if reason:
                self.reconcile = self.reconcile or self.reconciliation_due(status)
                pull = self.record_full(reason, changed, counters, horizon, new_hash)
            else:
                pull = self.record_incremental(status, changed, counters, horizon, marks)
            webapp.execute("commit")
            pull.webapp_seconds = time.monotonic() - opened
            warehouse.execute("commit")
        pull.seconds = time.monotonic() - started
        if pull.run_id is not None:
            with connect(self.warehouse_database()) as warehouse:
                warehouse.execute(f"update {SCHEMA}.runs set seconds_pull = %s, seconds_webapp_snapshot = %s "
                                  "where run_id = %s", [pull.seconds, pull.webapp_seconds, pull.run_id])
        return pull

    def warehouse_database(self):
        return self.settings.database("warehouse")

    def remote_activity(self, tables: Iterable[str]) -> tuple[dict[str, tuple[int, int, int]], str, int, str]:
        rows = self.webapp.execute(
            "select relname, n_tup_ins, n_tup_upd, n_tup_del from pg_stat_user_tables "
            "where schemaname = 'public' and relname = any(%s)", [list(tables)]).fetchall()
        counters = {name: (ins, upd, dele) for name, ins, upd, dele in rows}
        horizon, next_xid, track_counts = self.webapp.execute(
            "select pg_snapshot_xmin(pg_current_snapshot())::text, pg_snapshot_xmax(pg_current_snapshot())::text, "
            "current_setting('track_counts')").fetchone()
        return counters, horizon, int(next_xid), track_counts

    def text_hashes_agree(self) -> bool:
        """hashtext is fast but internal: both instances must compute it alike (else md5)."""
        probe = "select hashtext('lacarte'), hashtext('Île-d''Arz, 56840 ∑'), hashtext('')"
        return self.webapp.execute(probe).fetchone() == self.warehouse.execute(probe).fetchone()

    def watermarks(self) -> dict[str, dict[str, Any]]:
        rows = self.warehouse.execute(
            f"select source_table, xid_horizon::text, n_tup_ins, n_tup_upd, n_tup_del from {SCHEMA}.watermarks").fetchall()
        return {t: {"horizon": h, "counters": (i, u, d)} for t, h, i, u, d in rows}

    # -- the decision -------------------------------------------------------------------------
    def full_run_reason(self, status, new_hash, track_counts, marks, horizon, next_xid, changed) -> str | None:
        if self.full_reason:
            return self.full_reason
        if status.needs_full_build:
            return "no complete full build is recorded (first run, or the last full build did not finish)"
        if status.code_hash != new_hash:
            return "the project's code changed since the last full build (models, seeds, macros or vars)"
        if track_counts != "on":
            return "track_counts is off on the webapp: its changes cannot be detected"
        missing = [t for t in self.sources.all_tables if t not in marks]
        if missing:
            return f"no watermark for {', '.join(missing)}"
        for table in changed:
            if table in self.sources.reference:
                return f"reference table {table} changed"
        oldest = min(int(m["horizon"]) for t, m in marks.items() if t in self.sources.all_tables)
        if oldest > int(horizon):
            return "the webapp's transaction counter went back (a restored database?)"
        if next_xid - oldest > XID_SAFE_AGE:
            return "the last scan is too many transactions ago"
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

    def record_full(self, reason, changed, counters, horizon, new_hash) -> Pull:
        run_id = self.new_run(FULL, reason, 0, 0)
        self.warehouse.execute(f"delete from {SCHEMA}.watermarks")
        self.write_watermarks(self.sources.all_tables, counters, horizon)
        self.warehouse.execute(f"delete from {SCHEMA}.to_build")
        self.warehouse.execute(f"delete from {SCHEMA}.to_publish")
        self.warehouse.execute(
            f"update {SCHEMA}.status set needs_full_build = true, publish_all = true, code_hash = %s, "
            f"checked_at = clock_timestamp()"
            + (", needs_reconcile = true, reconcile_reason = coalesce(reconcile_reason, %s)" if self.reconcile else ""),
            [new_hash, "the periodic full reconciliation"] if self.reconcile else [new_hash])
        return Pull(run_id, FULL, reason, changed)

    def record_incremental(self, status, changed, counters, horizon, marks) -> Pull:
        pending_build = self.warehouse.execute(f"select count(*) from {SCHEMA}.to_build").fetchone()[0]
        pending_publish = self.warehouse.execute(f"select count(*) from {SCHEMA}.to_publish").fetchone()[0]
        owed = pending_publish or status.publish_all or status.needs_reconcile
        if not changed and not pending_build and not owed:
            self.warehouse.execute(f"update {SCHEMA}.status set checked_at = clock_timestamp()")
            return Pull(None, NOTHING, "no webapp table's counters moved, nothing owed")
        direct: set[str] = set()
        old_owners: list[Future] = []
        recent_keys: dict[str, list[str]] = {}
        for table in changed:
            tracked = self.sources.tracked[table]
            rows = self.recent_rows(tracked, marks[table]["horizon"])
            recent_keys[table] = [key for key, _value in rows]
            old_owners.append(self.on_warehouse(self.staging_owners, tracked, recent_keys[table]))
            direct |= self.remote_owners(tracked, [value for _key, value in rows])
        deleting = [t for t in changed if counters.get(t, (0, 0, 0))[2] != marks[t]["counters"][2]]
        direct |= self.deletions(deleting, marks, recent_keys)
        for owners in old_owners:
            direct |= owners.result()
        affected = self.close_under_parents(direct)
        total = self.acteur_count()
        share = float(self.vars.get("incremental_max_share", 0.2))
        if len(affected) + pending_build > share * max(total, 1):
            reason = (f"{len(affected) + pending_build} actors to rebuild, more than {share:.0%} of {total}: "
                      "a full build is faster")
            return self.record_full(reason, changed, counters, horizon, read_status(self.warehouse).code_hash)
        reason = "pending actors of an earlier run" if not changed else "changes detected"
        if not changed and not pending_build:
            reason = "nothing changed; publishing what is owed"
        run_id = self.new_run(INCREMENTAL, reason, len(direct), len(affected))
        self.write_watermarks(changed, counters, horizon)
        for table in ("to_build", "to_publish"):
            self.warehouse.execute(
                sql.SQL("insert into {}.{} (identifiant_unique, run_id) select unnest(%s::text[]), %s "
                        "on conflict (identifiant_unique) do update set run_id = excluded.run_id").format(
                    sql.Identifier(SCHEMA), sql.Identifier(table)), [sorted(affected), run_id])
        self.warehouse.execute(f"analyze {SCHEMA}.to_build, {SCHEMA}.to_publish")
        self.warehouse.execute(f"update {SCHEMA}.status set checked_at = clock_timestamp()")
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

    def new_run(self, mode: str, reason: str, changed: int, affected: int) -> int:
        return self.warehouse.execute(
            f"insert into {SCHEMA}.runs (job, mode, reason, changed_acteurs, affected_acteurs) "
            "values (%s, %s, %s, %s, %s) returning run_id", [self.job, mode, reason, changed, affected]).fetchone()[0]

    def write_watermarks(self, tables, counters, horizon) -> None:
        with self.warehouse.cursor() as cursor:
            cursor.executemany(
                f"insert into {SCHEMA}.watermarks (source_table, xid_horizon, n_tup_ins, n_tup_upd, n_tup_del) "
                "values (%s, %s::xid8, %s, %s, %s) on conflict (source_table) do update set "
                "xid_horizon = excluded.xid_horizon, n_tup_ins = excluded.n_tup_ins, n_tup_upd = excluded.n_tup_upd, "
                "n_tup_del = excluded.n_tup_del, scanned_at = clock_timestamp()",
                [(t, horizon, *counters.get(t, (0, 0, 0))) for t in tables])

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

    def staging_column(self, tracked: Tracked) -> str:
        """The staging model's column holding what the webapp's `acteur_column` holds (the
        actor, or for a table that follows another, the foreign key)."""
        rule = self.acteur_rules.get(tracked.staging_model)
        return rule["column"] if isinstance(rule, dict) else rule

    def recent_rows(self, tracked: Tracked, horizon: str) -> list[tuple[str, str | None]]:
        """(key, acteur column) of the webapp rows written since `horizon`, inserts and updates
        alike, whatever wrote them."""
        query = sql.SQL("select t.{}::text, t.{}::text from public.{} as t where age(t.xmin) <= age(xid(%s::xid8))")
        return self.webapp.execute(query.format(sql.Identifier(tracked.key_column), sql.Identifier(tracked.acteur_column),
                                                sql.Identifier(tracked.table)), [horizon]).fetchall()

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

    def bucket_sql(self, tracked: Tracked) -> Buckets:
        """How both sides count a table's rows in 65,536 buckets of its acteur column: integers
        by their value, text by a hash both instances compute alike."""
        column = self.staging_column(tracked)
        integer_group = INTEGER_TYPES.issuperset({
            self.column_type(self.webapp, "public", tracked.table, tracked.acteur_column),
            self.column_type(self.warehouse, "staging", tracked.staging_model, column)})
        key_type = self.column_type(self.warehouse, "staging", tracked.staging_model, tracked.key_column)
        text_hash = "hashtext({}::text)" if self.same_text_hash else "('x' || left(md5({}::text), 8))::bit(32)::int"
        return Buckets(
            bucket=sql.SQL("mod({}, 65536)" if integer_group else f"({text_hash} & 65535)"),
            checksum=sql.SQL("sum({}::bigint)" if key_type in INTEGER_TYPES else f"sum({text_hash}::bigint)"),
            staging_column=column, key_type=key_type)

    def bucket_counts(self, tracked: Tracked, plan: Buckets, side: str, condition: sql.Composable, params) -> dict:
        """bucket -> (rows, checksum of their keys) of one side's rows matching `condition`."""
        conn, source, alias, group = (
            (self.webapp, sql.Identifier("public", tracked.table), "t", tracked.acteur_column) if side == "webapp" else
            (self.reader(), sql.Identifier("staging", tracked.staging_model), "s", plan.staging_column))
        query = sql.SQL("select {} as b, count(*), {} from {} as {} where {} group by 1").format(
            plan.bucket.format(sql.Identifier(alias, group)), plan.checksum.format(sql.Identifier(alias, tracked.key_column)),
            source, sql.Identifier(alias), condition)
        return {b: (n, c) for b, n, c in conn.execute(query, params).fetchall()}

    def not_recent(self, tracked: Tracked, plan: Buckets) -> sql.Composable:
        return sql.SQL("not (s.{} = any(%s::{}[]))").format(sql.Identifier(tracked.key_column), sql.SQL(plan.key_type))

    def deletions(self, tables: list[str], marks: dict, recent_keys: dict[str, list[str]]) -> set[str]:
        """Actors of the rows the webapp no longer has, in the tables whose delete counter moved.

        The webapp's rows older than their table's horizon are, by the watermarks, all in the
        staging copy unchanged; the staging rows without a recent key are those same rows plus
        the deleted ones. Both sides count them in buckets of the acteur column, at the same
        time; the staging rows of the buckets that differ are then looked up by primary key in
        the webapp, and those it lacks are the deleted rows, whose actors the staging copy gives."""
        plans = {t: self.bucket_sql(self.sources.tracked[t]) for t in tables}
        before = {t: self.on_warehouse(self.bucket_counts, self.sources.tracked[t], plans[t], "warehouse",
                                       self.not_recent(self.sources.tracked[t], plans[t]), [recent_keys[t]])
                  for t in tables}
        now = {t: self.bucket_counts(self.sources.tracked[t], plans[t], "webapp", sql.SQL("age(t.xmin) > age(xid(%s::xid8))"),
                                     [marks[t]["horizon"]]) for t in tables}
        acteurs: set[str] = set()
        for table in tables:
            tracked, plan, then = self.sources.tracked[table], plans[table], before[table].result()
            differing = sorted(b for b in set(now[table]) | set(then) if now[table].get(b) != then.get(b))
            if not differing:
                continue
            candidates = self.on_warehouse(lambda t=tracked, p=plan, d=differing, k=recent_keys[table]: [
                r[0] for r in self.reader().execute(
                    sql.SQL("select s.{}::text from staging.{} as s where {} = any(%s::int[]) and {}").format(
                        sql.Identifier(t.key_column), sql.Identifier(t.staging_model),
                        p.bucket.format(sql.Identifier("s", p.staging_column)), self.not_recent(t, p)),
                    [d, k]).fetchall()]).result()
            remote_key_type = self.column_type(self.webapp, "public", tracked.table, tracked.key_column)
            still_there = {r[0] for r in self.webapp.execute(
                sql.SQL("select t.{}::text from public.{} as t where t.{} = any(%s::{}[])").format(
                    sql.Identifier(tracked.key_column), sql.Identifier(tracked.table), sql.Identifier(tracked.key_column),
                    sql.SQL(remote_key_type)), [candidates]).fetchall()}
            gone = [key for key in candidates if key not in still_there]
            acteurs |= self.on_warehouse(self.staging_owners, tracked, gone).result()
        return acteurs

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

