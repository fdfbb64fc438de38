"""The postgres_fdw links: what they import, idempotency, atomicity, read-only, secrets, speed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
import yaml

from lacarte.dbt import DbtFailure
from lacarte.settings import PROJECT_DIR, Settings
from tests.platform_pair import Pair

SOURCES_YAML = PROJECT_DIR / "models" / "staging" / "webapp" / "_webapp__models.yml"


def declared_source_tables() -> set[str]:
    sources = yaml.safe_load(SOURCES_YAML.read_text())["sources"]
    return {table["name"] for source in sources for table in source["tables"]}


def foreign_tables(pair: Pair, side: str, schema: str) -> dict[str, tuple[int, tuple[str, ...]]]:
    """name -> (oid, columns) of the foreign tables of a schema."""
    rows = pair.query(side, """
        select c.relname, c.oid::int, array_agg(a.attname::text || ' ' || format_type(a.atttypid, a.atttypmod) order by a.attnum)
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where c.relkind = 'f' and n.nspname = %s group by c.relname, c.oid""", [schema])
    return {name: (oid, tuple(columns)) for name, oid, columns in rows}


def link_snapshot(pair: Pair) -> tuple:
    server = pair.query("warehouse", """select s.srvoptions, um.umoptions from pg_foreign_server s
        join pg_user_mappings um on um.srvid = s.oid where s.srvname = 'webapp_server'""")
    return server, foreign_tables(pair, "warehouse", "webapp_public")


def test_warehouse_link_imports_exactly_the_declared_sources(linked_pair: Pair):
    imported = set(foreign_tables(linked_pair, "warehouse", "webapp_public"))
    assert imported == declared_source_tables()
    assert not imported & {"auth_user", "django_session", "data_suggestion", "qfdmo_displayedacteur"}


def test_webapp_link_imports_the_exposure_schema_only(linked_pair: Pair):
    imported = set(foreign_tables(linked_pair, "webapp", "warehouse_public"))
    built = {r[0] for r in linked_pair.query("warehouse", "select tablename from pg_tables where schemaname = 'exposure'")}
    assert imported == built
    assert len(imported) == 7


def test_server_options(linked_pair: Pair):
    options = dict(o.split("=", 1) for o in linked_pair.query(
        "warehouse", "select srvoptions from pg_foreign_server where srvname = 'webapp_server'")[0][0])
    assert options["fetch_size"] == "10000"
    assert options["extensions"] == "postgis"
    assert options["updatable"] == "false"
    assert options["truncatable"] == "false"


def test_a_no_op_refresh_keeps_every_foreign_table_and_what_is_built_on_it(linked_pair: Pair):
    linked_pair.execute("warehouse", "create schema if not exists scratch; "
                        "create or replace view scratch.actions as select id, code from webapp_public.qfdmo_action")
    before = foreign_tables(linked_pair, "warehouse", "webapp_public")
    linked_pair.dbt("run-operation", "refresh_fdw", "--target", "warehouse")
    assert foreign_tables(linked_pair, "warehouse", "webapp_public") == before
    assert linked_pair.query("warehouse", "select count(*) > 0 from scratch.actions") == [(True,)]


def test_dry_run_then_dependents_then_cascade(linked_pair: Pair, capsys):
    pair = linked_pair
    pair.execute("warehouse", "create schema if not exists scratch; "
                 "create or replace view scratch.actions as select id, code from webapp_public.qfdmo_action")
    pair.execute("webapp", "alter table qfdmo_action add column couleur text not null default ''")
    try:
        before = foreign_tables(pair, "warehouse", "webapp_public")
        capsys.readouterr()
        pair.dbt("run-operation", "refresh_fdw", "--target", "warehouse", "--args", "{dry_run: true}")
        out = capsys.readouterr().out
        assert "[dry run] would apply: change qfdmo_action (column couleur added (text not null)" in out
        assert "refused without cascade: scratch.actions depend on it" in out
        assert foreign_tables(pair, "warehouse", "webapp_public") == before
        with pytest.raises(DbtFailure, match="scratch.actions"):
            pair.dbt("run-operation", "refresh_fdw", "--target", "warehouse")
        assert foreign_tables(pair, "warehouse", "webapp_public") == before
        pair.dbt("run-operation", "refresh_fdw", "--target", "warehouse", "--args", "{cascade: true}")
        after = foreign_tables(pair, "warehouse", "webapp_public")
        assert "couleur text" in after["qfdmo_action"][1]
        assert pair.query("warehouse", "select to_regclass('scratch.actions')") == [(None,)]
        # Only the changed table was re-imported.
        assert {k: v for k, v in after.items() if k != "qfdmo_action"} == {
            k: v for k, v in before.items() if k != "qfdmo_action"}
    finally:
        pair.execute("webapp", "alter table qfdmo_action drop column if exists couleur")
        pair.dbt("run-operation", "refresh_fdw", "--target", "warehouse")


def test_remote_stopped_leaves_the_link_as_it_was(linked_pair: Pair):
    pair = linked_pair
    before = link_snapshot(pair)
    pair.execute("webapp", "alter table qfdmo_action add column couleur text")
    webapp = pair.instances.instances[0]
    pair.instances._pg_ctl(webapp, "stop", "-w", "-m", "fast")
    try:
        with pytest.raises(DbtFailure, match="could not connect|Connection refused|connection to server"):
            pair.dbt("run-operation", "refresh_fdw", "--target", "warehouse")
        assert link_snapshot(pair) == before
    finally:
        pair.up()
        pair.execute("webapp", "alter table qfdmo_action drop column couleur")


def test_wrong_password_leaves_the_link_as_it_was(linked_pair: Pair):
    before = link_snapshot(linked_pair)
    wrong = Settings(environ={**linked_pair.settings.values, "WEBAPP_READER_PASSWORD": "wrong-password-123"})
    from lacarte.dbt import run_dbt
    with pytest.raises(DbtFailure, match="password authentication failed"):
        run_dbt(wrong, ["run-operation", "refresh_fdw", "--target", "warehouse"], quiet=True)
    assert link_snapshot(linked_pair) == before


def test_type_missing_locally_leaves_the_link_as_it_was(linked_pair: Pair):
    pair = linked_pair
    before = link_snapshot(pair)
    pair.execute("webapp", "create type humeur as enum ('gai', 'triste'); alter table qfdmo_action add column humeur humeur")
    try:
        with pytest.raises(DbtFailure, match="humeur"):
            pair.dbt("run-operation", "refresh_fdw", "--target", "warehouse")
        assert link_snapshot(pair) == before
    finally:
        pair.execute("webapp", "alter table qfdmo_action drop column humeur; drop type humeur")


def test_lock_timeout_leaves_the_link_as_it_was(linked_pair: Pair):
    pair = linked_pair
    before = link_snapshot(pair)
    pair.execute("webapp", "alter table qfdmo_action add column couleur text")
    reader = pair.connect("warehouse", autocommit=False)
    try:
        reader.execute("select count(*) from webapp_public.qfdmo_action")  # holds its lock until rollback
        with pytest.raises(DbtFailure, match="lock timeout"):
            pair.dbt("run-operation", "refresh_fdw", "--target", "warehouse", "--vars", "{fdw_lock_timeout: 1s}")
        reader.rollback()
        assert link_snapshot(pair) == before
    finally:
        reader.close()
        pair.execute("webapp", "alter table qfdmo_action drop column couleur")


@pytest.mark.parametrize("statement", [
    "insert into {t} (id, code, libelle, afficher, \"order\") values (999, 'x', 'x', true, 1)",
    "update {t} set libelle = 'x'",
    "delete from {t}",
    "truncate {t}",
    "copy {t} from stdin",
])
def test_warehouse_link_is_read_only(linked_pair: Pair, statement: str):
    with linked_pair.connect("warehouse") as conn:
        with pytest.raises(psycopg.Error):
            if statement.startswith("copy"):
                with conn.cursor().copy(statement.format(t="webapp_public.qfdmo_action")) as copy:
                    copy.write_row((999, "x", "x", True, 1))
            else:
                conn.execute(statement.format(t="webapp_public.qfdmo_action"))
    assert linked_pair.query("webapp", "select count(*) from qfdmo_action where id = 999") == [(0,)]


@pytest.mark.parametrize("statement", [
    "insert into {t} (displayedacteur_id, labelqualite_id) values ('x', 1)",
    "update {t} set labelqualite_id = 1",
    "delete from {t}",
    "truncate {t}",
    "copy {t} from stdin",
])
def test_webapp_link_is_read_only(linked_pair: Pair, statement: str):
    table = "warehouse_public.exposure_carte_acteur_labels"
    before = linked_pair.query("warehouse", "select count(*) from exposure.exposure_carte_acteur_labels")
    with linked_pair.connect("webapp") as conn:
        with pytest.raises(psycopg.Error):
            if statement.startswith("copy"):
                with conn.cursor().copy(statement.format(t=table)) as copy:
                    copy.write_row(("x", 1))
            else:
                conn.execute(statement.format(t=table))
    assert linked_pair.query("warehouse", "select count(*) from exposure.exposure_carte_acteur_labels") == before


def test_reader_roles_are_read_only_and_see_only_what_is_exposed(linked_pair: Pair):
    with linked_pair.connect("webapp", user="webapp_reader") as conn:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("create temp table t (id int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from auth_user")
        assert conn.execute("select count(*) from qfdmo_action").fetchone()[0] > 0
    with linked_pair.connect("warehouse", user="warehouse_reader") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from marts.carte_acteurs")
        assert conn.execute("select count(*) from exposure.exposure_carte_acteur").fetchone()[0] > 0


def test_spatial_filters_are_pushed_to_the_webapp(linked_pair: Pair):
    plan = "\n".join(r[0] for r in linked_pair.query("warehouse", """explain verbose
        select identifiant_unique from webapp_public.qfdmo_acteur
        where st_dwithin(location, st_makepoint(-2.99, 47.67)::geography, 10000)"""))
    remote_sql = [line for line in plan.splitlines() if "Remote SQL" in line]
    assert remote_sql and "st_dwithin" in remote_sql[0].lower(), plan


def test_drift_guard_stops_the_build_at_once(linked_pair: Pair):
    pair = linked_pair
    pair.execute("webapp", "alter table qfdmo_labelqualite add column couleur text")
    try:
        with pytest.raises(DbtFailure) as failure:
            pair.dbt("build", "--select", "stg_webapp__labels")
        message = str(failure.value)
        assert "webapp_public.qfdmo_labelqualite: column couleur added" in message
        assert "dbt run-operation refresh_fdw --target warehouse" in message
    finally:
        pair.execute("webapp", "alter table qfdmo_labelqualite drop column couleur")
    pair.dbt("build", "--select", "stg_webapp__labels")


def test_fdw_status_shows_server_user_tables_and_drift(linked_pair: Pair, capsys):
    linked_pair.dbt("run-operation", "fdw_status", "--target", "warehouse")
    out = capsys.readouterr().out
    assert "server webapp_server (" in out and "fetch_size=10000" in out
    assert "mapped remote user: user=webapp_reader" in out
    assert "qfdmo_acteur (33 columns)" in out
    assert "drift: none" in out


def run_script(pair: Pair, script: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in pair.settings.values.items() if k.isupper() or k == "PATH"}
    env["PATH"] = os.environ["PATH"]
    return subprocess.run([sys.executable, str(PROJECT_DIR / "scripts" / script), *args],
                          capture_output=True, text=True, env=env, timeout=300)


def test_deploy_exits_1_when_a_refresh_fails(linked_pair: Pair):
    linked_pair.execute("webapp", "create type humeur as enum ('gai'); alter table qfdmo_action add column humeur humeur")
    try:
        failed = run_script(linked_pair, "deploy.py")
        assert failed.returncode == 1
        assert "deploy failed at the warehouse link" in failed.stdout and "humeur" in failed.stdout
    finally:
        linked_pair.execute("webapp", "alter table qfdmo_action drop column humeur; drop type humeur")


def test_deploy_refreshes_both_links_and_fails_clearly(linked_pair: Pair):
    done = run_script(linked_pair, "deploy.py")
    assert done.returncode == 0, done.stderr
    assert "deploy: both links are up to date" in done.stdout
    warehouse = linked_pair.instances.instances[1]
    linked_pair.instances._pg_ctl(warehouse, "stop", "-w", "-m", "fast")
    try:
        failed = run_script(linked_pair, "deploy.py")
        assert failed.returncode == 2
        assert "cannot connect to warehouse@" in failed.stderr and "is the instance running?" in failed.stderr
    finally:
        linked_pair.up()


def test_concurrent_readers_never_fail_during_refreshes(linked_pair: Pair):
    pair = linked_pair
    compiled = pair.dbt("compile", "--inline", "{{ fdw_refresh_sql(fdw_link(), false, false) }}")
    refresh_sql = compiled.result.results[0].node.compiled_code
    stop = threading.Event()
    errors: list[str] = []
    reads = [0]

    def reader() -> None:
        with pair.connect("warehouse") as conn:
            while not stop.is_set():
                try:
                    conn.execute("select count(*) from webapp_public.qfdmo_acteur").fetchone()
                    conn.execute("select id, code from webapp_public.qfdmo_acteurtype").fetchall()
                    reads[0] += 1
                except psycopg.Error as error:
                    errors.append(str(error))

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    try:
        with pair.connect("warehouse") as refresher, pair.connect("webapp") as webapp:
            for index in range(50):
                if index % 5 == 4:  # a real change every fifth refresh
                    if index % 10 == 4:
                        webapp.execute("alter table qfdmo_acteurtype add column couleur text")
                    else:
                        webapp.execute("alter table qfdmo_acteurtype drop column couleur")
                refresher.execute(refresh_sql)
                assert time.monotonic() < deadline
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        pair.execute("webapp", "alter table qfdmo_acteurtype drop column if exists couleur")
        pair.dbt("run-operation", "refresh_fdw", "--target", "warehouse")
    assert errors == []
    assert reads[0] > 50


def test_no_secret_in_logs_target_output_or_server_logs(linked_pair: Pair, capsys):
    linked_pair.dbt("run-operation", "refresh_fdw", "--target", "warehouse")
    linked_pair.dbt("run-operation", "refresh_fdw", "--target", "webapp")
    output = capsys.readouterr()
    places: list[Path] = []
    for folder in (linked_pair.root / "dbt_logs", linked_pair.root / "dbt_target", linked_pair.root / "data"):
        places.extend(p for p in folder.rglob("*") if p.is_file() and (p.suffix in {".log", ".json", ".sql", ".msgpack"}
                                                                        or p.name.endswith(".log")))
    server_logs = [i.log_file for i in linked_pair.instances.instances]
    assert all(log.exists() for log in server_logs)
    assert "refresh" in server_logs[1].read_text() or "do $refresh$" in server_logs[1].read_text().lower()
    for password in linked_pair.all_passwords():
        assert password not in output.out + output.err
        for place in places + server_logs:
            assert password.encode() not in place.read_bytes(), f"{place} holds a password"
