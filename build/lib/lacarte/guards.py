"""Refusing destructive work on production, recognised by the database itself.

A database carrying `lacarte.environment = 'production'` (`ALTER DATABASE … SET
lacarte.environment = 'production'`, a deploy step) is refused by every destructive tool,
whatever LACARTE_ENVIRONMENT says; LACARTE_ENVIRONMENT=production refuses as well.
"""

from __future__ import annotations

from lacarte.db import connect
from lacarte.errors import UserError
from lacarte.settings import ENVIRONMENTS, Database, Settings

SETTING = "lacarte.environment"


def database_environment(database: Database) -> str | None:
    """The environment a database declares (trimmed, case-folded), or None when it declares none."""
    with connect(database) as conn:
        value = conn.execute("select current_setting(%s, true)", [SETTING]).fetchone()[0]
    if value is None or not value.strip():
        return None
    cleaned = value.strip().casefold()
    if cleaned not in ENVIRONMENTS:
        raise UserError(
            f"database {database.dbname} declares {SETTING}={value!r}, which is not one of "
            f"{', '.join(ENVIRONMENTS)}: fix it (ALTER DATABASE {database.dbname} SET {SETTING} = …); nothing was done"
        )
    return cleaned


def refuse_production(settings: Settings, action: str, databases: list[Database]) -> None:
    """Raise before `action` when the environment or any of `databases` is production."""
    if settings.environment == "production":
        raise UserError(f"LACARTE_ENVIRONMENT is production: {action} is refused; nothing was done")
    for database in databases:
        if database_environment(database) == "production":
            raise UserError(
                f"database {database.dbname} on {database.host}:{database.port} is a production database "
                f"({SETTING} = 'production'): {action} is refused; nothing was done"
            )
