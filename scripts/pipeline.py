"""The main job: build the warehouse and publish the map to the web app.

    python scripts/pipeline.py [--skip-publish]

Steps: a check of the warehouse's link (fails on drift), dbt build (seeds, models, tests),
refresh of the webapp's link to the exposures, publication into the displayed tables.
A failed build or test stops before publication: the map keeps its previous content.
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console

from lacarte.cli import run_cli
from lacarte.dbt import run_dbt
from lacarte.settings import Settings

console = Console()

STEPS = {
    "check": ["run-operation", "fdw_status", "--target", "warehouse", "--args", "{fail_on_drift: true}"],
    "build": ["build", "--exclude", "tag:sample"],
    "link": ["run-operation", "refresh_fdw", "--target", "webapp"],
    "publish": ["run-operation", "publish_exposures", "--target", "webapp"],
}


def run_step(settings: Settings, step: str) -> None:
    """Run one step of the main job (also what each Airflow task calls)."""
    started = time.monotonic()
    console.rule(step)
    run_dbt(settings, STEPS[step])
    console.print(f"{step}: done in {time.monotonic() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--step", choices=list(STEPS), help="run one step only")
    parser.add_argument("--skip-publish", action="store_true", help="build and link, do not publish")
    args = parser.parse_args()
    settings = Settings()
    steps = [args.step] if args.step else [s for s in STEPS if not (args.skip_publish and s == "publish")]
    for step in steps:
        run_step(settings, step)


if __name__ == "__main__":
    run_cli(main)
