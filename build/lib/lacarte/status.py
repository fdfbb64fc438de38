"""What runs and what it holds: the local instances, and the rows of the tables the
publication fills (read from the models), in the webapp and in the sample."""

from __future__ import annotations

from psycopg import sql
from rich.console import Console
from rich.table import Table

from lacarte.db import connect
from lacarte.errors import UserError
from lacarte.manifest import published_tables
from lacarte.settings import Settings


def count_rows(settings: Settings, dbname: str, tables: list[str]) -> dict[str, int | None]:
    try:
        with connect(settings.database("webapp", dbname=dbname)) as conn:
            return {t: conn.execute(sql.SQL("select count(*) from public.{}").format(sql.Identifier(t))).fetchone()[0]
                    for t in tables}
    except UserError:
        return dict.fromkeys(tables)


def print_status(settings: Settings, console: Console) -> None:
    from lacarte.instances.cluster import Instances

    instances = Instances(settings)
    if instances.root.exists():
        table = Table("instance", "state", "address", "data", title="local PostgreSQL instances")
        for row in instances.status():
            table.add_row(row["instance"], row["state"], row["address"], row["data"])
        console.print(table)
    tables = [p.table for p in published_tables(settings)]
    webapp = count_rows(settings, settings.get("WEBAPP_DB_NAME"), ["qfdmo_acteur", "qfdmo_revisionacteur", *tables])
    sample = count_rows(settings, settings.get("WEBAPP_SAMPLE_DB_NAME"), ["qfdmo_acteur", "qfdmo_revisionacteur", *tables])
    table = Table("table", "webapp", "webapp_sample", title="rows (actors, and the tables the publication fills)")
    for name in webapp:
        table.add_row(name, *(f"{v:,}" if v is not None else "-" for v in (webapp[name], sample[name])))
    console.print(table)
    console.print("analysts: psql on the warehouse as role analyst (schemas marts, exposure, reference)")
