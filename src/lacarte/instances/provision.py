"""Roles, databases, extensions and privileges of a local instance (idempotent).

What an administrator does once on a managed instance, done here for the local pair: the
owner and reader roles (readers are read-only by default and by privilege), the extensions
in template1 (so that every new database, the sample's included, has them), no PUBLIC
privileges on any database, no large objects for anyone but the owners.
"""

from __future__ import annotations

from collections.abc import Callable

from psycopg import sql

from lacarte.db import connect
from lacarte.instances.webapp_schema import create_webapp_schema, required_extensions
from lacarte.settings import Settings

# The extensions of the real webapp database (and what the warehouse needs of them).
EXTENSIONS = tuple(required_extensions())
# side -> (owner variable, other login roles)
ROLES = {
    "webapp": ["webapp_reader", "webapp_stream"],
    "warehouse": ["warehouse_reader", "analyst"],
}
# A read-only session left idle inside a transaction would hold its snapshot and locks, and
# block the jobs that replace what it read: it is ended after this long (production's
# administrators set the same: README, "Readers and jobs"). The links' roles are driven by the
# jobs' own transactions (postgres_fdw keeps its remote transaction open, often idle, until the
# local one ends: a full publication at 1M actors lasts more than 5 minutes), so their bound is
# longer.
IDLE_IN_TRANSACTION = {"analyst": "5min", "webapp_reader": "1h", "warehouse_reader": "1h", "webapp_stream": "5min"}
# Roles that read the webapp's change stream (logical decoding through SQL functions): the
# REPLICATION attribute, and no privilege on any table.
REPLICATION_ROLES = ("webapp_stream",)
# Functions that create large objects: granted to PUBLIC by PostgreSQL, to the owners only here.
LARGE_OBJECT_CREATORS = ("lo_creat(integer)", "lo_create(oid)", "lo_import(text)", "lo_import(text, oid)",
                         "lo_from_bytea(oid, bytea)")


def provision_instance(settings: Settings, side: str, progress: Callable[[str], None] = print) -> None:
    """Create or update the roles, the database, the extensions (and the webapp's real schema)."""
    other_roles = ROLES[side]
    owner = settings.get(f"{side.upper()}_DB_USER")
    dbname = settings.get(f"{side.upper()}_DB_NAME")
    admin = settings.database(side, dbname="postgres", user="admin")
    with connect(admin) as conn:
        for role in [owner, *other_roles]:
            key = f"{side.upper()}_DB_PASSWORD" if role == owner else f"{role.upper()}_PASSWORD"
            exists = conn.execute("select 1 from pg_roles where rolname = %s", [role]).fetchone()
            # Hashed client-side (SCRAM verifier): the clear password never reaches the server.
            verifier = conn.pgconn.encrypt_password(
                settings.get(key).encode(), role.encode(), b"scram-sha-256").decode()
            conn.execute(sql.SQL("{} role {} login password {}").format(
                sql.SQL("alter" if exists else "create"), sql.Identifier(role), sql.Literal(verifier)))
        conn.execute(sql.SQL("alter role {} createdb").format(sql.Identifier(owner)))
        # The sample's swap disconnects the old sample's clients, whatever their role; a job
        # that waited on a reader names it, with its state and since when (lacarte.waits).
        conn.execute(sql.SQL("grant pg_signal_backend, pg_read_all_stats to {}").format(sql.Identifier(owner)))
        for role in other_roles:
            conn.execute(sql.SQL("alter role {} {}").format(
                sql.Identifier(role), sql.SQL("replication" if role in REPLICATION_ROLES else "noreplication")))
            conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(sql.Identifier(role)))
            conn.execute(sql.SQL("alter role {} set idle_in_transaction_session_timeout = {}").format(
                sql.Identifier(role), sql.Literal(IDLE_IN_TRANSACTION[role])))
        if not conn.execute("select 1 from pg_database where datname = %s", [dbname]).fetchone():
            progress(f"{side}: creating database {dbname}")
            conn.execute(sql.SQL("create database {} owner {}").format(sql.Identifier(dbname), sql.Identifier(owner)))
    # Every new database (the sample included) gets the extensions and the closed privileges
    # from template1; `postgres` is closed too.
    for database in ("template1", "postgres", dbname):
        _prepare_database(settings, side, database, owner, other_roles if database == dbname else [])
    if side == "webapp":
        create_webapp_schema(settings, progress)


def _prepare_database(settings: Settings, side: str, dbname: str, owner: str, connecting_roles: list[str]) -> None:
    with connect(settings.database(side, dbname=dbname, user="admin")) as conn:
        for extension in EXTENSIONS:
            conn.execute(sql.SQL("create extension if not exists {} schema public").format(sql.Identifier(extension)))
        conn.execute(sql.SQL("grant usage on foreign data wrapper postgres_fdw to {}").format(sql.Identifier(owner)))
        for function in LARGE_OBJECT_CREATORS:
            conn.execute(sql.SQL("revoke execute on function {} from public").format(sql.SQL(function)))
            conn.execute(sql.SQL("grant execute on function {} to {}").format(sql.SQL(function), sql.Identifier(owner)))
        conn.execute(sql.SQL("revoke all on database {} from public").format(sql.Identifier(dbname)))
        conn.execute(sql.SQL("revoke create on schema public from public"))
        if dbname not in ("template1", "postgres"):
            conn.execute(sql.SQL("alter schema public owner to {}").format(sql.Identifier(owner)))
        for role in connecting_roles:
            conn.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(dbname), sql.Identifier(role)))
