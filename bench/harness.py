"""A pair of instances for the benchmarks: started like the demo's, on free ports, in /var/tmp."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import psycopg

from lacarte.cluster import Instances, free_port
from lacarte.dbt import run_dbt
from lacarte.demo import generate
from lacarte.settings import Settings


class BenchPair:
    """Context manager: a running pair with the project's settings; wiped on exit."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="lacarte-bench-", dir="/var/tmp"))
        self.root.chmod(0o755)
        environ = {k: v for k, v in os.environ.items()
                   if not k.startswith(("WEBAPP_", "WAREHOUSE_", "LACARTE_", "ANALYST_", "DBT_"))}
        environ.update({
            "LACARTE_ENV_FILE": str(self.root / ".env"), "LACARTE_DATA_DIR": str(self.root / "data"),
            "WEBAPP_DB_PORT": str(free_port()), "WAREHOUSE_DB_PORT": str(free_port()),
            "DBT_TARGET_PATH": str(self.root / "dbt_target"), "DBT_LOG_PATH": str(self.root / "dbt_logs"),
        })
        self.settings = Settings(environ=environ)
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

    def dbt(self, *args: str):
        return run_dbt(self.settings, list(args), quiet=True)

    def load(self, acteurs: int) -> None:
        """Demo data at this scale, both links, an empty map."""
        generate(self.settings, acteurs=acteurs, seed=42)
        self.dbt("run-operation", "refresh_fdw", "--target", "webapp")
        self.dbt("run-operation", "refresh_fdw", "--target", "warehouse")
        with self.connect("webapp") as conn:
            conn.execute("""delete from qfdmo_displayedpropositionservice_sous_categories;
                delete from qfdmo_displayedpropositionservice; delete from qfdmo_displayedacteur_labels;
                delete from qfdmo_displayedacteur_acteur_services; delete from qfdmo_displayedacteur_sources;
                delete from qfdmo_displayedperimetreadomicile; delete from qfdmo_displayedacteur""")
