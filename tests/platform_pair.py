"""A throwaway pair of instances for the tests, started through the same code as
`lacarte instances up`, on free ports in a temporary directory."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from lacarte.dbt import run_dbt
from lacarte.instances.cluster import Instances
from lacarte.project import Project
from lacarte.settings import Settings

PROJECT = Project.find(Path(__file__).resolve().parents[1])


class Pair:
    """A running pair and the helpers the tests share."""

    def __init__(self, root: Path, extra: dict[str, str] | None = None):
        self.root = root
        self.settings = Settings.isolated(PROJECT, root, {"DBT_THREADS": "4", **(extra or {})})
        self.instances = Instances(self.settings, root=root / "data", throwaway=True)

    def up(self) -> None:
        self.instances.up(progress=lambda _message: None)

    def connect(self, side: str, user: str | None = None, dbname: str | None = None,
                autocommit: bool = True, **extra) -> psycopg.Connection:
        database = self.settings.database(side, dbname=dbname, user=user)
        return psycopg.connect(**database.conninfo(**extra), autocommit=autocommit)

    def query(self, side: str, sql: str, params=None, user: str | None = None, dbname: str | None = None):
        with self.connect(side, user=user, dbname=dbname) as conn:
            return conn.execute(sql, params).fetchall()

    def execute(self, side: str, sql: str, params=None, user: str | None = None, dbname: str | None = None) -> None:
        with self.connect(side, user=user, dbname=dbname) as conn:
            conn.execute(sql, params)

    def dbt(self, *args: str, link_password_for: str | None = None):
        return run_dbt(self.settings, list(args), quiet=True, link_password_for=link_password_for)

    def all_passwords(self) -> list[str]:
        return [value for key, value in self.settings.values.items() if key.endswith("_PASSWORD")]


@contextmanager
def throwaway_pair(extra: dict[str, str] | None = None) -> Iterator[Pair]:
    """Start a pair in a fresh temporary directory; wipe it afterwards."""
    root = Path(tempfile.mkdtemp(prefix="lacarte-test-"))
    root.chmod(0o755)  # the server's OS user must reach its data directory
    pair = Pair(root, extra)
    try:
        pair.up()
        yield pair
    finally:
        pair.instances.wipe()
        shutil.rmtree(root, ignore_errors=True)
