"""The local instances: lifecycle, idempotency, TLS, and refusals of bad input."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from lacarte.db import connect
from lacarte.errors import UserError
from lacarte.instances import pgbin
from lacarte.instances.cluster import Instances
from lacarte.ports import free_port
from lacarte.settings import Settings
from tests.platform_pair import PROJECT, Pair, throwaway_pair


def test_up_is_idempotent_and_down_when_stopped_is_a_no_op():
    with throwaway_pair() as pair:
        messages: list[str] = []
        pair.instances.up(progress=messages.append)
        assert any("already running" in m for m in messages)
        assert [row["state"] for row in pair.instances.status()] == ["running", "running"]
        # The second up kept the data: a table created in between survives.
        pair.execute("webapp", "create table public.kept (id int)", user="admin")
        pair.instances.up(progress=lambda _m: None)
        assert pair.query("webapp", "select to_regclass('public.kept') is not null", user="admin") == [(True,)]
        pair.instances.down(progress=lambda _m: None)
        assert [row["state"] for row in pair.instances.status()] == ["stopped", "stopped"]
        stopped: list[str] = []
        pair.instances.down(progress=stopped.append)
        assert stopped == ["webapp: not running", "warehouse: not running"]
        pair.instances.reset(progress=lambda _m: None)
        assert pair.query("webapp", "select to_regclass('public.kept')", user="admin") == [(None,)]
        assert pair.query("webapp", "select to_regclass('public.qfdmo_acteur') is not null") == [(True,)]


def test_roles_databases_and_extensions(pair: Pair):
    for side, roles in {"webapp": ["webapp", "webapp_reader", "webapp_stream"],
                        "warehouse": ["warehouse", "warehouse_reader", "analyst"]}.items():
        found = {r[0] for r in pair.query(side, "select rolname from pg_roles where rolcanlogin", user="admin")}
        assert set(roles) <= found
        owner = pair.query(side, "select pg_get_userbyid(datdba) from pg_database where datname = %s", [side], user="admin")
        assert owner == [(side,)]
        extensions = {r[0] for r in pair.query(side, "select extname from pg_extension")}
        assert {"postgis", "postgres_fdw", "pg_trgm", "unaccent"} <= extensions
    readers = pair.query("webapp", "select rolconfig from pg_roles where rolname = 'webapp_reader'", user="admin")
    assert "default_transaction_read_only=on" in readers[0][0]


def test_every_connection_is_tls_and_the_server_is_verified(pair: Pair):
    database = pair.settings.database("webapp")
    assert database.sslmode == "verify-full" and database.sslrootcert
    with pair.connect("webapp") as conn:
        assert conn.execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()").fetchone() == (True,)
    with pytest.raises(psycopg.OperationalError, match="no encryption|rejects connection"):
        psycopg.connect(**database.conninfo(sslmode="disable"))
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed|certificate"):
        psycopg.connect(**database.conninfo(sslrootcert="system"))
    # The links connect with TLS too.
    with pair.connect("webapp", user="admin") as conn:
        assert "sslmode=require" in ",".join(conn.execute(
            "select srvoptions from pg_foreign_server where srvname = 'qfdmo_server'").fetchone()[0])


@pytest.mark.parametrize("value", ["disable", "prefer", "allow", "verify_full", ""])
def test_a_weak_or_misspelt_sslmode_is_refused(pair: Pair, value: str):
    settings = pair.settings.with_values(WEBAPP_DB_SSLMODE=value)
    with pytest.raises(UserError, match="WEBAPP_DB_SSLMODE"):
        settings.database("webapp")


def test_wrong_password_is_refused(pair: Pair):
    database = pair.settings.database("webapp")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(**database.conninfo(password="not-the-password"))
    wrong = pair.settings.with_values(WEBAPP_DB_PASSWORD="wrong")
    with pytest.raises(UserError, match="password of role webapp is refused"):
        with connect(wrong.database("webapp")):
            pass


def test_password_is_required_even_on_the_socket(pair: Pair):
    instance = pair.instances.instances[0]
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host=str(instance.socket_dir), port=instance.port, dbname="webapp", user="webapp",
                        password="wrong", connect_timeout=5)


def test_env_file_is_private_and_refused_when_readable(tmp_path):
    env_file = tmp_path / ".env"
    settings = Settings(PROJECT, environ={"LACARTE_ENV_FILE": str(env_file)})
    assert settings.ensure_local_secrets()
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    env_file.chmod(0o644)
    with pytest.raises(UserError, match="chmod 600"):
        Settings(PROJECT, environ={"LACARTE_ENV_FILE": str(env_file)})


def test_port_taken_is_refused_and_creates_nothing(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        settings = Settings(PROJECT, environ={
            "LACARTE_ENV_FILE": str(tmp_path / ".env"),
            "WEBAPP_DB_PORT": str(taken), "WAREHOUSE_DB_PORT": str(free_port()),
        })
        instances = Instances(settings, root=tmp_path / "data", throwaway=True)
        try:
            with pytest.raises(UserError, match=f"port {taken} for webapp is taken"):
                instances.up(progress=lambda _m: None)
            assert not (tmp_path / "data").exists()
        finally:
            instances.wipe()


def test_missing_binaries_are_reported(monkeypatch, tmp_path):
    monkeypatch.setattr(pgbin.glob, "glob", lambda _pattern: [])
    monkeypatch.setattr(pgbin.shutil, "which", lambda _name: None)
    with pytest.raises(UserError, match="LACARTE_PG_BINDIR"):
        pgbin.find_bindir({"LACARTE_PG_BINDIR": str(tmp_path)})


LACARTE = str(Path(sys.executable).with_name("lacarte"))  # the console script of this environment


def lacarte(*args: str, env: dict[str, str] | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([LACARTE, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "LACARTE_ENV_FILE": "/nonexistent/.env", **(env or {})}, timeout=120)


def test_cli_help_and_refusals(tmp_path):
    assert "deploy" in lacarte("--help").stdout
    for command in ("instances", "demo-data", "deploy", "run", "sample", "status"):
        shown = lacarte(command, "--help")
        assert shown.returncode == 0 and "usage: lacarte " + command in shown.stdout, command
    unknown = lacarte("explode")
    assert unknown.returncode == 2 and "invalid choice: 'explode'" in unknown.stderr
    nowhere = lacarte("status", cwd=tmp_path)
    assert nowhere.returncode == 2 and "no lacarte dbt project here" in nowhere.stderr
    assert "Traceback" not in nowhere.stderr


def test_reused_sessions_come_back_reset_and_are_closed_at_the_end(pair: Pair):
    """A resident process's sessions (lacarte.db.reusing_connections) are reused only as
    fresh ones: no transaction, setting, temporary table or advisory lock survives a use."""
    from lacarte.db import reusing_connections

    database = pair.settings.database("warehouse")
    with reusing_connections():
        with connect(database) as conn:
            first, timeout = conn.execute("select pg_backend_pid(), current_setting('statement_timeout')").fetchone()
            conn.execute("set statement_timeout = '7s'")
            conn.execute("create temp table left_behind (x int)")
            conn.execute("select pg_advisory_lock(4242)")
            conn.execute("begin")
            conn.execute("select 1")
        with connect(database) as conn:
            assert conn.execute("select pg_backend_pid()").fetchone()[0] == first
            assert conn.execute("select current_setting('statement_timeout'), to_regclass('pg_temp.left_behind'), "
                                "(select count(*) from pg_locks where locktype = 'advisory' and pid = %s)",
                                [first]).fetchone() == (timeout, None, 0)
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with connect(database, autocommit=False) as conn:  # only autocommit sessions are reused
            assert conn.execute("select pg_backend_pid()").fetchone()[0] != first
        with connect(database) as conn:
            assert conn.execute("select pg_backend_pid()").fetchone()[0] == first
        pair.execute("warehouse", "select pg_terminate_backend(%s)", [first], user="admin")
        with connect(database) as conn:  # an idle session the server ended is replaced
            replaced = conn.execute("select pg_backend_pid()").fetchone()[0]
            assert replaced != first
        first = replaced
    with connect(database) as conn:
        assert conn.execute("select pg_backend_pid()").fetchone()[0] != first
        deadline = time.monotonic() + 10
        while conn.execute("select count(*) from pg_stat_activity where pid = %s", [first]).fetchone() != (0,):
            assert time.monotonic() < deadline, "the reused session was not closed"
            time.sleep(0.05)
