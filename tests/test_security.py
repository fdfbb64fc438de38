"""Read-only roles cannot write anything, by any path; the databases are closed to PUBLIC."""

from __future__ import annotations

import psycopg
import pytest

from tests.platform_pair import Pair

READERS = [("webapp", "webapp_reader", "qfdmo_action"), ("warehouse", "warehouse_reader", "exposure.exposure_carte_acteur"),
           ("warehouse", "analyst", "marts.carte_acteurs"), ("webapp", "webapp_stream", "qfdmo_action")]
WRITES = {
    "large object": "select lo_create(0)",
    "large object from bytes": "select lo_from_bytea(0, 'secret')",
    "large object, old style": "select lo_creat(-1)",
    "temporary table": "create temp table t (id int)",
    "table in public": "create table public.t (id int)",
    "schema": "create schema intruder",
    "row": "delete from {table}",
    "sequence": "select nextval(pg_get_serial_sequence('public.qfdmo_action', 'id'))",
}


@pytest.mark.parametrize("side, role, table", READERS)
@pytest.mark.parametrize("path", list(WRITES))
def test_read_only_roles_cannot_write_even_after_leaving_read_only_mode(linked_pair: Pair, side, role, table, path):
    with linked_pair.connect(side, user=role) as conn:
        conn.execute("set default_transaction_read_only = off")
        with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedTable)):
            conn.execute(WRITES[path].format(table=table))
    assert linked_pair.query(side, "select count(*) from pg_largeobject_metadata", user="admin") == [(0,)]


@pytest.mark.parametrize("side, role", [("webapp", "webapp_reader"), ("warehouse", "warehouse_reader"),
                                        ("warehouse", "analyst"), ("webapp", "webapp"), ("webapp", "webapp_stream")])
@pytest.mark.parametrize("dbname", ["postgres", "template1"])
def test_no_role_connects_to_the_maintenance_databases(pair: Pair, side, role, dbname):
    with pytest.raises(psycopg.OperationalError, match="permission denied|not currently accepting"):
        pair.connect(side, user=None if role == side else role, dbname=dbname).close()


def test_every_database_is_closed_to_public(pair: Pair):
    for side in ("webapp", "warehouse"):
        open_to_public = pair.query(side, """select datname from pg_database where datallowconn
            and (has_database_privilege('public', datname, 'connect') or has_database_privilege('public', datname, 'temp'))""",
                                    user="admin")
        assert open_to_public == [], side


def test_owners_keep_large_objects_and_temporary_tables(pair: Pair):
    with pair.connect("warehouse", autocommit=False) as conn:
        conn.execute("create temp table t (id int)")
        assert conn.execute("select lo_create(0) > 0").fetchone() == (True,)
        conn.rollback()


@pytest.mark.parametrize("side, role, bound", [("warehouse", "analyst", "5min"), ("webapp", "webapp_reader", "1h"),
                                              ("warehouse", "warehouse_reader", "1h"), ("webapp", "webapp_stream", "5min")])
def test_a_reader_left_idle_in_a_transaction_is_bounded(pair: Pair, side, role, bound):
    """A read-only session idle inside a transaction would hold the locks a job needs: its role
    bounds it (idle_in_transaction_session_timeout, README "Readers and jobs"); the links' roles
    longer, since a job's own long transaction keeps their remote transaction open."""
    with pair.connect(side, user=role) as conn:
        setting = conn.execute("show idle_in_transaction_session_timeout").fetchone()[0]
    assert setting == bound


def test_the_stream_role_reads_the_change_stream_and_nothing_else(pair: Pair):
    """webapp_stream may read the slot (logical decoding through SQL), not a single row of any
    table, and pg_hba.conf refuses it a physical replication connection (no copy of the WAL,
    no base backup)."""
    with pair.connect("webapp", user="webapp_stream") as conn:
        assert conn.execute("select rolreplication from pg_roles where rolname = current_user").fetchone() == (True,)
        for table in ("qfdmo_acteur", "auth_user", "qfdmo_displayedacteur"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select count(*) from public.{table}")
    database = pair.settings.database("webapp", user="webapp_stream")
    with pytest.raises(psycopg.OperationalError, match="pg_hba.conf|replication"):
        psycopg.connect(**database.conninfo(replication="true")).close()
