"""The incremental cycle's SQL: compiled by dbt once per version, then run on one connection.

dbt stays the only definition of every rule: the slice is the models' own SQL as `dbt compile
--vars '{slice: true}'` renders it (each staging model reads only the rows of the actors in
lacarte_state.to_build, which it reads when it runs: macros/slice/slice.sql), the merge is
the list of statements macro merge_slice_statements renders, and the change set is the
publication models' SQL. What a compilation depends on is its key: the project's version,
the webapp's columns (a migration the link has not followed is refused, as dbt's drift guard
refuses it), the tracking read from the webapp's catalog, and, for the change set, the
warehouse's status and last full build. A process keeps what it compiled while the key holds,
and writes it beside dbt's artifacts for the next process (a restarted follower, each run of
the every-minute job), so that a cycle only runs statements:
- build_slice: each model's SELECT into slice_<schema>.<model>, in one transaction, in the
  order of the graph; the run records the slice as built (runs.sliced_at);
- merge: the merge statements, in one transaction, after checking that the slice was built
  since the last pull;
- changes: each publication model's rows replaced by its SELECT, in one transaction.
"""

from __future__ import annotations

import graphlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from lacarte.changes import state
from lacarte.changes.state import SCHEMA
from lacarte.db import connect
from lacarte.dbt import project_version, run_dbt, target_path
from lacarte.errors import StepFailure
from lacarte.settings import Settings

log = logging.getLogger(__name__)

SLICE_VARS = "{slice: true}"
SLICE_PREFIX = "slice_"
SLICE_COMMENT = "lacarte slice of compilation "
# From this many actors, each slice table is analyzed once filled, before the models that read
# it are planned (a single edit's few rows plan well without), on a small sample. Why, and what
# it costs: bench/README.md, "What led to the evening run".
SLICE_ANALYZE_ACTEURS = 1000
SLICE_STATISTICS_TARGET = 10


@dataclass(frozen=True)
class CompiledModel:
    schema: str
    name: str
    select: str  # the model's compiled SQL

    @property
    def relation(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)


@dataclass(frozen=True)
class Compiled:
    key: str
    models: tuple[CompiledModel, ...]  # in the order of the graph
    statements: tuple[str, ...] = ()  # the merge's


class CompilationFailed(StepFailure):
    """The incremental cycle's SQL could not be compiled (the message says why)."""


_COMPILED: dict[str, Any] = {}
# The compilation the last slice of this process was built with: its merge goes with it.
_BUILT: list[Compiled] = []


def compiled_models(settings: Settings, args: list[str]) -> tuple[CompiledModel, ...]:
    """The models `dbt compile <args>` selects, with their compiled SQL, in the graph's order."""
    result = run_dbt(settings, ["compile", *args], quiet=True, reuse_parse=True)
    nodes = {r.node.unique_id: r.node for r in result.result.results if r.node.resource_type == "model"}
    order = graphlib.TopologicalSorter(
        {uid: [d for d in node.depends_on.nodes if d in nodes] for uid, node in nodes.items()})
    return tuple(CompiledModel(nodes[uid].schema, nodes[uid].alias or nodes[uid].name,
                               nodes[uid].compiled_code.strip().rstrip(";"))
                 for uid in order.static_order())


def compile_inline(settings: Settings, expression: str, target: str | None = None) -> Any:
    """The JSON value a Jinja expression of the project renders (`dbt compile --inline`), on
    `target` (default: the warehouse)."""
    inline = "{% if execute %}{{ tojson(" + expression + ") }}{% endif %}"  # parsed first, without a database
    # dbt prints an inline compilation's result even when quiet: nothing on the console (the
    # errors still reach the failure's message, and dbt.log keeps everything).
    result = run_dbt(settings, ["compile", "--log-level", "none", *(["--target", target] if target else []),
                                "--inline", inline], quiet=True)
    return json.loads(result.result.results[0].node.compiled_code)


def columns_fingerprint(conn: psycopg.Connection, schemas: list[str], tables: list[str] | None = None,
                        readable_only: bool = False) -> str:
    """A fingerprint of the columns of every relation in `schemas` and of the tables `tables`
    (schema-qualified names), as `conn` sees them (only those it may read, if `readable_only`)."""
    return conn.execute(
        "select md5(coalesce(string_agg(c.oid::regclass::text || '.' || a.attname || ':' "
        "|| format_type(a.atttypid, a.atttypmod), ',' order by c.oid::regclass::text, a.attnum), '')) "
        "from pg_attribute as a join pg_class as c on c.oid = a.attrelid "
        "where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'f', 'v') "
        "and (c.relnamespace::regnamespace::text = any(%s) "
        "or c.oid = any(array(select to_regclass(t) from unnest(%s::text[]) as t))) "
        "and (not %s or has_table_privilege(c.oid, 'select'))",
        [schemas, tables or [], readable_only]).fetchone()[0]


def webapp_columns(settings: Settings) -> str:
    """A fingerprint of the webapp's tables as the link's reader sees them (a migration
    changes it)."""
    with connect(settings.database("webapp", user=settings.link_user("warehouse"))) as webapp:
        return columns_fingerprint(webapp, ["public"], readable_only=True)


def cached(settings: Settings, key: str, compile_it: Callable[[], Any]) -> Any:
    """What this process compiled for `key` (a JSON value), else what an earlier process wrote
    for it beside dbt's artifacts (a restarted follower, each run of the every-minute job),
    else compiled now and written there (aside, then renamed: a reader never sees half a file)."""
    if key in _COMPILED:
        return _COMPILED[key]
    path = compiled_path(settings, key)
    if path.is_file():
        found = json.loads(path.read_text())
    else:
        started = time.monotonic()
        found = compile_it()
        log.info("compiled %s in %.1f s", key[:12], time.monotonic() - started)
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_suffix(f".{os.getpid()}.tmp")
        aside.write_text(json.dumps(found))
        aside.replace(path)
    _COMPILED[key] = found
    return found


def _cached(settings: Settings, key: str, compile_it: Callable[[], Compiled]) -> Compiled:
    """A compiled cycle (models and statements), by cached()."""
    def as_json() -> dict[str, Any]:
        compiled = compile_it()
        return {"models": [[m.schema, m.name, m.select] for m in compiled.models],
                "statements": list(compiled.statements)}

    found = cached(settings, key, as_json)
    return Compiled(key, tuple(CompiledModel(*model) for model in found["models"]), tuple(found["statements"]))


def compiled_path(settings: Settings, key: str) -> Path:
    """Where the compiled cycle for `key` is kept: beside dbt's artifacts."""
    return target_path(settings, []).parent / "compiled-cycle" / f"{key}.json"


def compilation_key(settings: Settings, *parts: Any) -> str:
    """The key of a compilation: `parts`, the project's version and the warehouse it runs on."""
    warehouse = settings.database("warehouse")
    return hashlib.sha256(json.dumps([project_version(settings), warehouse.describe(), *parts],
                                     default=str).encode()).hexdigest()


def slice_and_merge(settings: Settings, warehouse: psycopg.Connection) -> Compiled:
    """The slice's models and the merge's statements, compiled once per key."""
    tracked = warehouse.execute(f"select coalesce(json_agg(t order by source_table), '[]')::text from {SCHEMA}.tracked as t"
                                ).fetchone()[0]
    key = compilation_key(settings, "slice", webapp_columns(settings), tracked)

    def compile_it() -> Compiled:
        plan = compile_inline(settings, "{'drift': fdw_drift(fdw_link()), 'merge': merge_slice_statements()}")
        if plan["drift"]:
            raise CompilationFailed(
                "the webapp's link differs from what a refresh would make it: " + "; ".join(plan["drift"])
                + ". Run `lacarte deploy` (refresh_fdw on both sides), then the incremental run again; nothing was built")
        models = compiled_models(settings, ["--select", "resource_type:model", "--exclude", "tag:publication",
                                            "--vars", SLICE_VARS])
        return Compiled(key, models, tuple(plan["merge"]))

    return _cached(settings, key, compile_it)


def change_set(settings: Settings, warehouse: psycopg.Connection) -> Compiled:
    """The publication models, compiled once per key (their SQL depends on the status and
    on the shapes the last full build gave the exposures)."""
    state = warehouse.execute(
        f"select (select row(needs_reconcile, publish_all)::text from {SCHEMA}.status), "
        f"(select max(run_id) from {SCHEMA}.runs where mode = 'full' and built_at is not null)").fetchone()
    key = compilation_key(settings, "changes", state)
    return _cached(settings, key, lambda: Compiled(key, compiled_models(settings, ["--select", "tag:publication"])))


def build_slice(settings: Settings) -> str:
    """Every model's rows of the actors to rebuild, into slice_<schema>, in one transaction.
    The slice's tables are created once per compilation (each slice schema's comment names
    it); the next cycles empty and fill them (a table created and dropped at every cycle
    costs more than the rows it holds: 0.15 to 0.3 s a cycle, measured)."""
    with connect(settings.database("warehouse")) as warehouse:
        compiled = slice_and_merge(settings, warehouse)
        started = time.monotonic()
        schemas = sorted({model.schema for model in compiled.models})
        for schema in schemas:
            if not schema.startswith(SLICE_PREFIX):
                raise CompilationFailed(f"the slice's model in schema {schema} is not aside (slice_*): nothing was built")
        with warehouse.transaction():
            acteurs = warehouse.execute(f"select count(*) from {SCHEMA}.to_build").fetchone()[0]
            analyzed = acteurs >= SLICE_ANALYZE_ACTEURS
            if analyzed:
                warehouse.execute(f"set local default_statistics_target = {SLICE_STATISTICS_TARGET}")
            created = not _slice_tables_of(warehouse, compiled, schemas)
            if not created:
                # Emptied by truncate, not delete: the planner then sizes each table by what it
                # holds, as after a create (a delete would leave the statistics of an earlier
                # slice: a burst's tables planned as a single edit's, or the reverse).
                warehouse.execute(sql.SQL("truncate {}").format(sql.SQL(", ").join(m.relation for m in compiled.models)))
                fill = sql.SQL("insert into {} ")
            else:
                for schema in schemas:
                    warehouse.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
                for model in compiled.models:
                    warehouse.execute(sql.SQL("drop table if exists {}").format(model.relation))
                fill = sql.SQL("create unlogged table {} as ")
            for model in compiled.models:
                warehouse.execute(fill.format(model.relation) + sql.SQL(model.select))
                if analyzed:
                    warehouse.execute(sql.SQL("analyze {}").format(model.relation))
            if created:
                for schema in schemas:
                    warehouse.execute(sql.SQL("comment on schema {} is {}").format(
                        sql.Identifier(schema), sql.Literal(f"{SLICE_COMMENT}{compiled.key}")))
            state.mark_sliced(warehouse)
        _BUILT[:] = [compiled]
    return f"slice: {len(compiled.models)} models built for {acteurs} actors in {time.monotonic() - started:.2f} s"


def _slice_tables_of(warehouse: psycopg.Connection, compiled: Compiled, schemas: list[str]) -> bool:
    """Whether the slice's tables are all there, created for `compiled`."""
    marked, present = warehouse.execute(
        "select (select count(*) from pg_namespace where nspname = any(%s) and obj_description(oid, 'pg_namespace') = %s), "
        "(select count(*) from unnest(%s::text[]) as t where to_regclass(t) is not null)",
        [schemas, f"{SLICE_COMMENT}{compiled.key}",
         [sql.Identifier(m.schema, m.name).as_string(warehouse) for m in compiled.models]]).fetchone()
    return marked == len(schemas) and present == len(compiled.models)


def merge(settings: Settings) -> str:
    """The slice's rows swapped into every model, in one transaction."""
    with connect(settings.database("warehouse")) as warehouse:
        compiled = _BUILT[0] if _BUILT else slice_and_merge(settings, warehouse)
        started = time.monotonic()
        with warehouse.transaction():
            built = warehouse.execute(f"select sliced_at is not null and sliced_at > pulled_at from {SCHEMA}.runs "
                                      "order by run_id desc limit 1").fetchone()
            if not built or not built[0]:
                raise StepFailure("no complete incremental build since the last pull: run it again (lacarte run "
                                  "--incremental); nothing was merged")
            acteurs = warehouse.execute(f"select count(*) from {SCHEMA}.to_build").fetchone()[0]
            for statement in compiled.statements:
                warehouse.execute(statement)
            state.mark_merged(warehouse)
    return (f"merge: the rows of {acteurs} actors replaced in {len(compiled.models)} models in "
            f"{time.monotonic() - started:.2f} s")


def changes(settings: Settings) -> str:
    """The change set of an incremental run: each publication model's rows replaced by what
    its compiled SQL selects now, in one transaction."""
    with connect(settings.database("warehouse")) as warehouse:
        compiled = change_set(settings, warehouse)
        started = time.monotonic()
        with warehouse.transaction():
            for model in compiled.models:
                columns = [row[0] for row in warehouse.execute(
                    "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
                    "order by ordinal_position", [model.schema, model.name])]
                if not columns:
                    raise StepFailure(f"{model.schema}.{model.name} is missing: an incremental run follows a full run "
                                      "(lacarte run); nothing was published")
                names = sql.SQL(", ").join(map(sql.Identifier, columns))
                warehouse.execute(sql.SQL("delete from {}").format(model.relation))
                warehouse.execute(sql.SQL("insert into {} ({}) select {} from (").format(model.relation, names, names)
                                  + sql.SQL(model.select) + sql.SQL(") as computed"))
        rows = warehouse.execute(sql.SQL("select count(*) from {}").format(compiled.models[0].relation)).fetchone()[0]
    return f"change set: {rows} rows in {time.monotonic() - started:.2f} s"
