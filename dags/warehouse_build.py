"""Daily: the main job of lacarte.steps.MAIN (pull, full build, change set, link, publish,
confirm), one task per step; once a week (var reconcile_every_days) its publication compares
every row the webapp holds.

Each task runs the command a person would (`lacarte run --step …`) in the project's
environment, so a failed step is retried alone and a failed dbt test stops the publication.
The DAG imports only lacarte.steps (no dbt): parsing stays instant.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, chain

from lacarte.steps import MAIN, lacarte_command, number_setting

# Retries of a failed task (0 in the tests: `airflow dags test` would wait for them).
RETRIES = number_setting(os.environ, "LACARTE_AIRFLOW_RETRIES", 1)


with DAG(
    dag_id="warehouse_build",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": RETRIES, "retry_delay": timedelta(minutes=5)},
    tags=["lacarte", "warehouse"],
    doc_md=__doc__,
) as dag:
    chain(*[
        BashOperator(task_id=step.name, bash_command=lacarte_command(os.environ, "run", "--step", step.name), doc_md=step.summary)
        for step in MAIN
    ])
