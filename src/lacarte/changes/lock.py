"""One job at a time on the warehouse: the daily, weekly and incremental jobs share a lock.

The lock is a row (lacarte_state.job_lock), not a session lock: the daily job's steps run as
separate Airflow tasks. Each step of a job takes it (again, for the same job), the job's last
step and any failed step give it back, and a lock older than `lease` is taken over (a job
that died). A job that runs in one process (incremental: the follower's cycles, the
every-minute fallback) also names the warehouse session it keeps open while it runs: once
that session is gone (the process was killed), the lock is free at once. An incremental run
never waits: it is skipped while another job holds the lock; the others wait for it up to
`wait`.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import psycopg

from lacarte.changes.state import SCHEMA, ensure_state
from lacarte.db import connect
from lacarte.settings import Settings

LEASE = timedelta(hours=6)


# Jobs run as one process each, never re-entered: two of them started at the same instant
# cannot both hold the lock. The daily and weekly jobs re-take it at each of their steps
# (separate Airflow tasks).
EXCLUSIVE_JOBS = ("incremental",)


def _try(conn: psycopg.Connection, job: str, holder_pid: int | None) -> tuple[bool, str]:
    with conn.transaction():
        ensure_state(conn)
        # One statement takes a free, expired or orphaned lock: concurrent takers serialize on
        # the row's key.
        taken = conn.execute(
            f"insert into {SCHEMA}.job_lock (job, acquired_at, holder_pid) values (%s, clock_timestamp(), %s) "
            "on conflict (singleton) do update set job = excluded.job, acquired_at = excluded.acquired_at, "
            "holder_pid = excluded.holder_pid "
            f"where {SCHEMA}.job_lock.acquired_at < clock_timestamp() - %s or ({SCHEMA}.job_lock.holder_pid is not null "
            f"and not exists (select from pg_stat_activity as a where a.pid = {SCHEMA}.job_lock.holder_pid)) "
            "returning job", [job, holder_pid, LEASE]).fetchone()
        if taken:
            return True, ""
        held, since = conn.execute(f"select job, acquired_at from {SCHEMA}.job_lock").fetchone()
        if held == job and job not in EXCLUSIVE_JOBS:
            return True, ""  # the next step of the job that holds it
        return False, f"job {held} holds the warehouse since {since:%Y-%m-%d %H:%M:%S %Z}"


def acquire(settings: Settings, job: str, wait: timedelta, holder_pid: int | None = None) -> tuple[bool, str]:
    """Take the lock for `job`; (False, who holds it) when `wait` passed without it.
    `holder_pid`: the warehouse session the job keeps open while it runs, if any."""
    deadline = time.monotonic() + wait.total_seconds()
    with connect(settings.database("warehouse")) as conn:
        while True:
            taken, holder = _try(conn, job, holder_pid)
            if taken or time.monotonic() >= deadline:
                return taken, holder
            time.sleep(min(5.0, max(0.1, deadline - time.monotonic())))


def holder(settings: Settings) -> tuple[str, datetime, timedelta] | None:
    """The job holding the warehouse, since when and for how long; None when it is free."""
    with connect(settings.database("warehouse")) as conn:
        if not conn.execute("select to_regclass(%s) is not null", [f"{SCHEMA}.job_lock"]).fetchone()[0]:
            return None
        return conn.execute(f"select job, acquired_at, clock_timestamp() - acquired_at from {SCHEMA}.job_lock").fetchone()


def release(settings: Settings, job: str) -> None:
    with connect(settings.database("warehouse")) as conn:
        if conn.execute("select to_regclass(%s) is not null", [f"{SCHEMA}.job_lock"]).fetchone()[0]:
            conn.execute(f"delete from {SCHEMA}.job_lock where job = %s", [job])
