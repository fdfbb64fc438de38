"""Running the jobs of lacarte.steps: a preflight of the configuration, then each step."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from lacarte.db import connect
from lacarte.dbt import run_dbt
from lacarte.errors import UserError
from lacarte.guards import SETTING, database_environment
from lacarte.settings import Settings
from lacarte.steps import Step


def preflight(settings: Settings, steps: Sequence[Step]) -> None:
    """Bad configuration is an error (exit 2) before any step runs: each instance reachable
    with its owner's password, each link's remote role accepting its password, and a
    production environment declared by the webapp database itself."""
    environment = settings.environment
    for side in ("webapp", "warehouse"):
        with connect(settings.database(side)):
            pass
    for target in sorted({step.link_password_for for step in steps if step.link_password_for}):
        link = settings.project.dbt_vars["fdw_links"][target]
        remote_side = link["remote_env"].lower()
        reader = settings.database(remote_side, user=link["remote_user"])
        try:
            with connect(reader):
                pass
        except UserError as error:
            raise UserError(
                f"the link of target {target} logs in to the {remote_side} as {reader.user}, which refuses it: "
                f"{error}. Set {reader.user.upper()}_PASSWORD to that role's password"
            ) from None
    if environment == "production" and database_environment(settings.database("webapp")) != "production":
        raise UserError(
            f"LACARTE_ENVIRONMENT is production but the webapp database does not declare it; run once, as its "
            f"owner: ALTER DATABASE {settings.get('WEBAPP_DB_NAME')} SET {SETTING} = 'production'"
        )


def run_steps(settings: Settings, steps: Sequence[Step], on_step: Callable[[Step], None] = lambda _s: None,
              quiet: bool = False) -> dict[str, float]:
    """Run `steps` in order (after the preflight); return seconds per step."""
    preflight(settings, steps)
    seconds: dict[str, float] = {}
    for step in steps:
        on_step(step)
        started = time.monotonic()
        run_dbt(settings, list(step.dbt), quiet=quiet, link_password_for=step.link_password_for)
        seconds[step.name] = time.monotonic() - started
    return seconds
