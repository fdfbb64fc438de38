"""Build webapp_sample: the actors of the sample territories, built aside and swapped in.

    python scripts/build_sample.py [--epci CODE ...] [--dry-run]

Refused when LACARTE_ENVIRONMENT is production. Territories: seeds/sample_territories.csv,
or the EPCI codes given with --epci (each must be in seeds/communes.csv).
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lacarte.cli import run_cli
from lacarte.sample import STEPS, SampleBuilder
from lacarte.settings import Settings

console = Console()
DESCRIPTIONS = {
    "build": "dbt build of the sample exposures (tag:sample)",
    "create": "create the database {next}",
    "schema": "copy the live webapp's schema into {next}",
    "copy": "copy reference tables and the sampled actors' rows",
    "link": "refresh_fdw --target webapp_sample (link to the sample exposures)",
    "publish": "publish_exposures --target webapp_sample",
    "validate": "sample_validate: foreign keys and territories",
    "swap": "rename {next} to {live}, then drop the old sample",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epci", nargs="+", metavar="CODE", help="EPCI codes to sample instead of the seed's")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    args = parser.parse_args()
    started = time.monotonic()
    builder = SampleBuilder(Settings(), args.epci)
    plan = builder.plan
    rules = builder.check_rules()
    if args.dry_run:
        console.print(f"territories: {', '.join(plan.territories)}")
        for step in STEPS:
            console.print(f"  {step}: {DESCRIPTIONS[step].format(next=plan.next, live=plan.live)}")
        table = Table("table", "rule", title="copy rules (config/sample_rules.yml)")
        for name, rule in rules.items():
            table.add_row(name, ", ".join(f"{k}={v}" for k, v in rule.items()))
        console.print(table)
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("webapp_sample", total=len(STEPS))
        done: list[str] = []

        def on_step(step: str) -> None:
            if done:
                bar.advance(task)
            done.append(step)
            bar.update(task, description=f"sample: {DESCRIPTIONS[step].format(next=plan.next, live=plan.live)}")

        counts = builder.run(on_step=on_step)
        bar.advance(task)
    table = Table("table", "rows", title=f"{plan.live}: {', '.join(plan.territories)}")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(f"sample swapped in after {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    run_cli(main)
