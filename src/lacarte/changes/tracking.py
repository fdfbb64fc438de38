"""Which webapp tables the incremental pipeline watches, and how each names its actor.

The tables are the dbt sources of the webapp; their rule in var `webapp_tables` says how a
row belongs to an actor: `acteurs` (a column holds the actor id) or `follow` (a foreign key
points at a row of an `acteurs` table, read from the webapp's live catalog). Any other source
is reference data: when it changes, the run is full. Each watched table's staging model (the
model that selects from the source) holds what the warehouse last saw of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from lacarte.errors import UserError
from lacarte.sample.rules import TableRules

SOURCE_NAME = "webapp"


@dataclass(frozen=True)
class Tracked:
    """A webapp table whose rows belong to actors."""

    table: str
    key_column: str  # its primary key
    acteur_column: str  # the column naming the actor, or (follow) the foreign key to `via_table`
    staging_model: str
    via_table: str | None = None
    via_key: str | None = None
    via_acteur_column: str | None = None


@dataclass(frozen=True)
class Sources:
    tracked: dict[str, Tracked]
    reference: tuple[str, ...]  # sources whose change makes the run full

    @property
    def all_tables(self) -> tuple[str, ...]:
        return tuple(sorted([*self.tracked, *self.reference]))


def staging_models(manifest: Any) -> dict[str, str]:
    """source table -> the name of the staging model that selects from it."""
    by_unique_id = {s.unique_id: s.identifier for s in manifest.sources.values() if s.source_name == SOURCE_NAME}
    found: dict[str, str] = {}
    for node in manifest.nodes.values():
        if node.resource_type != "model":
            continue
        for dependency in node.depends_on.nodes:
            if dependency in by_unique_id:
                found[by_unique_id[dependency]] = node.alias or node.name
    return found


def _catalog(conn: psycopg.Connection, tables: list[str]) -> tuple[dict[str, str], dict[str, list[tuple[str, str, str]]]]:
    """Primary keys (single column) and single-column foreign keys of `tables` in public."""
    keys = dict(conn.execute(
        """
        select c.relname, a.attname
        from pg_index as i
        join pg_class as c on c.oid = i.indrelid
        join pg_namespace as n on n.oid = c.relnamespace and n.nspname = 'public'
        join pg_attribute as a on a.attrelid = c.oid and a.attnum = i.indkey[0]
        where i.indisprimary and i.indnkeyatts = 1 and c.relname = any(%s)
        """, [tables]).fetchall())
    foreign: dict[str, list[tuple[str, str, str]]] = {}
    for table, column, parent, parent_column in conn.execute(
        """
        select c.relname, a.attname, p.relname, pa.attname
        from pg_constraint as k
        join pg_class as c on c.oid = k.conrelid
        join pg_namespace as n on n.oid = c.relnamespace and n.nspname = 'public'
        join pg_class as p on p.oid = k.confrelid
        join pg_attribute as a on a.attrelid = k.conrelid and a.attnum = k.conkey[1]
        join pg_attribute as pa on pa.attrelid = k.confrelid and pa.attnum = k.confkey[1]
        where k.contype = 'f' and cardinality(k.conkey) = 1 and c.relname = any(%s)
        order by 1, 2
        """, [tables]).fetchall():
        foreign.setdefault(table, []).append((column, parent, parent_column))
    return keys, foreign


def read_sources(manifest: Any, dbt_vars: dict[str, Any], webapp: psycopg.Connection) -> Sources:
    """The watched and the reference sources, from the graph, the rules and the live catalog."""
    rules = TableRules(dbt_vars["webapp_tables"])
    staging = staging_models(manifest)
    tables = sorted(staging)
    keys, foreign = _catalog(webapp, tables)
    tracked: dict[str, Tracked] = {}
    reference: list[str] = []
    for table in tables:
        rule = rules.rule_of(table)
        kind = rule.kind if rule else None
        if kind not in ("acteurs", "follow"):
            reference.append(table)
            continue
        if table not in keys:
            raise UserError(f"webapp table {table} has no single-column primary key, so incremental runs cannot track "
                            "its rows: give it one, or classify it as reference data (rule whole) in var webapp_tables")
        if kind == "acteurs":
            tracked[table] = Tracked(table, keys[table], rule.column, staging[table])
            continue
        parents = [(column, parent, parent_column) for column, parent, parent_column in foreign.get(table, [])
                   if (rules.rule_of(parent) or None) and rules.rule_of(parent).kind == "acteurs"]
        if len(parents) != 1:
            raise UserError(f"webapp table {table} (rule follow) needs exactly one foreign key to a table of rule "
                            f"acteurs, found {len(parents)}: fix its rule in var webapp_tables (dbt_project.yml)")
        column, parent, parent_column = parents[0]
        tracked[table] = Tracked(table, keys[table], column, staging[table], via_table=parent, via_key=parent_column,
                                 via_acteur_column=rules.rule_of(parent).column)
    return Sources(tracked, tuple(reference))


def record_tracked(conn: psycopg.Connection, sources: Sources) -> None:
    """Keep the tracking in the warehouse: the slice filters of the staging models read it."""
    conn.execute("delete from lacarte_state.tracked")
    with conn.cursor() as cursor:
        cursor.executemany(
            "insert into lacarte_state.tracked values (%s, %s, %s, %s, %s, %s, %s)",
            [(t.table, t.key_column, t.acteur_column, t.via_table, t.via_key, t.via_acteur_column, t.staging_model)
             for t in sources.tracked.values()])
