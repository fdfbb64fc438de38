"""Building webapp_sample aside (<name>__next), validating it, then swapping it in.

The build reads the warehouse (which actors) and the live webapp (schema and rows); it writes
only the new database until the swap. A failure at any step drops the partial database and
leaves the previous sample, the webapp and the warehouse as they were. Clients connected to
the old sample are disconnected at the swap.
"""

from __future__ import annotations

import csv
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from lacarte.db import connect
from lacarte.dbt import run_dbt
from lacarte.errors import StepFailure, UserError
from lacarte.guards import refuse_production
from lacarte.instances import pgbin
from lacarte.manifest import published_from_manifest
from lacarte.sample.checks import validate_sample
from lacarte.sample.plan import SamplePlan, plan_sample, selection
from lacarte.sample.rules import TableRules
from lacarte.settings import Settings

SAMPLED_MODEL = "int_acteurs__sampled"
# The comment that marks a database as a sample built by this tool (owners may comment).
MARKER = "lacarte sample of {webapp}"
STEPS = {
    "plan": "read the live webapp's catalog and the copy rules",
    "actors": "choose the sampled actors (read-only query on the warehouse)",
    "create": "create the database {next}",
    "schema": "copy the live webapp's schema (public only)",
    "copy": "copy the rows by rule, closed under foreign keys",
    "link": "link {next} to the warehouse's exposures (refresh_fdw --target webapp_sample)",
    "publish": "publish the exposures restricted to the sampled actors",
    "unlink": "remove the temporary link (server, user mapping, foreign tables)",
    "validate": "check foreign keys, territories and that no link or secret is left",
    "swap": "rename {next} to {live}, then drop the old sample",
}


def seed_codes(path: os.PathLike) -> list[str]:
    with open(path, newline="") as handle:
        return sorted({row["code_epci"].strip() for row in csv.DictReader(handle)})


@dataclass(frozen=True)
class Names:
    live: str
    next: str
    old: str


def sample_names(settings: Settings) -> Names:
    """The sample's database names, refused when they could touch any database the web app or
    a link uses (or a system database)."""
    live = settings.get("WEBAPP_SAMPLE_DB_NAME")
    if not live or live != live.strip() or any(ch in live for ch in "\"'\\\n\t"):
        raise UserError(f"WEBAPP_SAMPLE_DB_NAME={live!r} is not a usable database name; nothing was done")
    names = Names(live=live, next=f"{live}__next", old=f"{live}__old")
    used = {settings.get("WEBAPP_DB_NAME"), settings.get("WAREHOUSE_DB_NAME"), "postgres", "template0", "template1"}
    for key in ("WEBAPP_FDW_DBNAME", "WAREHOUSE_FDW_DBNAME"):
        if settings.values.get(key):
            used.add(settings.values[key])
    taken = {name.strip().casefold() for name in used}
    for name in (names.live, names.next, names.old):
        if name.casefold() in taken:
            raise UserError(
                f"the sample's database {name!r} would be a database the web app, the warehouse or a link uses: "
                "set WEBAPP_SAMPLE_DB_NAME to a name of its own (default webapp_sample); nothing was done"
            )
    return names


class SampleBuilder:
    """Builds the sample of the webapp named by the settings, on the same instance."""

    def __init__(self, settings: Settings, territories: list[str] | None = None):
        self.settings = settings
        self.names = sample_names(settings)
        seeds = settings.project.seeds_dir
        known = seed_codes(seeds / "communes.csv")
        if territories is not None and not all(isinstance(code, str) for code in territories):
            raise UserError("territories must be EPCI codes (text)")
        chosen = sorted({code.strip() for code in territories}) if territories else seed_codes(seeds / "sample_territories.csv")
        unknown = [code for code in chosen if code not in known]
        if unknown or not chosen:
            raise UserError(
                f"unknown EPCI code(s) {', '.join(unknown) or '(none given)'}: not in seeds/communes.csv; add the "
                "territory's communes to the seed first (README: adding a territory); nothing was done"
            )
        self.territories = chosen
        self.explicit = bool(territories)
        self.webapp = settings.database("webapp")
        self.next_settings = settings.with_values(WEBAPP_SAMPLE_DB_NAME=self.names.next)
        self.plan: SamplePlan | None = None
        self.sample_ids: list[str] = []

    # -- checks before anything -----------------------------------------------------------------
    def preflight(self) -> None:
        """Refusals that change nothing: production, a sample name taken by something else."""
        databases = [self.webapp]
        with connect(self.webapp) as conn:
            existing = self._exists(conn, self.names.live)
            marked = conn.execute(
                "select shobj_description(oid, 'pg_database') = %s from pg_database where datname = %s",
                [MARKER.format(webapp=self.webapp.dbname), self.names.live]).fetchone()
        if existing:
            databases.append(self.settings.database("webapp", dbname=self.names.live))
        refuse_production(self.settings, "building the sample", databases)
        if existing and not (marked and marked[0]):
            with connect(self.settings.database("webapp", dbname=self.names.live)) as conn:
                tables = conn.execute(
                    "select count(*) from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r' "
                    "and not exists (select from pg_depend as d where d.objid = pg_class.oid and d.deptype = 'e')"
                ).fetchone()[0]
            if tables:
                raise UserError(
                    f"database {self.names.live} exists and was not built by `lacarte sample build` ({tables} tables): "
                    "drop it, or set WEBAPP_SAMPLE_DB_NAME to another name; nothing was done"
                )

    def make_plan(self) -> SamplePlan:
        from lacarte.dbt import parse_manifest

        published = [p.table for p in published_from_manifest(parse_manifest(self.settings))]
        rules = TableRules(self.settings.project.dbt_vars.get("webapp_tables") or {})
        with connect(self.webapp) as conn:
            self.plan = plan_sample(conn, rules, published)
        return self.plan

    # -- the steps ------------------------------------------------------------------------------
    def run(self, on_step: Callable[[str], None] = lambda _s: None,
            on_table: Callable[[str], None] = lambda _t: None) -> dict[str, int]:
        """Build aside, validate, swap; return rows per table of the new sample."""
        self.on_table = on_table
        self.preflight()
        step = "plan"
        try:
            for step in STEPS:
                on_step(step)
                getattr(self, f"step_{step}")()
        except BaseException as error:
            self.drop_next()
            if isinstance(error, psycopg.Error):
                first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise StepFailure(f"the sample's build failed at step {step}: {first}; "
                                  f"the previous {self.names.live} is unchanged") from None
            raise
        return self.counts()

    def step_plan(self) -> None:
        if self.plan is None:
            self.make_plan()

    def step_actors(self) -> None:
        """The sampled actors, from the model int_acteurs__sampled compiled for the chosen
        territories and run in a read-only transaction: the warehouse is not written."""
        args = ["--log-level", "none", "compile", "--select", SAMPLED_MODEL]
        if self.explicit:
            args += ["--vars", "{sample_epci: [" + ", ".join(f"'{c}'" for c in self.territories) + "]}"]
        result = run_dbt(self.settings, args)
        compiled = result.result.results[0].node.compiled_code
        with connect(self.settings.database("warehouse"), autocommit=False) as conn:
            conn.execute("set transaction read only")
            self.sample_ids = [row[0] for row in conn.execute(f"select identifiant_unique from ({compiled}) as sampled")]
            conn.rollback()
        if not self.sample_ids:
            raise UserError(f"no actor in territories {', '.join(self.territories)}: nothing to sample "
                            "(is the warehouse built? lacarte run)")

    def step_create(self) -> None:
        self.drop_next()
        with connect(self.webapp) as conn:
            conn.execute(sql.SQL("create database {} owner {}").format(
                sql.Identifier(self.names.next), sql.Identifier(self.webapp.user)))
            conn.execute(sql.SQL("revoke all on database {} from public").format(sql.Identifier(self.names.next)))
            conn.execute(sql.SQL("comment on database {} is {}").format(
                sql.Identifier(self.names.next), sql.Literal(MARKER.format(webapp=self.webapp.dbname))))
            extensions = [row[0] for row in conn.execute(
                "select extname from pg_extension where extname <> 'plpgsql' order by 1")]
        with connect(self.settings.database("webapp", dbname=self.names.next)) as conn:
            present = {row[0] for row in conn.execute("select extname from pg_extension")}
            for extension in extensions:
                if extension in present:
                    continue
                try:
                    conn.execute(sql.SQL("create extension {} schema public").format(sql.Identifier(extension)))
                except psycopg.errors.InsufficientPrivilege:
                    raise UserError(
                        f"extension {extension} is missing in new databases and role {self.webapp.user} may not create it: "
                        f"an administrator must run `CREATE EXTENSION \"{extension}\"` in template1 (every new database "
                        "copies template1); nothing was changed"
                    ) from None

    def _pg_env(self) -> dict[str, str]:
        env = {**os.environ, "PGPASSWORD": self.webapp.password, "PGCONNECT_TIMEOUT": "5",
               "PGSSLMODE": self.webapp.sslmode}
        if self.webapp.sslrootcert:
            env["PGSSLROOTCERT"] = self.webapp.sslrootcert
        return env

    def step_schema(self) -> None:
        """The live webapp's `public` schema (tables, constraints, indexes, sequences, text
        search configurations), never a foreign table, server or user mapping."""
        bindir = pgbin.find_bindir(self.settings.values)
        common = ["-h", self.webapp.host, "-p", str(self.webapp.port), "-U", self.webapp.user]
        with connect(self.webapp) as conn:
            foreign = [row[0] for row in conn.execute(
                "select relname from pg_class where relnamespace = 'public'::regnamespace and relkind = 'f'")]
        excluded = [f"--exclude-table=public.{name}" for name in foreign]
        dump = subprocess.run(
            [str(bindir / "pg_dump"), *common, "--schema-only", "--schema=public", "--no-owner", "--no-privileges",
             *excluded, self.webapp.dbname],
            capture_output=True, text=True, env=self._pg_env(),
        )
        if dump.returncode != 0:
            raise UserError(f"reading the webapp schema failed: {dump.stderr.strip()}")
        # The public schema exists in every new database (with the extensions in it).
        ddl = "\n".join(line for line in dump.stdout.splitlines()
                        if line.strip() != "CREATE SCHEMA public;" and not line.startswith("COMMENT ON SCHEMA public"))
        restore = subprocess.run(
            [str(bindir / "psql"), *common, "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-d", self.names.next],
            input=ddl, capture_output=True, text=True, env=self._pg_env(),
        )
        if restore.returncode != 0:
            raise UserError(f"copying the webapp schema failed: {restore.stderr.strip()}")

    def step_copy(self) -> None:
        """Every copied table by its rule, in one transaction (deferred foreign keys are
        checked at commit); identity sequences moved past the copied ids."""
        assert self.plan is not None
        next_db = self.settings.database("webapp", dbname=self.names.next)
        with connect(self.webapp) as live, connect(next_db, autocommit=False) as target:
            live.execute("create temp table sample_ids (identifiant_unique varchar primary key)")
            with live.cursor().copy("copy sample_ids from stdin") as copy:
                for identifiant in self.sample_ids:
                    copy.write_row((identifiant,))
            live.execute("analyze sample_ids")
            with live.transaction():
                live.execute("set transaction isolation level repeatable read")  # one snapshot for every table
                for plan in self.plan.copy_order():
                    query = selection(plan, self.plan, "sample_ids")
                    columns = sql.SQL(", ").join(sql.Identifier(c) for c in plan.columns)
                    source = sql.SQL("copy ({}) to stdout (format binary)").format(query)
                    sink = sql.SQL("copy public.{} ({}) from stdin (format binary)").format(sql.Identifier(plan.name), columns)
                    with live.cursor().copy(source) as reader, target.cursor().copy(sink) as writer:
                        for block in reader:
                            writer.write(block)
                    self.on_table(plan.name)
            self._move_identities(target)
            target.commit()

    @staticmethod
    def _move_identities(conn: psycopg.Connection) -> None:
        rows = conn.execute("""
            select c.relname, a.attname, pg_get_serial_sequence(format('public.%I', c.relname), a.attname)
            from pg_class as c
            join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
            where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
                and pg_get_serial_sequence(format('public.%I', c.relname), a.attname) is not null""").fetchall()
        for table, column, sequence in rows:
            conn.execute(sql.SQL("select setval({}, coalesce((select max({}) from public.{}), 0) + 1, false)").format(
                sql.Literal(sequence), sql.Identifier(column), sql.Identifier(table)))

    def step_link(self) -> None:
        run_dbt(self.next_settings, ["run-operation", "refresh_fdw", "--target", "webapp_sample"], quiet=True,
                link_password_for="webapp_sample")

    def step_publish(self) -> None:
        run_dbt(self.next_settings, ["run-operation", "publish_exposures", "--target", "webapp_sample"], quiet=True)

    def step_unlink(self) -> None:
        """The temporary link goes before the swap: no server, user mapping (it holds the
        warehouse reader's password) or foreign table is left in the sample."""
        link = self.settings.project.dbt_vars["fdw_links"]["webapp_sample"]
        with connect(self.settings.database("webapp", dbname=self.names.next)) as conn, conn.transaction():
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(link["local_schema"])))
            conn.execute(sql.SQL("drop server if exists {} cascade").format(sql.Identifier(link["server"])))

    def step_validate(self) -> None:
        problems = validate_sample(self.settings.database("webapp", dbname=self.names.next), self.territories)
        if problems:
            raise UserError("the new sample is not valid: " + "; ".join(problems)
                            + f"; the previous {self.names.live} is unchanged")

    def step_swap(self) -> None:
        """Rename next over live in one transaction; the old one is dropped only after. Nobody
        can connect to the old sample meanwhile; its sessions are ended first."""
        live, next_, old = self.names.live, self.names.next, self.names.old
        with connect(self.webapp) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(old)))
            had_live = self._exists(conn, live)
            if had_live:
                conn.execute(sql.SQL("alter database {} allow_connections false").format(sql.Identifier(live)))
            try:
                for attempt in range(3):
                    for dbname in (live, next_):
                        kept = self._disconnect(conn, dbname)
                        if kept:
                            raise UserError(
                                f"{dbname} is still in use by sessions this role may not end ({kept}): the previous "
                                f"{live} is kept; close them and run again")
                    try:
                        with conn.transaction():
                            if had_live:
                                conn.execute(sql.SQL("alter database {} rename to {}").format(
                                    sql.Identifier(live), sql.Identifier(old)))
                            conn.execute(sql.SQL("alter database {} rename to {}").format(
                                sql.Identifier(next_), sql.Identifier(live)))
                        break
                    except psycopg.errors.ObjectInUse:  # a session came back during the 5 s PostgreSQL waits
                        if attempt == 2:
                            raise UserError(
                                f"{live} is still in use by sessions this role may not end (a superuser's?): "
                                f"the previous {live} is kept; close them and run again") from None
                        time.sleep(0.2)
            except BaseException:
                if had_live and self._exists(conn, live):
                    conn.execute(sql.SQL("alter database {} allow_connections true").format(sql.Identifier(live)))
                raise
            if had_live:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(old)))

    # -- helpers ----------------------------------------------------------------------------------
    def drop_next(self) -> None:
        with connect(self.webapp) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(self.names.next)))

    @staticmethod
    def _exists(conn: psycopg.Connection, dbname: str) -> bool:
        return conn.execute("select 1 from pg_database where datname = %s", [dbname]).fetchone() is not None

    @staticmethod
    def _disconnect(conn: psycopg.Connection, dbname: str) -> str:
        """End every other session on `dbname`, whatever its role (pg_signal_backend lets the
        owner end other roles' sessions); return the roles of the sessions it may not end
        (superusers'), background workers aside."""
        sessions = conn.execute("""select a.pid, a.usename, coalesce(r.rolsuper, false) from pg_stat_activity as a
            left join pg_roles as r on r.oid = a.usesysid
            where a.datname = %s and a.pid <> pg_backend_pid() and a.usesysid is not null""", [dbname]).fetchall()
        for pid, _role, superuser in sessions:
            if not superuser:
                conn.execute("select pg_terminate_backend(%s)", [pid])
        return ", ".join(sorted({role for _pid, role, superuser in sessions if superuser}))

    def counts(self) -> dict[str, int]:
        assert self.plan is not None
        with connect(self.settings.database("webapp", dbname=self.names.live)) as conn:
            return {name: conn.execute(sql.SQL("select count(*) from public.{}").format(sql.Identifier(name))).fetchone()[0]
                    for name, plan in sorted(self.plan.tables.items()) if plan.kind not in ("extension",)}
