"""The platform's jobs and their steps, defined once.

The command line (`lacarte deploy`, `lacarte run`), the Airflow DAGs, the tests and the
benchmarks all run these sequences. This module imports nothing heavy (no dbt): the DAG files
read it at parse time.

A step is a dbt invocation or an action of this package (lacarte.actions). The pull decides
the mode of a run: `full`, `incremental`, or `none` (nothing changed, nothing owed: the job
stops there); a step runs only in the modes it names.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace

FULL = "full"
INCREMENTAL = "incremental"
NOTHING = "none"  # nothing changed, nothing owed: the job stops after its pull
BOTH = (FULL, INCREMENTAL)
# The exit code of a job that stopped on NOTHING (Airflow's BashOperator marks it skipped).
NOTHING_CHANGED_EXIT_CODE = 99
# The exit code of a job that did nothing because another job holds the warehouse (EX_TEMPFAIL):
# not "nothing changed", the map may be stale; Airflow marks the task failed, and
# `lacarte status` shows which job holds the warehouse and since when.
WAREHOUSE_BUSY_EXIT_CODE = 75


@dataclass(frozen=True)
class Step:
    """One step, retried alone when it fails."""

    name: str
    summary: str
    dbt: tuple[str, ...] = ()
    # Or an action of lacarte.actions, run in this process.
    action: str | None = None
    # The target whose link needs the password of its remote role (sent to it only); for an
    # action, the link whose reader role it logs in as.
    link_password_for: str | None = None
    when: tuple[str, ...] = BOTH


def _refresh(target: str) -> tuple[str, ...]:
    return ("run-operation", "refresh_fdw", "--target", target)


# Right after the web app's migrations: the webapp side first (it grants the warehouse's
# reader the source tables), then the warehouse side (it imports them).
DEPLOY: tuple[Step, ...] = (
    Step("link_webapp", "refresh_fdw --target webapp: reader grants, link to the warehouse's exposures",
         _refresh("webapp"), link_password_for="webapp"),
    Step("link_warehouse", "refresh_fdw --target warehouse: link to the webapp's source tables",
         _refresh("warehouse"), link_password_for="warehouse"),
)

CONFIRM = Step("confirm", "record what the webapp applied of the last change set (repairs an interrupted run)",
               action="confirm", link_password_for="warehouse")
CHECK = Step("check", "fdw_status --target warehouse: stop if the webapp's schema drifted from the link",
             ("run-operation", "fdw_status", "--target", "warehouse", "--args", "{fail_on_drift: true}"))
PUBLICATION: tuple[Step, ...] = (
    Step("changes", "dbt run of the change set: the rows the webapp must insert, update or delete, computed here",
         ("run", "--select", "tag:publication")),
    Step("link", "refresh_fdw --target webapp: link the exposures and the change set as built", _refresh("webapp"),
         link_password_for="webapp", when=(FULL,)),
    Step("publish", "publish_changes --target webapp: apply the change set in one transaction (or reconcile)",
         ("run-operation", "publish_changes", "--target", "webapp")),
    Step("confirmed", "record the change set the webapp applied", action="confirm", link_password_for="warehouse"),
)
FULL_BUILD: tuple[Step, ...] = (
    Step("build", "dbt build on the warehouse: seeds, models and their tests", ("build", "--exclude", "tag:publication"),
         when=(FULL,)),
    Step("built", "record the full build", action="mark_built", when=(FULL,)),
)


def _full_job(pull_action: str, summary: str) -> tuple[Step, ...]:
    return (CONFIRM, CHECK, Step("pull", summary, action=pull_action, link_password_for="warehouse"),
            *FULL_BUILD, *PUBLICATION)


# The daily job: everything rebuilt, the differences published (and, when the last one is older
# than var reconcile_every_days, a full reconciliation of every row the webapp holds).
MAIN: tuple[Step, ...] = _full_job(
    "pull_full", "record the position in the webapp's change stream: the next incremental runs start there")

# Every few minutes, or at once from the follower: only the actors that changed, with their
# parents and children. The slice, the merge and the change set run the SQL dbt compiles for
# them, compiled once per version of the project (lacarte.changes.compiled), and the
# publication runs publish_changes' statements, rendered once (lacarte.changes.publication): a
# process that runs many cycles (the follower) starts no dbt invocation for them. (No separate check: the
# compilation refuses a drifted link.)
INCREMENTAL_JOB: tuple[Step, ...] = (
    CONFIRM,
    Step("pull", "what changed in the webapp since the last run; decides the mode", action="pull",
         link_password_for="warehouse"),
    Step("build_slice", "the models' compiled SQL for the changed actors only, into the slice_* schemas",
         action="build_slice", when=(INCREMENTAL,)),
    Step("merge", "merge_slice_statements: replace those actors' rows in every model, in one transaction",
         action="merge", when=(INCREMENTAL,)),
    *FULL_BUILD,
    replace(PUBLICATION[0], when=(FULL,)),
    Step("changes", "the change set of those actors: the publication models' compiled SQL", action="changes",
         when=(INCREMENTAL,)),
    PUBLICATION[1],
    replace(PUBLICATION[2], when=(FULL,)),
    Step("publish", "publish_changes' statements, rendered once: apply the change set in one transaction (anything "
         "but a plain incremental change set goes to publish_changes)", action="publish", when=(INCREMENTAL,)),
    *PUBLICATION[3:],
)

# Weekly: a full run whose publication compares every row the webapp holds.
RECONCILE: tuple[Step, ...] = _full_job("pull_reconcile", "a full run that compares the webapp's tables row by row")

# Weekly (Monday morning): the open-data file, from the last completed full build (`lacarte
# opendata export`; it refuses a failed or running full build).
OPENDATA: tuple[Step, ...] = (
    Step("export", "the open-data file written aside, validated against its Table Schema, then swapped in",
         action="opendata_export"),
)

JOBS: dict[str, tuple[Step, ...]] = {"deploy": DEPLOY, "run": MAIN, "incremental": INCREMENTAL_JOB,
                                     "reconcile": RECONCILE, "opendata": OPENDATA}


def lacarte_command(environ: Mapping[str, str], *args: str) -> str:
    """The shell command an Airflow task runs: the project environment's `lacarte`
    (LACARTE_COMMAND) on its dbt project (LACARTE_PROJECT_DIR), with `args`."""
    project = environ.get("LACARTE_PROJECT_DIR", "")
    return shlex.join([environ.get("LACARTE_COMMAND", "lacarte"), *(["--project-dir", project] if project else []), *args])


def number_setting(environ: Mapping[str, str], name: str, default: float, kind: type = int,
                   minimum: float = 0, exclusive: bool = False) -> float:
    """A numeric setting of the DAGs from the environment (trimmed), refused with a message
    naming the variable when it is not a number of the right kind and range."""
    raw = environ.get(name)
    if raw is None:
        return default
    what = "a whole number" if kind is int else "a number"
    bound = f"{'above' if exclusive else 'at least'} {minimum:g}"
    try:
        value = kind(raw.strip())
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not {what}: set it to {what} {bound} (default {default:g})") from None
    if value != value or value in (float("inf"), float("-inf")) or value < minimum or (exclusive and value == minimum):
        raise ValueError(f"{name}={raw!r} must be {what} {bound} (default {default:g})")
    return value


def step_named(job: str, name: str) -> Step:
    for step in JOBS[job]:
        if step.name == name:
            return step
    raise KeyError(name)
