"""Print what runs and what it holds: the instances, the webapp, the map and the sample."""

from __future__ import annotations

from psycopg import sql
from rich.console import Console
from rich.table import Table

from lacarte.cli import run_cli
from lacarte.cluster import Instances
from lacarte.db import connect
from lacarte.errors import UserError
from lacarte.settings import Settings

console = Console()
COUNTED = ["qfdmo_acteur", "qfdmo_revisionacteur", "qfdmo_propositionservice",
           "qfdmo_propositionservice_sous_categories", "qfdmo_displayedacteur",
           "qfdmo_displayedpropositionservice", "qfdmo_displayedpropositionservice_sous_categories"]


def count_rows(settings: Settings, dbname: str) -> dict[str, int | None]:
    try:
        with connect(settings.database("webapp", dbname=dbname)) as conn:
            return {t: conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(t))).fetchone()[0]
                    for t in COUNTED}
    except UserError:
        return dict.fromkeys(COUNTED)


def main() -> None:
    settings = Settings()
    instances = Table("instance", "state", "address", "data", title="PostgreSQL instances")
    for row in Instances(settings).status():
        instances.add_row(row["instance"], row["state"], row["address"], row["data"])
    console.print(instances)
    webapp = count_rows(settings, settings.get("WEBAPP_DB_NAME"))
    sample = count_rows(settings, settings.get("WEBAPP_SAMPLE_DB_NAME"))
    table = Table("table", "webapp", "webapp_sample", title="rows")
    for name in COUNTED:
        table.add_row(name, *(f"{v:,}" if v is not None else "-" for v in (webapp[name], sample[name])))
    console.print(table)
    console.print("analysts: psql on the warehouse, schemas marts and exposure (role analyst); "
                  "secrets: `python scripts/instances.py env`")


if __name__ == "__main__":
    run_cli(main)
