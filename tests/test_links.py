"""The postgres_fdw links: what they import, idempotency, atomicity, read-only, tampering,
secrets and refusals."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
import yaml

from lacarte.dbt import DbtFailure, run_dbt
from lacarte.errors import UserError
from lacarte.pipeline import run_steps
from lacarte.project import Project
from lacarte.settings import Settings
from lacarte.steps import DEPLOY, MAIN, step_named
from tests.platform_pair import PROJECT, Pair

SOURCES_YAML = PROJECT.root / "models" / "staging" / "webapp" / "_webapp__sources.yml"
LACARTE = str(Path(sys.executable).with_name("lacarte"))


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


def refresh(pair: Pair, target: str, *args: str, settings: Settings | None = None):
    return run_dbt(settings or pair.settings, ["run-operation", "refresh_fdw", "--target", target, *args], quiet=True,
                   link_password_for=target)


def test_warehouse_link_imports_exactly_the_declared_sources(linked_pair: Pair):
    imported = set(foreign_tables(linked_pair, "warehouse", "webapp_public"))
    assert imported == declared_source_tables()
    granted = {r[0] for r in linked_pair.query("webapp", """select table_name from information_schema.role_table_grants
        where grantee = 'webapp_reader' and table_schema = 'public'""", user="admin")}
    assert granted == declared_source_tables()


def test_webapp_link_imports_the_exposure_schema_only(linked_pair: Pair):
    imported = set(foreign_tables(linked_pair, "webapp", "warehouse_public"))
    built = {r[0] for r in linked_pair.query("warehouse", "select tablename from pg_tables where schemaname = 'exposure'")}
    # 14 published exposures, the change set (its rows and its header) and the open-data file.
    assert imported == built and len(imported) == 17
    assert {"exposure_publication_changes", "exposure_publication_change_set", "exposure_opendata_acteur"} <= imported


def test_server_options_say_read_only_tls_and_pushdown(linked_pair: Pair):
    options = dict(o.split("=", 1) for o in linked_pair.query(
        "warehouse", "select srvoptions from pg_foreign_server where srvname = 'webapp_server'")[0][0])
    assert options["fetch_size"] == "10000" and options["extensions"] == "postgis"
    assert options["updatable"] == "false" and options["truncatable"] == "false"
    assert options["sslmode"] == "verify-full" and options["sslrootcert"].endswith("ca.crt")


@pytest.fixture
def project_copy(tmp_path) -> Project:
    """A copy of the dbt project, to declare what the real one must never declare."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT.root, root, ignore=shutil.ignore_patterns(
        ".venv*", ".pgdata", ".git", "target", "logs", "dbt_packages", "bench", "tests", "src", "*.lock"))
    return Project(root)


def test_personal_tables_are_never_linked_whatever_the_sources_say(linked_pair: Pair, project_copy: Project):
    real = yaml.safe_load((project_copy.root / "models/staging/webapp/_webapp__sources.yml").read_text())
    real["sources"][0]["tables"] += [{"name": "auth_user"}, {"name": "data_suggestion"}]
    (project_copy.root / "models/staging/webapp/_webapp__sources.yml").write_text(yaml.safe_dump(real))
    settings = Settings(project_copy, environ={**linked_pair.settings.values,
                                               "DBT_TARGET_PATH": str(project_copy.root / "target")})
    before = link_snapshot(linked_pair)
    for target in ("webapp", "warehouse"):
        with pytest.raises(DbtFailure, match=r"auth_user \(personal\), data_suggestion \(excluded\)"):
            refresh(linked_pair, target, settings=settings)
    assert link_snapshot(linked_pair) == before
    grants = linked_pair.query("webapp", """select count(*) from information_schema.role_table_grants
        where grantee = 'webapp_reader' and table_name in ('auth_user', 'data_suggestion')""", user="admin")
    assert grants == [(0,)]


def test_a_no_op_refresh_keeps_every_foreign_table_and_what_is_built_on_it(linked_pair: Pair, capsys):
    linked_pair.execute("warehouse", "create schema if not exists scratch; "
                        "create or replace view scratch.actions as select id, code from webapp_public.qfdmo_action")
    before = foreign_tables(linked_pair, "warehouse", "webapp_public")
    capsys.readouterr()
    refresh(linked_pair, "warehouse")
    assert "0 change(s), 20 table(s) unchanged" in capsys.readouterr().out
    assert foreign_tables(linked_pair, "warehouse", "webapp_public") == before
    assert linked_pair.query("warehouse", "select count(*) > 0 from scratch.actions") == [(True,)]


def test_dry_run_then_dependents_then_cascade(linked_pair: Pair, capsys):
    pair = linked_pair
    pair.execute("warehouse", "create schema if not exists scratch; "
                 "create or replace view scratch.actions as select id, code from webapp_public.qfdmo_action")
    pair.execute("webapp", "alter table qfdmo_action add column couleur2 text not null default ''")
    try:
        before = foreign_tables(pair, "warehouse", "webapp_public")
        capsys.readouterr()
        refresh(pair, "warehouse", "--args", "{dry_run: true}")
        out = capsys.readouterr().out
        assert "would change webapp_public.qfdmo_action (column couleur2 added (text not null))" in out
        assert "refused without cascade: webapp_public.qfdmo_action must be re-imported but these objects depend on it: " \
               "scratch.actions" in out
        assert foreign_tables(pair, "warehouse", "webapp_public") == before
        with pytest.raises(DbtFailure, match="scratch.actions"):
            refresh(pair, "warehouse")
        assert foreign_tables(pair, "warehouse", "webapp_public") == before
        refresh(pair, "warehouse", "--args", "{cascade: true}")
        after = foreign_tables(pair, "warehouse", "webapp_public")
        assert "couleur2 text" in after["qfdmo_action"][1]
        assert pair.query("warehouse", "select to_regclass('scratch.actions')") == [(None,)]
        # Only the changed table was re-imported.
        assert {k: v for k, v in after.items() if k != "qfdmo_action"} == {
            k: v for k, v in before.items() if k != "qfdmo_action"}
    finally:
        pair.execute("webapp", "alter table qfdmo_action drop column if exists couleur2")
        refresh(pair, "warehouse")


@pytest.mark.parametrize("args, message", [
    ("{cascade: 'false'}", 'argument cascade must be true or false.*got "false"'),
    ("{dry_run: 1}", "argument dry_run must be true or false.*got 1"),
])
def test_arguments_of_the_wrong_type_change_nothing(linked_pair: Pair, args: str, message: str):
    linked_pair.execute("warehouse", "create schema if not exists scratch; "
                        "create or replace view scratch.actions as select id, code from webapp_public.qfdmo_action")
    linked_pair.execute("webapp", "alter table qfdmo_action add column couleur3 text")
    try:
        before = link_snapshot(linked_pair)
        with pytest.raises(DbtFailure, match=message):
            refresh(linked_pair, "warehouse", "--args", args)
        assert link_snapshot(linked_pair) == before
        assert linked_pair.query("warehouse", "select to_regclass('scratch.actions') is not null") == [(True,)]
    finally:
        linked_pair.execute("webapp", "alter table qfdmo_action drop column couleur3")
        linked_pair.execute("warehouse", "drop view if exists scratch.actions")


def test_remote_stopped_leaves_the_link_as_it_was(linked_pair: Pair):
    pair = linked_pair
    before = link_snapshot(pair)
    pair.execute("webapp", "alter table qfdmo_action add column couleur4 text")
    webapp = pair.instances.instances[0]
    pair.instances._pg_ctl(webapp, "stop", "-w", "-m", "fast")
    try:
        with pytest.raises(DbtFailure, match="could not connect|Connection refused|connection to server"):
            refresh(pair, "warehouse")
        assert link_snapshot(pair) == before
    finally:
        pair.up()
        pair.execute("webapp", "alter table qfdmo_action drop column couleur4")


def test_wrong_password_leaves_the_link_as_it_was(linked_pair: Pair):
    before = link_snapshot(linked_pair)
    wrong = linked_pair.settings.with_values(WEBAPP_READER_PASSWORD="wrong-password-123")
    with pytest.raises(DbtFailure, match="password authentication failed"):
        refresh(linked_pair, "warehouse", settings=wrong)
    assert link_snapshot(linked_pair) == before


def test_type_missing_locally_leaves_the_link_as_it_was(linked_pair: Pair):
    pair = linked_pair
    before = link_snapshot(pair)
    pair.execute("webapp", "create type humeur as enum ('gai', 'triste'); alter table qfdmo_action add column humeur humeur")
    try:
        with pytest.raises(DbtFailure, match="humeur"):
            refresh(pair, "warehouse")
        assert link_snapshot(pair) == before
    finally:
        pair.execute("webapp", "alter table qfdmo_action drop column humeur; drop type humeur")


def test_lock_timeout_leaves_the_link_as_it_was(linked_pair: Pair):
    pair = linked_pair
    before = link_snapshot(pair)
    pair.execute("webapp", "alter table qfdmo_action add column couleur5 text")
    reader = pair.connect("warehouse", autocommit=False)
    try:
        reader.execute("select count(*) from webapp_public.qfdmo_action")  # holds its lock until rollback
        with pytest.raises(DbtFailure, match="lock timeout"):
            refresh(pair, "warehouse", "--vars", "{fdw_lock_timeout: 1s}")
        reader.rollback()
        assert link_snapshot(pair) == before
    finally:
        reader.close()
        pair.execute("webapp", "alter table qfdmo_action drop column couleur5")


def test_a_reader_cannot_block_or_touch_the_refresh(linked_pair: Pair):
    pair = linked_pair
    with pair.connect("warehouse", user="analyst") as analyst:
        analyst.execute("select pg_advisory_lock(hashtext('lacarte.refresh_fdw.webapp_public'))")
        analyst.execute("set default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            analyst.execute("alter server webapp_server version 'x'")
        pair.execute("webapp", "alter table qfdmo_action add column couleur6 text")
        try:
            refresh(pair, "warehouse", "--vars", "{fdw_lock_timeout: 2s}")
            assert "couleur6 text" in foreign_tables(pair, "warehouse", "webapp_public")["qfdmo_action"][1]
        finally:
            pair.execute("webapp", "alter table qfdmo_action drop column couleur6")
            refresh(pair, "warehouse")


def status(pair: Pair, target: str, capsys) -> str:
    capsys.readouterr()
    pair.dbt("run-operation", "fdw_status", "--target", target)
    return capsys.readouterr().out


@pytest.mark.parametrize("tamper, untamper, seen", [
    ("alter foreign table webapp_public.qfdmo_action options (add updatable 'true')",
     "alter foreign table webapp_public.qfdmo_action options (drop updatable)",
     "change webapp_public.qfdmo_action (table options webapp_server schema_name=public table_name=qfdmo_action "
     "updatable=true -> webapp_server schema_name=public table_name=qfdmo_action)"),
    ("alter server webapp_server options (add options '-c default_transaction_read_only=off')",
     "alter server webapp_server options (drop options)",
     "server option options: -c default_transaction_read_only=off -> (none)"),
    ("alter server webapp_server options (set updatable 'true')",
     "alter server webapp_server options (set updatable 'false')",
     "server option updatable: true -> false"),
    ("alter server webapp_server options (set port '1')",
     "alter server webapp_server options (set port '{port}')",
     "server option port: 1 -> {port}"),
])
def test_tampering_is_seen_by_status_and_check_and_undone_by_the_refresh(linked_pair: Pair, capsys, tamper, untamper, seen):
    pair = linked_pair
    port = pair.settings.get("WEBAPP_DB_PORT")
    pair.execute("warehouse", tamper)
    try:
        assert seen.format(port=port) in status(pair, "warehouse", capsys)
        with pytest.raises(DbtFailure, match="has drifted"):
            run_steps(pair.settings, [step_named("run", "check")], quiet=True)
        refresh(pair, "warehouse")
        assert "drift: none" in status(pair, "warehouse", capsys)
    except BaseException:
        pair.execute("warehouse", untamper.format(port=port))
        raise


def test_refresh_does_not_write_warnings_to_the_server_log(linked_pair: Pair):
    logs = [instance.log_file for instance in linked_pair.instances.instances]
    sizes = [log.stat().st_size for log in logs]
    for step in DEPLOY:
        run_dbt(linked_pair.settings, list(step.dbt), quiet=True, link_password_for=step.link_password_for)
    for log, size in zip(logs, sizes, strict=True):
        with log.open("rb") as handle:
            handle.seek(size)
            written = handle.read().decode(errors="replace")
        assert "WARNING" not in written, [line for line in written.splitlines() if "WARNING" in line][:5]


@pytest.mark.parametrize("statement", [
    "insert into {t} (id, code, libelle, afficher, \"order\", libelle_groupe) values (999, 'x', 'x', true, 1, 'x')",
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
    "insert into {t} (vueacteur_id, labelqualite_id) values ('x', 1)",
    "update {t} set labelqualite_id = 1",
    "delete from {t}",
    "truncate {t}",
])
def test_webapp_link_is_read_only(linked_pair: Pair, statement: str):
    table = "warehouse_public.exposure_vue_acteur_labels"
    before = linked_pair.query("warehouse", "select count(*) from exposure.exposure_vue_acteur_labels")
    with linked_pair.connect("webapp") as conn:
        with pytest.raises(psycopg.Error):
            conn.execute(statement.format(t=table))
    assert linked_pair.query("warehouse", "select count(*) from exposure.exposure_vue_acteur_labels") == before


def test_reader_roles_see_only_what_is_exposed(linked_pair: Pair):
    with linked_pair.connect("webapp", user="webapp_reader") as conn:
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


def test_drift_stops_the_build_at_once_and_the_advice_works(linked_pair: Pair):
    pair = linked_pair
    pair.execute("webapp", "alter table qfdmo_labelqualite add column couleur7 text")
    try:
        with pytest.raises(DbtFailure) as failure:
            pair.dbt("build", "--select", "stg_webapp__labels")
        message = str(failure.value)
        assert "webapp_public.qfdmo_labelqualite (column couleur7 added (text))" in message
        assert "Run `lacarte deploy`" in message
        run_steps(pair.settings, DEPLOY, quiet=True)  # the advice
        pair.dbt("build", "--select", "stg_webapp__labels")
    finally:
        pair.execute("webapp", "alter table qfdmo_labelqualite drop column couleur7")
        run_steps(pair.settings, DEPLOY, quiet=True)


def test_builds_are_refused_on_the_webapp_before_anything_is_created(linked_pair: Pair):
    schemas = linked_pair.query("webapp", "select nspname from pg_namespace order by 1")
    for command in (["build"], ["seed"], ["run", "--select", "stg_webapp__labels"]):
        with pytest.raises(DbtFailure, match="is refused: models, seeds and tests live in the warehouse"):
            linked_pair.dbt(*command, "--target", "webapp")
    assert linked_pair.query("webapp", "select nspname from pg_namespace order by 1") == schemas


def test_status_shows_server_user_tables_and_last_refresh(linked_pair: Pair, capsys):
    out = status(linked_pair, "warehouse", capsys)
    assert "server webapp_server (" in out and "fetch_size=10000" in out and "refreshed 20" in out
    assert "mapped remote user: user=webapp_reader" in out
    assert "qfdmo_acteur (33 columns)" in out
    assert "drift: none" in out


def cli(pair: Pair, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in pair.settings.values.items() if k.isupper()}
    env.update(PATH=os.environ["PATH"], LACARTE_PROJECT_DIR=str(PROJECT.root))
    env.update({k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ})
    return subprocess.run([LACARTE, *args], capture_output=True, text=True, env=env, timeout=300)


def test_deploy_exit_codes(linked_pair: Pair):
    pair = linked_pair
    done = cli(pair, "deploy")
    assert done.returncode == 0, done.stderr
    env_wrong = pair.settings.with_values(WAREHOUSE_READER_PASSWORD="not-it")
    with pytest.raises(UserError, match="logs in to the warehouse as warehouse_reader, which refuses it"):
        run_steps(env_wrong, DEPLOY, quiet=True)
    pair.execute("webapp", "create type humeur as enum ('gai'); alter table qfdmo_action add column humeur humeur")
    try:
        failed = cli(pair, "deploy")
        assert failed.returncode == 1 and "humeur" in failed.stderr and "Traceback" not in failed.stderr
    finally:
        pair.execute("webapp", "alter table qfdmo_action drop column humeur; drop type humeur")
    warehouse = pair.instances.instances[1]
    pair.instances._pg_ctl(warehouse, "stop", "-w", "-m", "fast")
    try:
        for command in ("deploy", "run"):
            failed = cli(pair, command)
            assert failed.returncode == 2, failed.stderr
            assert "cannot connect to warehouse@" in failed.stderr and "is the instance running?" in failed.stderr
    finally:
        pair.up()


def test_the_wrong_reader_password_is_a_configuration_error_naming_the_role(linked_pair: Pair):
    env = {k: v for k, v in linked_pair.settings.values.items() if k.isupper()}
    env.update(PATH=os.environ["PATH"], LACARTE_PROJECT_DIR=str(PROJECT.root), WEBAPP_READER_PASSWORD="not-it")
    failed = subprocess.run([LACARTE, "deploy"], capture_output=True, text=True, env=env, timeout=300)
    assert failed.returncode == 2
    assert "as webapp_reader, which refuses it" in failed.stderr and "WEBAPP_READER_PASSWORD" in failed.stderr


def test_concurrent_readers_never_fail_during_refreshes(linked_pair: Pair):
    pair = linked_pair
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

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 180
    try:
        with pair.connect("webapp") as webapp:
            for index in range(6):
                if index % 2 == 0:
                    webapp.execute("alter table qfdmo_acteurtype add column couleur8 text")
                else:
                    webapp.execute("alter table qfdmo_acteurtype drop column couleur8")
                refresh(pair, "warehouse")
                assert time.monotonic() < deadline
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        pair.execute("webapp", "alter table qfdmo_acteurtype drop column if exists couleur8")
        refresh(pair, "warehouse")
    assert errors == []
    assert reads[0] > 20


def test_each_instance_receives_only_the_reader_password_it_stores(linked_pair: Pair):
    settings = linked_pair.settings
    for step in (*DEPLOY, *MAIN):
        env = settings.dbt_environment(step.link_password_for)
        options = env.get("PGOPTIONS", "")
        sent = {role for role in ("WEBAPP_READER", "WAREHOUSE_READER") if settings.get(f"{role}_PASSWORD") in options}
        expected = {"webapp": {"WAREHOUSE_READER"}, "warehouse": {"WEBAPP_READER"}, None: set()}[step.link_password_for]
        assert sent == expected, step.name
        assert not any(key.endswith("_READER_PASSWORD") or key in ("ANALYST_PASSWORD", "WEBAPP_STREAM_PASSWORD")
                       for key in env)


def test_no_secret_in_logs_target_output_or_server_logs(linked_pair: Pair, capsys):
    run_steps(linked_pair.settings, DEPLOY)
    output = capsys.readouterr()
    places: list[Path] = []
    for folder in (linked_pair.root / "dbt_logs", linked_pair.root / "dbt_target", linked_pair.root / "data"):
        places.extend(p for p in folder.rglob("*") if p.is_file() and p.suffix in {".log", ".json", ".sql", ".msgpack"})
    server_logs = [i.log_file for i in linked_pair.instances.instances]
    assert all(log.exists() for log in server_logs)
    assert "import foreign schema" in server_logs[1].read_text().lower()  # log_statement = 'all' is on
    for password in linked_pair.all_passwords():
        assert password not in output.out + output.err
        for place in places + server_logs:
            assert password.encode() not in place.read_bytes(), f"{place} holds a password"
