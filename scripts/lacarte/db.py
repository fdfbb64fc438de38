"""Connecting to the instances with psycopg, with errors that say what to do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from lacarte.errors import UserError
from lacarte.settings import Database


@contextmanager
def connect(database: Database, autocommit: bool = True, **overrides: str) -> Iterator[psycopg.Connection]:
    """A connection to `database`; an unreachable instance or a refused login is a UserError."""
    try:
        connection = psycopg.connect(**database.conninfo(**overrides), autocommit=autocommit)
    except psycopg.OperationalError as error:
        message = str(error).strip().splitlines()[-1] if str(error).strip() else repr(error)
        hint = "is the instance running? (python scripts/instances.py status)"
        if "password authentication failed" in message:
            hint = "the password does not match; check the *_PASSWORD variables or .env"
        raise UserError(
            f"cannot connect to {database.user}@{database.host}:{database.port}/{database.dbname}: "
            f"{message}; {hint}"
        ) from None
    try:
        yield connection
    finally:
        connection.close()
