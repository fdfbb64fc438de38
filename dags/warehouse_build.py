"""Daily: check the links, build the warehouse, refresh the webapp's link, publish the map.

Each task runs the same command a person would (`scripts/pipeline.py --step …`), so a failed
step is retried alone. A failed dbt test fails `dbt_build`, and the publication never runs.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

PROJECT_DIR = Path(__file__).resolve().parents[1]
# Retries of a failed task (0 in the tests: `airflow dags test` would wait for them).
RETRIES = int(os.environ.get("LACARTE_AIRFLOW_RETRIES", "1"))
PYTHON = sys.executable


def step(task_id: str, command: str, doc: str) -> BashOperator:
    return BashOperator(task_id=task_id, bash_command=f"cd {PROJECT_DIR} && {PYTHON} {command}", doc_md=doc)


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
    check_links = step("check_links", "scripts/pipeline.py --step check",
                       "Stops when the webapp schema drifted from the link (fdw_status with fail_on_drift).")
    dbt_build = step("dbt_build", "scripts/pipeline.py --step build", "dbt build: seeds, models and tests.")
    refresh_webapp_link = step("refresh_webapp_link", "scripts/pipeline.py --step link",
                               "refresh_fdw --target webapp: the exposures as the webapp sees them.")
    publish = step("publish", "scripts/pipeline.py --step publish",
                   "publish_exposures --target webapp: the map's tables, in one transaction.")
    check_links >> dbt_build >> refresh_webapp_link >> publish
