"""Deterministic demo data for the webapp, generated server-side (set-based SQL, no row loop)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from psycopg import sql

from lacarte.db import connect
from lacarte.settings import PROJECT_DIR, Settings

SQL_DIR = Path(__file__).parent / "sql"
COMMUNES_CSV = PROJECT_DIR / "seeds" / "communes.csv"
# Only the webapp's own tables are emptied: never PostGIS's spatial_ref_sys.
WEBAPP_TABLES_PATTERN = r"^(qfdmo_.*|auth_user|django_session|data_suggestion)$"


def demo_steps(acteurs: int, seed: int) -> list[tuple[str, str]]:
    """The generation as (label, SQL) steps, in order."""
    text = (SQL_DIR / "demo_actors.sql").read_text().format(n=int(acteurs), seed=int(seed))
    steps = []
    for chunk in re.split(r"^-- step: ", text, flags=re.M)[1:]:
        label, body = chunk.split("\n", 1)
        steps.append((label.strip(), body))
    return steps


def generate(settings: Settings, acteurs: int, seed: int,
             on_step: Callable[[str, float], None] | None = None) -> dict[str, int]:
    """Replace the webapp's content with demo data; return rows per table."""
    database = settings.database("webapp", user="admin")
    with connect(database, autocommit=False) as conn:
        # Generated rows are consistent by construction: skip the per-row FK triggers.
        conn.execute("set local session_replication_role = replica")
        conn.execute("set local work_mem = '256MB'")
        tables = [
            row[0]
            for row in conn.execute(
                "select tablename from pg_tables where schemaname = 'public' and tablename ~ %s",
                [WEBAPP_TABLES_PATTERN],
            )
        ]
        conn.execute(sql.SQL("truncate {} restart identity").format(
            sql.SQL(", ").join(sql.Identifier(t) for t in tables)))
        conn.execute(
            "create temp table demo_communes (code_epci text, nom_epci text, code_insee text, "
            "nom_commune text, code_postal text, latitude float8, longitude float8) on commit drop"
        )
        with conn.cursor().copy("copy demo_communes from stdin with (format csv, header true)") as copy:
            copy.write(COMMUNES_CSV.read_bytes())
        started = time.monotonic()
        conn.execute((SQL_DIR / "demo_reference.sql").read_text())
        if on_step:
            on_step("reference data", time.monotonic() - started)
        for label, body in demo_steps(acteurs, seed):
            started = time.monotonic()
            conn.execute(body)
            if on_step:
                on_step(label, time.monotonic() - started)
        _reset_sequences(conn, tables)
        conn.commit()
    with connect(database) as conn:
        for table in tables:
            conn.execute(sql.SQL("analyze {}").format(sql.Identifier(table)))
        return {table: _count(conn, table) for table in sorted(tables)}


def _reset_sequences(conn, tables: list[str]) -> None:
    """Move identity sequences past the ids written explicitly."""
    rows = conn.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'public' and is_identity = 'YES' and table_name = any(%s)",
        [tables],
    ).fetchall()
    for table, column in rows:
        conn.execute(
            sql.SQL("select setval(pg_get_serial_sequence({t}, {c}), coalesce(max({col}), 0) + 1, false) from {tbl}").format(
                t=sql.Literal(table), c=sql.Literal(column), col=sql.Identifier(column), tbl=sql.Identifier(table)
            )
        )


def _count(conn, table: str) -> int:
    return conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(table))).fetchone()[0]
