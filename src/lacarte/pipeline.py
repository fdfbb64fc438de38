"""Running the jobs of lacarte.steps: a preflight of the configuration, then each step."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta

from lacarte.db import connect, reusing_connections
from lacarte.dbt import holding_project_files, run_dbt
from lacarte.errors import UserError
from lacarte.guards import SETTING, database_environment
from lacarte.settings import Settings
from lacarte.steps import BOTH, JOBS, NOTHING, Step

# The jobs that build and publish: one at a time (the deploy only refreshes the links).
LOCKED_JOBS = ("run", "incremental", "reconcile")
LOCK_WAIT = timedelta(minutes=15)


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


@dataclass
class JobResult:
    """Seconds per step run, the mode the pull chose, and what the actions reported."""

    seconds: dict[str, float] = field(default_factory=dict)
    mode: str | None = None
    messages: list[str] = field(default_factory=list)
    busy: bool = False  # skipped: another job holds the warehouse

    @property
    def nothing_changed(self) -> bool:
        return self.mode == NOTHING and not self.busy


def run_steps(settings: Settings, steps: Sequence[Step], on_step: Callable[[Step], None] = lambda _s: None,
              quiet: bool = False, on_message: Callable[[str], None] = lambda _m: None,
              job: str | None = None) -> JobResult:
    """Run `steps` (all or some of job `job`) in order, after the preflight. A pull decides
    the mode; steps that do not run in that mode are passed over, and after a pull that found
    nothing the job stops. The jobs that build take the warehouse's job lock (lacarte.changes.
    lock): an incremental run is skipped while another job holds it. The steps' sessions stay
    open from one step to the next (lacarte.db.reusing_connections), and the project's files
    are read once for the job (lacarte.dbt.holding_project_files)."""
    from lacarte.changes.lock import EXCLUSIVE_JOBS

    job = job or _job_of(steps)
    with reusing_connections(), holding_project_files(), ExitStack() as stack:
        preflight(settings, steps)
        # A job run in one process keeps a warehouse session while it holds the lock: if the
        # process is killed, the lock goes with it.
        holder_pid = None
        if job in EXCLUSIVE_JOBS:
            session = stack.enter_context(connect(settings.database("warehouse")))
            holder_pid = session.execute("select pg_backend_pid()").fetchone()[0]
        return _run_locked(settings, steps, job, holder_pid, on_step, quiet, on_message)


def _run_locked(settings: Settings, steps: Sequence[Step], job: str | None, holder_pid: int | None,
                on_step: Callable[[Step], None], quiet: bool, on_message: Callable[[str], None]) -> JobResult:
    from lacarte.actions import run_action
    from lacarte.changes.lock import EXCLUSIVE_JOBS, LEASE, acquire, release

    result = JobResult()
    locked = job in LOCKED_JOBS
    if locked:
        taken, holder = acquire(settings, job, wait=timedelta(0) if job == "incremental" else LOCK_WAIT,
                                holder_pid=holder_pid)
        if not taken:
            if job != "incremental":
                raise UserError(f"{holder}; job {job} waited {LOCK_WAIT} for it and did nothing. Run it again when "
                                f"that job has finished (`lacarte status` shows the last runs); a job that died "
                                f"gives the warehouse back after {LEASE}")
            result.mode = NOTHING
            result.busy = True
            result.messages.append(f"skipped: {holder}")
            on_message(result.messages[-1])
            return result
    failed = True
    try:
        for step in steps:
            if step.when != BOTH:
                result.mode = result.mode or last_mode(settings)
                if result.mode not in step.when:
                    continue
            on_step(step)
            started = time.monotonic()
            if step.action:
                outcome = run_action(settings, step.action)
                if outcome.message:
                    result.messages.append(outcome.message)
                    on_message(outcome.message)
                if outcome.mode:
                    result.mode = outcome.mode
            else:
                run_dbt_step(settings, step, quiet, on_message)
            result.seconds[step.name] = time.monotonic() - started
            if result.mode == NOTHING:
                break
        failed = False
    finally:
        # The daily and weekly jobs keep the warehouse until their last step (Airflow runs one
        # step per task); a failed step, a run that stopped, or the end of a job that runs in
        # one process (incremental) gives it back.
        if locked and (failed or result.mode == NOTHING or not steps or steps[-1] == JOBS[job][-1]
                       or job in EXCLUSIVE_JOBS):
            release(settings, job)
    return result


def run_dbt_step(settings: Settings, step: Step, quiet: bool, on_message: Callable[[str], None]) -> None:
    """A dbt step, tried again while readers hold what it replaces (lacarte.waits): a build or
    run resumes with `dbt retry` (only what did not finish), an operation runs again whole
    (each is one transaction). A process that parsed the project already (the pull, the
    follower) does not parse it again."""
    from lacarte.waits import with_lock_retries

    def attempt(retrying: bool) -> None:
        args = ["retry"] if retrying and step.dbt[0] in ("build", "run") else list(step.dbt)
        run_dbt(settings, args, quiet=quiet, link_password_for=step.link_password_for, artifacts_of=list(step.dbt),
                reuse_parse=True)

    target = step.dbt[step.dbt.index("--target") + 1] if "--target" in step.dbt else "warehouse"
    with_lock_retries(settings, attempt, on_message, side="webapp" if target == "webapp" else "warehouse")


def _job_of(steps: Sequence[Step]) -> str | None:
    for name, job_steps in JOBS.items():
        if steps and all(step in job_steps for step in steps):
            return name
    return None


def last_mode(settings: Settings) -> str:
    """The mode of the last pull (a step run alone, as an Airflow task does)."""
    with connect(settings.database("warehouse")) as conn:
        found = conn.execute("select to_regclass('lacarte_state.runs') is not null").fetchone()[0] and conn.execute(
            "select mode from lacarte_state.runs order by run_id desc limit 1").fetchone()
    if not found:
        raise UserError("no pull is recorded in the warehouse: run the job's pull step first")
    return found[0]
