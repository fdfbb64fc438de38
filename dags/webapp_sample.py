"""Weekly: rebuild webapp_sample (scripts/build_sample.py). Never scheduled in production:
with LACARTE_ENVIRONMENT=production the DAG has no schedule, and the script refuses anyway."""

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
IN_PRODUCTION = os.environ.get("LACARTE_ENVIRONMENT", "local").lower() in {"prod", "production"}

with DAG(
    dag_id="webapp_sample",
    schedule=None if IN_PRODUCTION else "@weekly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": RETRIES, "retry_delay": timedelta(minutes=10)},
    tags=["lacarte", "sample"],
    doc_md=__doc__,
) as dag:
    BashOperator(
        task_id="build_sample",
        bash_command=f"cd {PROJECT_DIR} && {sys.executable} scripts/build_sample.py",
        doc_md="Builds webapp_sample aside, validates it and swaps it in; a failure keeps the previous sample.",
    )
