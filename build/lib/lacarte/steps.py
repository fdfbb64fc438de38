"""The platform's jobs and their steps, defined once.

The command line (`lacarte deploy`, `lacarte run`), the Airflow DAGs, the tests and the
benchmarks all run these sequences. This module imports nothing heavy (no dbt): the DAG files
read it at parse time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One step: a dbt invocation, retried alone when it fails."""

    name: str
    summary: str
    dbt: tuple[str, ...]
    # The target whose link refresh needs the password of its remote role (sent to it only).
    link_password_for: str | None = None


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

# The main job (daily): check the link, build, link the new exposures, publish them.
MAIN: tuple[Step, ...] = (
    Step("check", "fdw_status --target warehouse: stop if the webapp's schema drifted from the link",
         ("run-operation", "fdw_status", "--target", "warehouse", "--args", "{fail_on_drift: true}")),
    Step("build", "dbt build on the warehouse: seeds, models and their tests", ("build",)),
    Step("link", "refresh_fdw --target webapp: link the exposures as built", _refresh("webapp"),
         link_password_for="webapp"),
    Step("publish", "publish_exposures --target webapp: the map and the admin view, in one transaction",
         ("run-operation", "publish_exposures", "--target", "webapp")),
)

JOBS: dict[str, tuple[Step, ...]] = {"deploy": DEPLOY, "run": MAIN}


def step_named(job: str, name: str) -> Step:
    for step in JOBS[job]:
        if step.name == name:
            return step
    raise KeyError(name)
