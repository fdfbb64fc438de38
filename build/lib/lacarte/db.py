"""Connecting to the instances with psycopg, with errors that say what to do."""

from __future__ import annotations

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


@contextmanager
def connect(database: Database, autocommit: bool = True, **overrides: str | int) -> Iterator[psycopg.Connection]:
    """A connection to `database`; an unreachable instance or a refused login is a UserError."""
    try:
        connection = psycopg.connect(**database.conninfo(**overrides), autocommit=autocommit)
    except psycopg.OperationalError as error:
        raise explain_connection_error(database, error) from None
    try:
        yield connection
    finally:
        connection.close()
