"""The webapp database of local instances: the web app's real schema, vendored in
`lacarte/sql/webapp_schema/` (its README gives the provenance), plus the leftovers of an old
link that every real webapp database carries."""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources

from psycopg import sql

from lacarte.db import connect
from lacarte.settings import Settings

SCHEMA_FILE = "sql/webapp_schema/real_webapp_schema.sql"
EXTENSIONS_FILE = "sql/webapp_schema/required_extensions.sql"
# The dump's own `CREATE SCHEMA public`: the schema exists, owned by the web app's role.
CREATE_PUBLIC = re.compile(r"^CREATE SCHEMA public;\s*$", re.M)
# psql meta-commands of recent pg_dump versions (`\restrict KEY`, `\unrestrict KEY`): not SQL.
PSQL_META = re.compile(r"^\\[a-z]+\b.*$", re.M)


def real_schema_sql() -> str:
    """The dump of the web app's `public` schema, ready to run as the web app's role."""
    text = resources.files("lacarte").joinpath(SCHEMA_FILE).read_text()
    if not CREATE_PUBLIC.search(text):
        raise RuntimeError(f"{SCHEMA_FILE}: no `CREATE SCHEMA public;` statement (was the dump replaced?)")
    return PSQL_META.sub("", CREATE_PUBLIC.sub("", text, count=1))


def required_extensions() -> list[str]:
    """The extensions the real webapp database has, in the order they are created."""
    text = resources.files("lacarte").joinpath(EXTENSIONS_FILE).read_text()
    return re.findall(r'^CREATE EXTENSION IF NOT EXISTS "?([a-z_-]+)"?;', text, flags=re.M)


def create_webapp_schema(settings: Settings, progress: Callable[[str], None] = print) -> None:
    """Load the real schema into an empty webapp database and add the leftover link (idempotent).

    The leftover loopback link stores the webapp role's password in a user mapping, as the
    real one does; the password travels as a session setting, never in the SQL text.
    """
    webapp = settings.database("webapp")
    with connect(webapp) as conn:
        if not conn.execute("select to_regclass('public.qfdmo_acteur')").fetchone()[0]:
            progress("webapp: creating the web app's real schema (174 tables, lacarte/sql/webapp_schema)")
            with conn.transaction():
                conn.execute(real_schema_sql())
        if conn.execute("select 1 from pg_foreign_server where srvname = 'qfdmo_server'").fetchone():
            return
    # The import reads the committed tables through the loopback link itself.
    with connect(webapp, options=f"-c lacarte.fixture_password={webapp.password}") as conn, conn.transaction():
        conn.execute(sql.SQL(
            "create server qfdmo_server foreign data wrapper postgres_fdw "
            "options (host {}, port {}, dbname {}, sslmode 'require')").format(
                sql.Literal(webapp.host), sql.Literal(str(webapp.port)), sql.Literal(webapp.dbname)))
        conn.execute("""do $leftover$ begin
            execute format('create user mapping for current_user server qfdmo_server options (user %L, password %L)',
                current_user, current_setting('lacarte.fixture_password'));
        end $leftover$""")
        conn.execute("create schema if not exists webapp_public")
        conn.execute("import foreign schema public from server qfdmo_server into webapp_public")
