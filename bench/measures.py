"""Each benchmark figure: a function returning wall-clock seconds per run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import psycopg

from bench.harness import BenchPair
from lacarte.dbt import target_path
from lacarte.instances import pgbin
from lacarte.sample.build import SampleBuilder
from lacarte.steps import step_named

# The daily job's build step, as the job runs it (the change set is its own step).
BUILD = step_named("run", "build")

SOURCE_TABLES_SQL = """select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'webapp_public' and c.relkind = 'f' order by 1"""


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@contextmanager
def reader_latency(pair: BenchPair, side: str, query: str):
    """Run `query` in a loop on another connection; yield a list that ends up holding the
    longest single execution seen while the block ran."""
    stop = threading.Event()
    longest = [0.0]

    def loop() -> None:
        with pair.connect(side) as conn:
            while not stop.is_set():
                started = time.perf_counter()
                conn.execute(query).fetchall()
                longest[0] = max(longest[0], time.perf_counter() - started)
                time.sleep(0.002)

    thread = threading.Thread(target=loop)
    thread.start()
    time.sleep(0.2)
    try:
        yield longest
    finally:
        stop.set()
        thread.join()


def full_build(pair: BenchPair, repeat: int) -> list[float]:
    runs = [timed(lambda: pair.dbt(*BUILD.dbt)) for _ in range(repeat)]
    pair.dbt("run-operation", "refresh_fdw", "--target", "webapp", link_password_for="webapp")
    return runs


def _second_server(conn, name: str, schema: str, options: str, remote_schema: str, tables: list[str] | None,
                   remote_user: str, password_setting: str) -> None:
    """A server like the project's link but with other options (its password from a session setting)."""
    conn.execute(f"drop schema if exists {schema} cascade")
    conn.execute(f"drop server if exists {name} cascade")
    conn.execute(f"create server {name} foreign data wrapper postgres_fdw options ({options})")
    conn.execute(f"""do $$ begin execute format('create user mapping for current_user server {name}
        options (user %L, password %L)', '{remote_user}', current_setting('{password_setting}')); end $$""")
    conn.execute(f"create schema {schema}")
    limit = f"limit to ({', '.join(tables)})" if tables else ""
    conn.execute(f"import foreign schema {remote_schema} {limit} from server {name} into {schema}")


def pull(pair: BenchPair, repeat: int) -> dict[str, list[float]]:
    """Copy every source table into the warehouse: tuned link, default link, local copy."""
    webapp = pair.settings.database("webapp")
    with pair.connect("warehouse", options=pair.reader_password_options("warehouse")) as conn:
        tables = [r[0] for r in conn.execute(SOURCE_TABLES_SQL)]
        _second_server(conn, "bench_defaults_server", "bench_defaults",
                       f"host '{webapp.host}', port '{webapp.port}', dbname '{webapp.dbname}', updatable 'false'",
                       "public", tables, "webapp_reader", "lacarte.webapp_reader_password")
        conn.execute("drop schema if exists bench_local cascade; create schema bench_local")
        for table in tables:
            conn.execute(f"create table bench_local.{table} as select * from webapp_public.{table}")
        conn.execute("vacuum analyze")
        sources = {"tuned": "webapp_public", "defaults": "bench_defaults", "local": "bench_local"}
        runs: dict[str, list[float]] = {variant: [] for variant in sources}

        def copy_all(schema: str) -> None:
            conn.execute("drop schema if exists bench_out cascade; create schema bench_out")
            for table in tables:
                conn.execute(f"create unlogged table bench_out.{table} as select * from {schema}.{table}")

        for _ in range(repeat):
            for variant, schema in sources.items():
                runs[variant].append(timed(lambda schema=schema: copy_all(schema)))
        conn.execute("drop schema bench_out cascade; drop schema bench_local cascade; "
                     "drop server bench_defaults_server cascade")
    return runs


def _dbt_cli(pair: BenchPair, *args: str) -> None:
    """dbt in a process of its own, as a deploy or an Airflow task runs it."""
    target = args[args.index("--target") + 1]
    password_for = target if "refresh_fdw" in args else None
    env = {**os.environ, **pair.settings.dbt_environment(password_for)}
    project = pair.settings.project.root
    subprocess.run([str(Path(sys.executable).with_name("dbt")), *args, "--target-path",
                    str(target_path(pair.settings, list(args)))], env=env, check=True, capture_output=True, cwd=project)


def link_refresh(pair: BenchPair, repeat: int) -> dict[str, list[float]]:
    """A no-op refresh and a refresh after a column was added, as a deploy runs them (dbt CLI)."""
    runs: dict[str, list[float]] = {"noop": [], "changed": [], "blocked": []}
    refresh = ("--no-write-json", "run-operation", "refresh_fdw", "--target", "warehouse")
    _dbt_cli(pair, *refresh)
    with pair.connect("webapp") as webapp:
        for index in range(repeat):
            runs["noop"].append(timed(lambda: _dbt_cli(pair, *refresh)))
            webapp.execute(f"alter table qfdmo_acteurtype add column bench_{index} text")
            with reader_latency(pair, "warehouse", "select id, code from webapp_public.qfdmo_acteurtype") as longest:
                runs["changed"].append(timed(lambda: _dbt_cli(pair, *refresh)))
            runs["blocked"].append(longest[0])
        for index in range(repeat):
            webapp.execute(f"alter table qfdmo_acteurtype drop column bench_{index}")
    _dbt_cli(pair, *refresh)
    return runs


def publication(pair: BenchPair, repeat: int) -> dict[str, list[float]]:
    runs: dict[str, list[float]] = {"full": [], "unchanged": [], "blocked": []}
    publish = ("run-operation", "publish_exposures", "--target", "webapp", "--args", "{min_ratio: 0}")
    reader = ("select count(*), max(uuid) from qfdmo_displayedacteur where identifiant_unique between "
              "'ademe_ext00000100' and 'ademe_ext00000200'")
    with pair.connect("webapp") as webapp:
        for _ in range(repeat):
            webapp.execute("""delete from qfdmo_displayedpropositionservice_sous_categories;
                delete from qfdmo_displayedpropositionservice; delete from qfdmo_displayedacteur_labels;
                delete from qfdmo_displayedacteur_acteur_services; delete from qfdmo_displayedacteur_sources;
                delete from qfdmo_displayedperimetreadomicile; delete from qfdmo_displayedacteur""")
            webapp.execute("vacuum analyze qfdmo_displayedacteur")
            # A dbt process of its own: the reader thread must not wait for this process's GIL.
            with reader_latency(pair, "webapp", reader) as longest:
                runs["full"].append(timed(lambda: _dbt_cli(pair, *publish)))
            runs["blocked"].append(longest[0])
            runs["unchanged"].append(timed(lambda: _dbt_cli(pair, *publish)))
    return runs


def sample_build(pair: BenchPair, repeat: int) -> list[float]:
    return [timed(lambda: SampleBuilder(pair.settings).run()) for _ in range(repeat)]


def dump_restore(pair: BenchPair, repeat: int) -> list[float]:
    """The naive baseline: the whole webapp through pg_dump | pg_restore."""
    webapp = pair.settings.database("webapp")
    bindir = pgbin.find_bindir(pair.settings.values)
    env = {**os.environ, "PGPASSWORD": webapp.password}
    common = ["-h", webapp.host, "-p", str(webapp.port), "-U", webapp.user]
    runs = []
    for _ in range(repeat):
        with pair.connect("webapp") as conn:
            conn.execute("drop database if exists bench_dump_copy")
            conn.execute("create database bench_dump_copy")

        def copy() -> None:
            dump = subprocess.Popen([str(bindir / "pg_dump"), *common, "-Fc", "--no-owner", webapp.dbname],
                                    stdout=subprocess.PIPE, env=env)
            subprocess.run([str(bindir / "pg_restore"), *common, "--no-owner", "-d", "bench_dump_copy"],
                           stdin=dump.stdout, env=env, capture_output=True)
            dump.wait()

        runs.append(timed(copy))
        with pair.connect("webapp") as conn:
            conn.execute("drop database bench_dump_copy with (force)")
    return runs


NO_PUSHDOWN_TIMEOUT_S = 120
MAP_QUERY = """select a.identifiant_unique
from {schema}.{acteur} a
join {schema}.{proposition} p on p.acteur_id = a.identifiant_unique
join {schema}.{sous_categorie} s on s.displayedpropositionservice_id = p.id
where s.souscategorieobjet_id = 5
  and st_dwithin(a.location, st_setsrid(st_makepoint(2.3508, 48.8567), 4326)::geography, 10000)"""


def map_query(pair: BenchPair, repeat: int) -> dict[str, list[float]]:
    """La Carte's query on the published tables, through the link with and without pushdown."""
    pair.dbt("run-operation", "publish_exposures", "--target", "webapp", "--args", "{min_ratio: 0}")
    warehouse = pair.settings.database("warehouse")
    with pair.connect("webapp", options=pair.reader_password_options("webapp")) as conn:
        _second_server(conn, "bench_nopush_server", "bench_nopush",
                       f"host '{warehouse.host}', port '{warehouse.port}', dbname '{warehouse.dbname}', "
                       "fetch_size '10000', updatable 'false'",
                       "exposure", None, "warehouse_reader", "lacarte.warehouse_reader_password")
        local = {"acteur": "qfdmo_displayedacteur", "proposition": "qfdmo_displayedpropositionservice",
                 "sous_categorie": "qfdmo_displayedpropositionservice_sous_categories"}
        linked = {"acteur": "exposure_carte_acteur", "proposition": "exposure_carte_propositionservice",
                  "sous_categorie": "exposure_carte_propositionservice_sous_categories"}
        queries = {
            "local": MAP_QUERY.format(schema="public", **local),
            "link_pushdown": MAP_QUERY.format(schema="warehouse_public", **linked),
            "link_no_pushdown": MAP_QUERY.format(schema="bench_nopush", **linked),
        }
        conn.execute(f"set statement_timeout = '{NO_PUSHDOWN_TIMEOUT_S}s'")
        counts = {variant: len(conn.execute(query).fetchall())
                  for variant, query in queries.items() if variant != "link_no_pushdown"}
        assert len(set(counts.values())) == 1, f"the variants disagree: {counts}"
        runs: dict[str, list[float]] = {variant: [] for variant in queries}
        for _ in range(repeat):
            for variant in ("local", "link_pushdown"):
                runs[variant].append(timed(lambda variant=variant: conn.execute(queries[variant]).fetchall()))
        # Without pushdown every actor crosses the link: once, bounded by the statement timeout.
        started = time.perf_counter()
        try:
            rows = len(conn.execute(queries["link_no_pushdown"]).fetchall())
            assert rows == counts["local"], f"without pushdown: {rows} rows, locally {counts['local']}"
            runs["link_no_pushdown"].append(time.perf_counter() - started)
        except psycopg.errors.QueryCanceled:
            runs["link_no_pushdown"].append(float(NO_PUSHDOWN_TIMEOUT_S))  # a lower bound
        conn.execute("reset statement_timeout")
        conn.execute("drop server bench_nopush_server cascade")
    return runs
