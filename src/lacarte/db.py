"""Connecting to the instances with psycopg, with errors that say what to do."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from lacarte.errors import UserError
from lacarte.settings import Database


def explain_connection_error(database: Database, error: psycopg.OperationalError) -> UserError:
    """A one-line UserError naming the database, the role and what to do."""
    text = str(error).strip()
    message = text.splitlines()[-1] if text else repr(error)
    hint = "is the instance running? (lacarte instances status)"
    if "password authentication failed" in text:
        hint = (f"the password of role {database.user} is refused; check its *_PASSWORD variable "
                "(or .env for local instances)")
    elif "certificate" in text or "SSL" in text or "ssl" in text:
        hint = ("TLS is required: check *_DB_SSLMODE and *_DB_SSLROOTCERT (the CA that signed the "
                "server's certificate)")
    elif "does not exist" in text:
        hint = "check the *_DB_NAME and *_DB_USER variables"
    return UserError(f"cannot connect to {database.describe()}: {message}; {hint}")


# Sessions kept open between uses while a resident process asks for it (reusing_connections):
# each step of a follower's cycle opens its sessions anew, and a TLS handshake with SCRAM
# costs more than the step's statements (21 sessions, 0.3 s of a 1 s cycle, measured). A
# session goes back only when idle and reset as DISCARD ALL resets it (no transaction,
# temporary table, setting, advisory lock or cursor survives) but for the prepared statements,
# which are psycopg's own and stay valid; a broken one is closed.
_IDLE: dict[str, list[psycopg.Connection]] = {}
_REUSERS = [0]
_GUARD = threading.Lock()
_KEEP = 4  # idle sessions kept per database and role
_RESET = ("close all; set session authorization default; reset all; unlisten *; select pg_advisory_unlock_all(); "
          "discard plans; discard temp; discard sequences")


@contextmanager
def reusing_connections() -> Iterator[None]:
    """While inside, connect() reuses idle sessions (autocommit ones) instead of opening new
    ones; when the last user leaves, the idle sessions are closed."""
    with _GUARD:
        _REUSERS[0] += 1
    try:
        yield
    finally:
        with _GUARD:
            _REUSERS[0] -= 1
            closing = [conn for idle in _IDLE.values() for conn in idle] if not _REUSERS[0] else []
            if closing:
                _IDLE.clear()
        for conn in closing:
            conn.close()


def _take(key: str) -> psycopg.Connection | None:
    """An idle session for `key` that still answers (the server may have ended it since:
    a restart, idle_session_timeout, an administrator)."""
    while True:
        with _GUARD:
            idle = _IDLE.get(key) if _REUSERS[0] else None
            if not idle:
                return None
            conn = idle.pop()
        try:
            conn.execute("select 1")
            return conn
        except psycopg.Error:
            conn.close()


def _give_back(key: str, conn: psycopg.Connection) -> bool:
    """Keep `conn` for reuse if reuse is on and it can be reset; whether it was kept."""
    if not _REUSERS[0] or conn.closed or conn.broken or not conn.autocommit:
        return False
    try:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        conn.execute(_RESET)
    except psycopg.Error:
        return False
    with _GUARD:
        idle = _IDLE.setdefault(key, [])
        if not _REUSERS[0] or len(idle) >= _KEEP:
            return False
        idle.append(conn)
    return True


@contextmanager
def connect(database: Database, autocommit: bool = True, **overrides: str | int) -> Iterator[psycopg.Connection]:
    """A connection to `database`; an unreachable instance or a refused login is a UserError."""
    conninfo = database.conninfo(**overrides)
    key = hashlib.sha256(repr(sorted(conninfo.items())).encode()).hexdigest()
    connection = _take(key) if autocommit else None
    if connection is None:
        try:
            connection = psycopg.connect(**conninfo, autocommit=autocommit)
        except psycopg.OperationalError as error:
            raise explain_connection_error(database, error) from None
    try:
        yield connection
    finally:
        if not _give_back(key, connection):
            connection.close()
