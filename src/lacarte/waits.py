"""Jobs never wait on readers for long, and readers never queue behind a job for long.

Every dbt session of a job runs with a short `lock_timeout` (var job_lock_timeout): replacing a
relation a reader is reading (a model, an exposure, the change set) takes its strong lock only
once the readers are done, and a request that waits longer gives up, so the readers queued
behind it go on. The step is then retried with a backoff (var job_lock_backoff_seconds; `dbt
retry` reruns only what did not finish), and after the last try it fails with a message naming
the sessions that held the relations: role, application, since when.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from lacarte.db import connect
from lacarte.errors import UserError
from lacarte.settings import Settings

LOCK_TIMEOUT_ERROR = "lock timeout"
DURATION = re.compile(r"^[1-9][0-9]*(ms|s)$")
# The schemas a job rewrites in the warehouse.
JOB_SCHEMAS = ("staging", "intermediate", "marts", "exposure", "reference", "lacarte_state")


def job_lock_timeout(settings: Settings) -> str:
    value = settings.project.dbt_vars.get("job_lock_timeout")
    if not isinstance(value, str) or not DURATION.match(value):
        raise UserError(f"var job_lock_timeout must be a duration such as \"3s\" or \"500ms\", not {value!r} "
                        "(dbt_project.yml); nothing was done")
    return value


def backoff(settings: Settings) -> list[float]:
    value = settings.project.dbt_vars.get("job_lock_backoff_seconds")
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in value)):
        raise UserError(f"var job_lock_backoff_seconds must be a list of positive numbers of seconds, not {value!r} "
                        "(dbt_project.yml); nothing was done")
    return [float(v) for v in value]


def blocking_sessions(settings: Settings, side: str = "warehouse") -> list[str]:
    """The other sessions holding locks on the relations a job rewrites, oldest first: in the
    warehouse, any lock on its schemas (a reader's blocks a replacement); in the webapp, a lock
    stronger than a reader's on the published tables or the ledger (the publication only
    changes rows there, which readers never block)."""
    if side == "webapp":
        from lacarte.changes.confirm import LEDGER
        from lacarte.manifest import published_tables

        tables = [f"public.{item.table}" for item in published_tables(settings)]
        schemas, modes = [LEDGER.split(".")[0]], ["AccessShareLock"]
    else:
        tables, schemas, modes = [], list(JOB_SCHEMAS), []
    with connect(settings.database(side)) as conn:
        rows = conn.execute("""
            select distinct a.pid, a.usename, coalesce(nullif(a.application_name, ''), '?'), a.state,
                coalesce(a.xact_start, a.backend_start)
            from pg_locks as l
            join pg_stat_activity as a on a.pid = l.pid
            join pg_class as c on c.oid = l.relation
            where l.granted and a.pid <> pg_backend_pid() and l.mode <> all(%s)
                and (c.relnamespace::regnamespace::text = any(%s)
                     or c.oid = any(array(select to_regclass(t) from unnest(%s::text[]) as t)))
            order by 5 limit 5""", [modes, schemas, tables]).fetchall()
    # Without pg_read_all_stats, another role's state and start are hidden (NULL).
    return [f"pid {pid}: role {role}, application {application}"
            + (f", {state}" if state else "") + (f" since {since:%Y-%m-%d %H:%M:%S %Z}" if since else "")
            for pid, role, application, state, since in rows]


def with_lock_retries(settings: Settings, attempt: Callable[[bool], Any],
                      on_message: Callable[[str], None] = lambda _m: None, side: str = "warehouse") -> Any:
    """Run `attempt(retrying)`; when it fails on a lock timeout (a dbt step's, or a statement's
    run by this package), wait and try again (with
    `retrying` true), then fail naming the sessions in the way on `side`."""
    from psycopg.errors import LockNotAvailable

    from lacarte.dbt import DbtFailure

    delays = backoff(settings)
    retrying = False
    for delay in [*delays, None]:
        try:
            return attempt(retrying)
        except (DbtFailure, LockNotAvailable) as failure:
            if LOCK_TIMEOUT_ERROR not in str(failure):
                raise
            blockers = blocking_sessions(settings, side)
            if delay is None:
                raise DbtFailure(
                    f"{failure} — a relation this step replaces stayed in use on the {side} for {sum(delays):g} s "
                    f"and {len(delays) + 1} tries: "
                    f"{'; '.join(blockers) or 'the sessions have ended since'}. End or wait for those sessions "
                    "(SELECT pg_cancel_backend(pid) as their owner or an administrator), then run the step again: "
                    "it resumes where it stopped") from None
            on_message(f"a reader holds what this step replaces ({'; '.join(blockers) or 'gone since'}): "
                       f"trying again in {delay:g} s")
            time.sleep(delay)
            retrying = True
    raise AssertionError("unreachable")
