"""The pull: what changed in the webapp since the last run, and which actors must be rebuilt.

Everything the webapp is asked is read-only, as the link's reader role, in one repeatable-read
snapshot, and cheap for it:
1. its activity counters (pg_stat_user_tables) say which tables changed at all: when none did
   and nothing is owed, the run stops there ("nothing changed");
2. in a table that changed, the rows written since its last scan are those whose `xmin` is at
   or after the transaction horizon recorded then (`age(xmin) <= age(horizon)`); this sees
   inserts and updates whatever touched them (bulk updates leave `modifie_le` alone);
3. when a table's delete counter moved, the keys it holds are compared with the warehouse's
   copy by buckets (count and checksum of md5 of the key), then key by key in the buckets
   that differ;
4. the actors of those rows, old (from the staging copy) and new (from the webapp), are closed
   under rule 3: their parents, old and new, and all the children of those parents.
A change to a reference table, a new version of the project's code, a first run, an unfinished
full build or a change touching more than `incremental_max_share` of the actors makes the run
full, and the run's summary says why.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

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
        with connect(self.warehouse_database()) as warehouse, connect(self.webapp_database) as webapp:
            webapp.execute("begin isolation level repeatable read read only")
            opened = time.monotonic()
            warehouse.execute("begin")
            ensure_state(warehouse)
            status = read_status(warehouse, lock=True)
            sources = read_sources(manifest, self.vars, webapp)
            record_tracked(warehouse, sources)
            self.webapp, self.warehouse, self.sources = webapp, warehouse, sources
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
        for table in changed:
            tracked = self.sources.tracked[table]
            direct |= self.changed_acteurs(tracked, marks[table]["horizon"])
            if counters.get(table, (0, 0, 0))[2] != marks[table]["counters"][2]:
                direct |= self.deleted_acteurs(tracked)
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
        """Actors the warehouse knows: the union of the tables whose rows are actors."""
        selects = [sql.SQL("select s.{}::text from staging.{} as s").format(
            sql.Identifier(t.key_column), sql.Identifier(t.staging_model))
            for t in self.sources.tracked.values() if t.key_column == t.acteur_column and not t.via_table]
        return self.warehouse.execute(sql.SQL("select count(*) from ({}) as a").format(
            sql.SQL(" union ").join(selects))).fetchone()[0]

    def key_type(self, model: str, column: str) -> sql.Composable:
        found = self.warehouse.execute(
            "select format_type(atttypid, atttypmod) from pg_attribute "
            "where attrelid = to_regclass(format('staging.%%I', %s::text)) and attname = %s and not attisdropped",
            [model, column]).fetchone()
        if not found:
            raise UserError(f"staging.{model} has no column {column} (the primary key of its webapp table): "
                            "staging models keep the source's key")
        return sql.SQL(found[0])

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
    def remote_rows(self, tracked: Tracked, condition: sql.Composable, params: list[Any]) -> list[tuple[str, str]]:
        """(key, actor) of the webapp rows of `tracked` matching `condition` (on alias t)."""
        if tracked.via_table:
            owner = sql.SQL("p.{}::text").format(sql.Identifier(tracked.via_acteur_column))
            join = sql.SQL("left join public.{} as p on p.{} = t.{}").format(
                sql.Identifier(tracked.via_table), sql.Identifier(tracked.via_key), sql.Identifier(tracked.acteur_column))
        else:
            owner = sql.SQL("t.{}::text").format(sql.Identifier(tracked.acteur_column))
            join = sql.SQL("")
        query = sql.SQL("select t.{}::text, {} from public.{} as t {} where {}").format(
            sql.Identifier(tracked.key_column), owner, sql.Identifier(tracked.table), join, condition)
        return self.webapp.execute(query, params).fetchall()

    def staging_rows(self, tracked: Tracked, condition: sql.Composable, params: list[Any]) -> list[tuple[str, str]]:
        """(key, actor) of the warehouse's staging copy of `tracked` matching `condition` (alias s)."""
        rule = self.acteur_rules.get(tracked.staging_model)
        if isinstance(rule, dict):
            owner = sql.SQL("v.{}::text").format(sql.Identifier(self.acteur_rules[rule["via"]]))
            join = sql.SQL("left join staging.{} as v on v.{} = s.{}").format(
                sql.Identifier(rule["via"]), sql.Identifier(rule["key"]), sql.Identifier(rule["column"]))
        else:
            owner = sql.SQL("s.{}::text").format(sql.Identifier(rule))
            join = sql.SQL("")
        query = sql.SQL("select s.{}::text, {} from staging.{} as s {} where {}").format(
            sql.Identifier(tracked.key_column), owner, sql.Identifier(tracked.staging_model), join, condition)
        return self.warehouse.execute(query, params).fetchall()

    def changed_acteurs(self, tracked: Tracked, horizon: str) -> set[str]:
        """Actors of the rows written since `horizon` (new actor from the webapp, old from staging)."""
        rows = self.remote_rows(tracked, sql.SQL("age(t.xmin) <= age(xid(%s::xid8))"), [horizon])
        keys = [key for key, _owner in rows]
        typed = sql.SQL("s.{} = any(%s::{}[])").format(
            sql.Identifier(tracked.key_column), self.key_type(tracked.staging_model, tracked.key_column))
        old = self.staging_rows(tracked, typed, [keys]) if keys else []
        return {owner for _key, owner in [*rows, *old] if owner is not None}

    def deleted_acteurs(self, tracked: Tracked) -> set[str]:
        """Actors of the rows the webapp no longer has: 65,536 buckets of keys compared by count
        and checksum on both sides (integer keys by their value, text keys by their md5), then
        the keys of the buckets that differ."""
        integer = self.key_type(tracked.staging_model, tracked.key_column).as_string(None) in (
            "smallint", "integer", "bigint")
        if integer:
            bucket, checksum = "mod({alias}.{key}, 65536)", "sum({alias}.{key})"
        else:
            bucket = "left(md5({alias}.{key}::text), 4)"
            checksum = "sum(('x' || substr(md5({alias}.{key}::text), 5, 8))::bit(32)::bigint)"
        key = sql.Identifier(tracked.key_column)

        def buckets(conn, schema: str, table: str, alias: str) -> dict:
            query = sql.SQL(f"select {bucket} as b, count(*), {checksum} from {{schema}}.{{table}} as {{alias}} group by 1")
            return {b: (n, s) for b, n, s in conn.execute(query.format(
                alias=sql.Identifier(alias), key=key, schema=sql.Identifier(schema), table=sql.Identifier(table)))}

        remote = buckets(self.webapp, "public", tracked.table, "t")
        local = buckets(self.warehouse, "staging", tracked.staging_model, "s")
        differing = sorted(b for b in set(remote) | set(local) if remote.get(b) != local.get(b))
        if not differing:
            return set()
        in_buckets = sql.SQL(f"{bucket} = any(%s)")
        now = dict(self.remote_rows(tracked, in_buckets.format(alias=sql.Identifier("t"), key=key), [differing]))
        before = dict(self.staging_rows(tracked, in_buckets.format(alias=sql.Identifier("s"), key=key), [differing]))
        owners = {before[k] for k in before if k not in now or now[k] != before[k]}
        owners |= {now[k] for k in now if k not in before}
        return {o for o in owners if o is not None}

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
        parents = set(ids)
        for conn, schema, name in ((self.webapp, "public", table), (self.warehouse, "staging", staging)):
            parents |= {r[0] for r in conn.execute(sql.SQL(parents_query).format(
                col=column, schema=sql.Identifier(schema), table=name), [ids]).fetchall()}
        affected = set(parents)
        for conn, schema, name in ((self.webapp, "public", table), (self.warehouse, "staging", staging)):
            affected |= {r[0] for r in conn.execute(sql.SQL(children_query).format(
                col=column, schema=sql.Identifier(schema), table=name), [sorted(parents)]).fetchall()}
        return affected


def pull(settings: Settings, job: str, full_reason: str | None = None, reconcile: bool = False) -> Pull:
    return Puller(settings, job, full_reason, reconcile).run()

