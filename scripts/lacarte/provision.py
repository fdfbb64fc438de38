"""Roles, databases and extensions of a local instance (idempotent)."""

from __future__ import annotations

from psycopg import sql

from lacarte.db import connect
from lacarte.settings import PROJECT_DIR, Settings

EXTENSIONS = ("postgis", "postgres_fdw", "pg_trgm", "unaccent")
FIXTURE = PROJECT_DIR / "scripts" / "lacarte" / "sql" / "webapp_fixture.sql"

# side -> (owner role, [other login roles])
ROLES = {
    "webapp": ("webapp", ["webapp_reader"]),
    "warehouse": ("warehouse", ["warehouse_reader", "analyst"]),
}


def _password_of(settings: Settings, role: str, side: str, owner: str) -> str:
    key = f"{side.upper()}_DB_PASSWORD" if role == owner else f"{role.upper()}_PASSWORD"
    return settings.get(key)


def provision_instance(settings: Settings, side: str, progress=print) -> None:
    """Create or update the roles, the database, the extensions (and the webapp fixture)."""
    owner_role, other_roles = ROLES[side]
    owner = settings.get(f"{side.upper()}_DB_USER")
    dbname = settings.get(f"{side.upper()}_DB_NAME")
    admin = settings.database(side, dbname="postgres", user="admin")
    with connect(admin) as conn:
        for role in [owner, *other_roles]:
            password = _password_of(settings, role, side, owner)
            exists = conn.execute("select 1 from pg_roles where rolname = %s", [role]).fetchone()
            verb = "alter" if exists else "create"
            # Hashed client-side (SCRAM verifier): the clear password never reaches the server.
            verifier = conn.pgconn.encrypt_password(
                password.encode(), role.encode(), b"scram-sha-256"
            ).decode()
            conn.execute(
                sql.SQL("{} role {} login password {}").format(
                    sql.SQL(verb), sql.Identifier(role), sql.Literal(verifier)
                )
            )
        conn.execute(sql.SQL("alter role {} createdb").format(sql.Identifier(owner)))
        # The sample's swap disconnects the old sample's clients, whatever their role.
        conn.execute(sql.SQL("grant pg_signal_backend to {}").format(sql.Identifier(owner)))
        for role in other_roles:
            conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(
                sql.Identifier(role)))
        # Every new database (the sample included) gets the extensions from template1.
        _prepare_database(settings, side, "template1", owner)
        if not conn.execute("select 1 from pg_database where datname = %s", [dbname]).fetchone():
            progress(f"{side}: creating database {dbname}")
            conn.execute(sql.SQL("create database {} owner {}").format(
                sql.Identifier(dbname), sql.Identifier(owner)))
    _prepare_database(settings, side, dbname, owner, other_roles)
    if side == "webapp":
        _create_fixture(settings, progress)


def _prepare_database(settings: Settings, side: str, dbname: str, owner: str,
                      connecting_roles: list[str] | None = None) -> None:
    with connect(settings.database(side, dbname=dbname, user="admin")) as conn:
        for extension in EXTENSIONS:
            conn.execute(sql.SQL("create extension if not exists {} schema public").format(
                sql.Identifier(extension)))
        conn.execute(sql.SQL("grant usage on foreign data wrapper postgres_fdw to {}").format(
            sql.Identifier(owner)))
        if connecting_roles is not None:
            conn.execute(sql.SQL("revoke all on database {} from public").format(sql.Identifier(dbname)))
            conn.execute(sql.SQL("alter schema public owner to {}").format(sql.Identifier(owner)))
            conn.execute(sql.SQL("revoke create on schema public from public"))
            for role in connecting_roles:
                conn.execute(sql.SQL("grant connect on database {} to {}").format(
                    sql.Identifier(dbname), sql.Identifier(role)))


def _create_fixture(settings: Settings, progress=print) -> None:
    with connect(settings.database("webapp")) as conn:
        if conn.execute("select to_regclass('public.qfdmo_acteur')").fetchone()[0]:
            return
        progress("webapp: creating the webapp schema (fixture)")
        with conn.transaction():
            conn.execute(FIXTURE.read_text())
