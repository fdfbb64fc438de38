"""A pair of instances for the benchmarks: started like the demo's, on free ports, in /var/tmp."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psycopg
from rich.console import Console

from lacarte.changes.state import ensure_state
from lacarte.db import connect
from lacarte.dbt import run_dbt
from lacarte.demo import generate
from lacarte.instances.cluster import Instances
from lacarte.pipeline import run_steps
from lacarte.project import Project
from lacarte.settings import Settings
from lacarte.steps import DEPLOY


def print_targets(console: Console, figures: dict[str, dict]) -> None:
    """One line per figure: its value, at how many actors, against its target."""
    for name, figure in figures.items():
        value = "not measured" if figure["value"] is None else f"{figure['value']:.3f}"
        acteurs = figure.get("acteurs")
        console.print(f"{name}: {value} at {f'{acteurs:,}' if acteurs else '-'} actors (target {figure['target']})")


class BenchPair:
    """Context manager: a running pair with the project's settings; wiped on exit."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="lacarte-bench-", dir="/var/tmp"))
        self.root.chmod(0o755)
        self.settings = Settings.isolated(Project.find(Path(__file__).resolve().parents[1]), self.root)
        self.instances = Instances(self.settings, root=self.root / "data")

    def __enter__(self) -> BenchPair:
        self.instances.up(progress=lambda _m: None)
        return self

    def __exit__(self, *exc) -> None:
        self.instances.wipe()
        shutil.rmtree(self.root, ignore_errors=True)

    def connect(self, side: str, dbname: str | None = None, user: str | None = None, **extra) -> psycopg.Connection:
        return psycopg.connect(**self.settings.database(side, dbname=dbname, user=user).conninfo(**extra), autocommit=True)

    def reader_password_options(self, side: str) -> str:
        """libpq options carrying the other side's reader password as a session setting."""
        key = "WEBAPP_READER_PASSWORD" if side == "warehouse" else "WAREHOUSE_READER_PASSWORD"
        name = "webapp_reader_password" if side == "warehouse" else "warehouse_reader_password"
        return f"-c lacarte.{name}={self.settings.get(key)}"

    def dbt(self, *args: str, link_password_for: str | None = None):
        return run_dbt(self.settings, list(args), quiet=True, link_password_for=link_password_for)

    def load(self, acteurs: int) -> None:
        """Demo data at this scale (the map's tables emptied with the rest), both links."""
        generate(self.settings, acteurs=acteurs, seed=42)
        run_steps(self.settings, DEPLOY, quiet=True)
        # The benchmarks time `dbt build` alone, as the daily job runs it after its pull: the
        # state the pull keeps (a dbt source, tested by the build) is there.
        with connect(self.settings.database("warehouse")) as conn:
            ensure_state(conn)
