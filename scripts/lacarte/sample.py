"""Building webapp_sample aside (webapp_sample__next), validating it, then swapping it in.

Clients connected to the old sample are disconnected at the swap: their next query fails and
a reconnection reaches the new sample. A failure at any step drops the partial database and
leaves the previous webapp_sample untouched.
"""

from __future__ import annotations

import csv
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import yaml
from psycopg import sql

from lacarte import pgbin
from lacarte.db import connect
from lacarte.dbt import run_dbt
from lacarte.errors import UserError
from lacarte.settings import PROJECT_DIR, Settings

RULES_FILE = PROJECT_DIR / "config" / "sample_rules.yml"
COMMUNES_SEED = PROJECT_DIR / "seeds" / "communes.csv"
TERRITORIES_SEED = PROJECT_DIR / "seeds" / "sample_territories.csv"
SAMPLE_SOURCES = "intermediate.int_acteurs__sample_sources"
STEPS = ("build", "create", "schema", "copy", "link", "publish", "validate", "swap")


def seed_codes(path: Path) -> list[str]:
    with path.open(newline="") as handle:
        return sorted({row["code_epci"] for row in csv.DictReader(handle)})


def load_rules() -> dict[str, dict]:
    return yaml.safe_load(RULES_FILE.read_text())["tables"]


@dataclass
class SamplePlan:
    territories: list[str]
    live: str
    next: str
    tables: dict[str, dict] = field(default_factory=dict)


class SampleBuilder:
    """Builds the sample of the webapp named by the settings, on the same instance."""

    def __init__(self, settings: Settings, territories: list[str] | None = None):
        if settings.is_production:
            raise UserError(
                f"LACARTE_ENVIRONMENT={settings.environment}: webapp_sample never exists in production; "
                "nothing was done (run it on a local or preproduction environment)"
            )
        self.settings = settings
        known = seed_codes(COMMUNES_SEED)
        chosen = sorted(set(territories)) if territories else seed_codes(TERRITORIES_SEED)
        unknown = [code for code in chosen if code not in known]
        if unknown:
            raise UserError(
                f"unknown EPCI code(s) {', '.join(unknown)}: not in seeds/communes.csv; add the territory's "
                "communes to the seed first (README: adding a territory); nothing was done"
            )
        self.explicit = bool(territories)
        live = settings.get("WEBAPP_SAMPLE_DB_NAME")
        self.plan = SamplePlan(territories=chosen, live=live, next=f"{live}__next")
        self.next_settings = Settings(environ={**settings.values, "WEBAPP_SAMPLE_DB_NAME": self.plan.next})

    # -- planning ---------------------------------------------------------------------------
    def check_rules(self) -> dict[str, dict]:
        """Every table of the live webapp has a rule; return the rules of those tables."""
        rules = load_rules()
        with connect(self.settings.database("webapp")) as conn:
            tables = [r[0] for r in conn.execute(
                "select tablename from pg_tables where schemaname = 'public' order by 1")]
        missing = [t for t in tables if t not in rules]
        if missing:
            raise UserError(
                f"no sample rule for table(s) {', '.join(missing)}: classify them in {RULES_FILE.relative_to(PROJECT_DIR)}"
            )
        self.plan.tables = {t: rules[t] for t in tables}
        return self.plan.tables

    # -- the steps ----------------------------------------------------------------------------
    def run(self, on_step: Callable[[str], None] = lambda _s: None) -> dict[str, int]:
        """Build aside, validate, swap; return rows per table of the new sample."""
        self.check_rules()
        on_step("build")
        self.build_exposures()
        try:
            for step in STEPS[1:]:
                on_step(step)
                getattr(self, f"step_{step}")()
        except BaseException:
            self.drop_next()
            raise
        return self.counts()

    def build_exposures(self) -> None:
        args = ["build", "--select", "tag:sample"]
        if self.explicit:
            args += ["--vars", "{sample_epci: [" + ", ".join(f"'{c}'" for c in self.plan.territories) + "]}"]
        run_dbt(self.settings, args, quiet=True)

    def step_create(self) -> None:
        self.drop_next()
        with connect(self.settings.database("webapp")) as conn:
            conn.execute(sql.SQL("create database {} owner {}").format(
                sql.Identifier(self.plan.next), sql.Identifier(self.settings.get("WEBAPP_DB_USER"))))

    def step_schema(self) -> None:
        """The live webapp's schema (tables, constraints, indexes, sequences), not the fixture's."""
        live = self.settings.database("webapp")
        bindir = pgbin.find_bindir(self.settings.values)
        env = {**os.environ, "PGPASSWORD": live.password, "PGCONNECT_TIMEOUT": "5"}
        common = ["-h", live.host, "-p", str(live.port), "-U", live.user]
        with connect(live) as conn:
            extensions = [r[0] for r in conn.execute("select extname from pg_extension where extname <> 'plpgsql'")]
        with connect(self.settings.database("webapp", dbname=self.plan.next)) as conn:
            for extension in extensions:
                conn.execute(sql.SQL("create extension if not exists {} schema public").format(sql.Identifier(extension)))
        dump = subprocess.run(
            [str(bindir / "pg_dump"), *common, "--schema-only", "--schema=public", "--no-owner", "--no-privileges",
             "--no-comments", live.dbname],
            capture_output=True, text=True, env=env,
        )
        if dump.returncode != 0:
            raise UserError(f"reading the webapp schema failed: {dump.stderr.strip()}")
        # The public schema exists in every new database (with the extensions in it).
        ddl = "\n".join(line for line in dump.stdout.splitlines() if line.strip() != "CREATE SCHEMA public;")
        restore = subprocess.run(
            [str(bindir / "psql"), *common, "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-d", self.plan.next],
            input=ddl, capture_output=True, text=True, env=env,
        )
        if restore.returncode != 0:
            raise UserError(f"copying the webapp schema failed: {restore.stderr.strip()}")

    def step_copy(self) -> None:
        """Copy reference tables whole and the sampled actors' rows, in one transaction."""
        with connect(self.settings.database("warehouse")) as warehouse:
            ids = [r[0] for r in warehouse.execute(f"select identifiant_unique from {SAMPLE_SOURCES} order by 1")]
        live_db = self.settings.database("webapp")
        next_db = self.settings.database("webapp", dbname=self.plan.next)
        with connect(live_db) as live, connect(next_db, autocommit=False) as target:
            live.execute("create temp table sample_ids (identifiant_unique varchar primary key)")
            with live.cursor().copy("copy sample_ids from stdin") as copy:
                for identifiant in ids:
                    copy.write_row((identifiant,))
            live.execute("analyze sample_ids")
            for table, rule in self.plan.tables.items():
                columns = [r[0] for r in live.execute(
                    "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 "
                    "and not attisdropped and attgenerated = '' order by attnum", [f"public.{table}"])]
                column_list = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
                query = self._selection(table, rule, column_list)
                if query is None:
                    continue
                source = sql.SQL("copy ({}) to stdout (format binary)").format(query)
                sink = sql.SQL("copy {} ({}) from stdin (format binary)").format(sql.Identifier(table), column_list)
                with live.cursor().copy(source) as reader, target.cursor().copy(sink) as writer:
                    for block in reader:
                        writer.write(block)
            self._move_sequences(target)
            target.commit()  # deferred foreign keys are checked here

    @staticmethod
    def _selection(table: str, rule: dict, columns: sql.Composable) -> sql.Composable | None:
        """The SELECT of the rows a rule copies, or None for tables that are not copied."""
        kind = rule["rule"]
        if kind in {"published", "personal", "excluded"}:
            return None
        if kind == "whole":
            return sql.SQL("select {} from public.{}").format(columns, sql.Identifier(table))
        if kind == "actor":
            return sql.SQL("select {} from public.{} where {} in (select identifiant_unique from sample_ids)").format(
                columns, sql.Identifier(table), sql.Identifier(rule["key"]))
        if kind == "through":
            return sql.SQL(
                "select {} from public.{} where {} in (select p.id from public.{} as p "
                "where p.acteur_id in (select identifiant_unique from sample_ids))"
            ).format(columns, sql.Identifier(table), sql.Identifier(rule["column"]), sql.Identifier(rule["table"]))
        raise UserError(f"unknown sample rule '{kind}' for {table} in {RULES_FILE.name}")

    @staticmethod
    def _move_sequences(conn: psycopg.Connection) -> None:
        rows = conn.execute("""
            select c.relname, a.attname, pg_get_serial_sequence(format('public.%I', c.relname), a.attname)
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            join pg_attribute a on a.attrelid = c.oid and a.attnum > 0
            where n.nspname = 'public' and c.relkind = 'r'
                and pg_get_serial_sequence(format('public.%I', c.relname), a.attname) is not null""").fetchall()
        for table, column, sequence in rows:
            conn.execute(sql.SQL("select setval({}, coalesce((select max({}) from {}), 0) + 1, false)").format(
                sql.Literal(sequence), sql.Identifier(column), sql.Identifier(table)))

    def step_link(self) -> None:
        run_dbt(self.next_settings, ["run-operation", "refresh_fdw", "--target", "webapp_sample"], quiet=True)

    def step_publish(self) -> None:
        run_dbt(self.next_settings, ["run-operation", "publish_exposures", "--target", "webapp_sample"], quiet=True)

    def step_validate(self) -> None:
        territories = "[" + ", ".join(f"'{c}'" for c in self.plan.territories) + "]"
        run_dbt(self.next_settings, ["run-operation", "sample_validate", "--target", "webapp_sample",
                                     "--args", "{territories: " + territories + "}"], quiet=True)

    def step_swap(self) -> None:
        """Rename next over live in one transaction; the old one is dropped only after."""
        old = f"{self.plan.live}__old"
        with connect(self.settings.database("webapp")) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(old)))
            for attempt in range(5):
                self._disconnect(conn, self.plan.live)
                self._disconnect(conn, self.plan.next)
                try:
                    with conn.transaction():
                        if self._exists(conn, self.plan.live):
                            conn.execute(sql.SQL("alter database {} rename to {}").format(
                                sql.Identifier(self.plan.live), sql.Identifier(old)))
                        conn.execute(sql.SQL("alter database {} rename to {}").format(
                            sql.Identifier(self.plan.next), sql.Identifier(self.plan.live)))
                    break
                except psycopg.errors.ObjectInUse:
                    if attempt == 4:
                        raise
                    time.sleep(0.2)
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(old)))

    # -- helpers ------------------------------------------------------------------------------
    def drop_next(self) -> None:
        with connect(self.settings.database("webapp")) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(self.plan.next)))

    @staticmethod
    def _exists(conn: psycopg.Connection, dbname: str) -> bool:
        return conn.execute("select 1 from pg_database where datname = %s", [dbname]).fetchone() is not None

    @staticmethod
    def _disconnect(conn: psycopg.Connection, dbname: str) -> None:
        # Client sessions only: autovacuum workers are stopped by the rename itself.
        conn.execute("""select pg_terminate_backend(a.pid) from pg_stat_activity as a
            where a.datname = %s and a.pid <> pg_backend_pid() and a.backend_type = 'client backend'
                and not coalesce((select rolsuper from pg_roles as r where r.oid = a.usesysid), false)""", [dbname])

    def counts(self) -> dict[str, int]:
        with connect(self.settings.database("webapp", dbname=self.plan.live)) as conn:
            return {table: conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(table))).fetchone()[0]
                    for table in self.plan.tables if table != "spatial_ref_sys"}
