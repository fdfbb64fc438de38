"""Load deterministic demo data into the webapp: python scripts/demo_data.py --acteurs N --seed S."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lacarte.cli import run_cli
from lacarte.demo import demo_steps, generate
from lacarte.errors import UserError
from lacarte.settings import Settings

console = Console()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--acteurs", type=int, default=20_000, help="number of actors (default 20000)")
    parser.add_argument("--seed", type=int, default=42, help="seed: the same seed gives the same data")
    args = parser.parse_args()
    if args.acteurs < 1:
        raise UserError("--acteurs must be at least 1")
    settings = Settings()
    if settings.is_production:
        raise UserError("LACARTE_ENVIRONMENT is production: demo data would replace the real webapp; refused")
    total = len(demo_steps(args.acteurs, args.seed)) + 1
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"demo data: {args.acteurs:,} actors", total=total)

        def advance(label: str, seconds: float) -> None:
            bar.console.print(f"  {label}: {seconds:.1f} s")
            bar.advance(task)

        counts = generate(settings, args.acteurs, args.seed, on_step=advance)
    table = Table("table", "rows", title="webapp demo data")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)


if __name__ == "__main__":
    run_cli(main)
