"""The deploy step, run right after the web app's migrations: refresh both postgres_fdw links.

    python scripts/deploy.py [--dry-run]

Order: the webapp side first (grants its reader the source tables, links the warehouse's
exposures), then the warehouse side (links the webapp's tables). Exit codes: 0 done,
1 a refresh failed (each refresh is atomic: the failed link is left as it was), 2 bad
configuration (missing variable, instance unreachable, wrong password).
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console

from lacarte.cli import run_cli
from lacarte.db import connect
from lacarte.dbt import DbtFailure, run_dbt
from lacarte.settings import Settings

console = Console()
LINK_TARGETS = ("webapp", "warehouse")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="print each link's plan, change nothing")
    args = parser.parse_args()
    settings = Settings()
    for side in LINK_TARGETS:  # bad configuration: exit 2 before touching anything
        with connect(settings.database(side)):
            pass
    operation_args = ["--args", "{dry_run: true}"] if args.dry_run else []
    for target in LINK_TARGETS:
        started = time.monotonic()
        console.rule(f"refresh_fdw --target {target}")
        try:
            run_dbt(settings, ["run-operation", "refresh_fdw", "--target", target, *operation_args])
        except DbtFailure as failure:
            console.print(f"[red]deploy failed at the {target} link:[/red] {failure}")
            return 1
        console.print(f"{target} link refreshed in {time.monotonic() - started:.1f} s")
    console.print("[green]deploy: both links are up to date[/green]")
    return 0


if __name__ == "__main__":
    run_cli(main)
