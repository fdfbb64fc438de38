"""Manage the two local PostgreSQL instances: up | down | status | env | reset."""

from __future__ import annotations

import argparse
import shlex

from rich.console import Console
from rich.table import Table

from lacarte.cli import run_cli
from lacarte.cluster import Instances
from lacarte.settings import Settings

console = Console()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "env", "reset"])
    args = parser.parse_args()
    settings = Settings()
    instances = Instances(settings)
    if args.command == "env":
        for key, value in settings.dbt_environment().items():
            if key.startswith(("WEBAPP_", "WAREHOUSE_", "LACARTE_", "ANALYST_", "DBT_", "PGOPTIONS")):
                print(f"export {key}={shlex.quote(value)}")
        return
    if args.command == "up":
        instances.up(progress=console.print)
    elif args.command == "down":
        instances.down(progress=console.print)
    elif args.command == "reset":
        instances.reset(progress=console.print)
    table = Table("instance", "state", "address", "data", "log", title="PostgreSQL instances")
    for row in instances.status():
        table.add_row(*row.values())
    console.print(table)


if __name__ == "__main__":
    run_cli(main)
