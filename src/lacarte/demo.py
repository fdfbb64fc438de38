"""Deterministic demo data for the webapp, generated server-side (set-based SQL, no row loop)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from importlib import resources

from psycopg import sql

from lacarte.db import connect
from lacarte.demo_content import write_content, write_operational
from lacarte.guards import refuse_production
from lacarte.settings import Settings

# The webapp's own tables: every table of `public` but the extensions' (PostGIS's spatial_ref_sys).
OWN_TABLES_SQL = """
    select c.relname from pg_class as c
    where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
        and not exists (select from pg_depend as d where d.classid = 'pg_class'::regclass
                        and d.objid = c.oid and d.deptype = 'e')
    order by 1"""


def _sql(name: str) -> str:
    return resources.files("lacarte").joinpath(f"sql/{name}").read_text()


def demo_steps(acteurs: int, seed: int) -> list[tuple[str, str]]:
    """The generation as (label, SQL) steps, in order."""
    text = _sql("demo_actors.sql").format(n=int(acteurs), seed=int(seed))
    steps = []
    for chunk in re.split(r"^-- step: ", text, flags=re.M)[1:]:
        label, body = chunk.split("\n", 1)
        steps.append((label.strip(), body))
    return steps


def generate(settings: Settings, acteurs: int, seed: int,
             on_step: Callable[[str, float], None] | None = None) -> dict[str, int]:
    """Replace the webapp's content with demo data; return rows per table."""
    if not isinstance(acteurs, int) or isinstance(acteurs, bool) or acteurs < 1:
        raise ValueError("acteurs must be a positive integer")
    database = settings.database("webapp", user="admin")
    refuse_production(settings, "loading demo data (it replaces every row of the webapp)", [database])
    with connect(database, autocommit=False) as conn:
        # Generated rows are consistent by construction: skip the per-row FK triggers.
        conn.execute("set local session_replication_role = replica")
        conn.execute("set local work_mem = '256MB'")
        tables = [row[0] for row in conn.execute(OWN_TABLES_SQL)]
        conn.execute(sql.SQL("truncate {} restart identity").format(
            sql.SQL(", ").join(sql.Identifier(t) for t in tables)))
        # The published tables are emptied: the record of what was published goes with them
        # (the next publication then reconciles every table).
        conn.execute("drop schema if exists lacarte_publication cascade")
        conn.execute(
            "create temp table demo_communes (code_epci text, nom_epci text, code_insee text, "
            "nom_commune text, code_postal text, latitude float8, longitude float8) on commit drop"
        )
        communes = settings.project.seeds_dir / "communes.csv"
        with conn.cursor().copy("copy demo_communes from stdin with (format csv, header true)") as copy:
            copy.write(communes.read_bytes())
        started = time.monotonic()
        conn.execute(_sql("demo_reference.sql"))
        if on_step:
            on_step("reference data", time.monotonic() - started)
        for label, body in demo_steps(acteurs, seed):
            started = time.monotonic()
            conn.execute(body)
            if on_step:
                on_step(label, time.monotonic() - started)
        started = time.monotonic()
        write_content(conn)
        sampled_ids = [row[0] for row in conn.execute(
            "select identifiant_unique from qfdmo_acteur order by identifiant_unique limit 50")]
        write_operational(conn, sampled_ids)
        if on_step:
            on_step("the CMS, L'Assistant's content and the operational tables", time.monotonic() - started)
        _reset_identities(conn, tables)
        conn.commit()
    with connect(database) as conn:
        for table in tables:
            conn.execute(sql.SQL("analyze {}").format(sql.Identifier(table)))
        return {table: _count(conn, table) for table in tables}


def _reset_identities(conn, tables: list[str]) -> None:
    """Move identity sequences past the ids written explicitly."""
    rows = conn.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'public' and is_identity = 'YES' and table_name = any(%s)",
        [tables],
    ).fetchall()
    for table, column in rows:
        conn.execute(
            sql.SQL("select setval(pg_get_serial_sequence({t}, {c}), coalesce(max({col}), 0) + 1, false) from {tbl}").format(
                t=sql.Literal(sql.Identifier(table).as_string(conn)), c=sql.Literal(column),
                col=sql.Identifier(column), tbl=sql.Identifier(table))
        )


def _count(conn, table: str) -> int:
    return conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(table))).fetchone()[0]
