"""Weekly: rebuild webapp_sample (`lacarte sample build`). Scheduled only where
LACARTE_ENVIRONMENT is local or preprod: never in production, nor when the variable is
unknown; the command refuses production anyway (the webapp database says so itself)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

from lacarte.steps import lacarte_command, number_setting

RETRIES = number_setting(os.environ, "LACARTE_AIRFLOW_RETRIES", 1)
SAMPLED_HERE = os.environ.get("LACARTE_ENVIRONMENT", "local").strip().casefold() in {"local", "preprod"}

with DAG(
    dag_id="webapp_sample",
    schedule="@weekly" if SAMPLED_HERE else None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": RETRIES, "retry_delay": timedelta(minutes=10)},
    tags=["lacarte", "sample"],
    doc_md=__doc__,
) as dag:
    BashOperator(
        task_id="build_sample",
        bash_command=lacarte_command(os.environ, "sample", "build"),
        doc_md="Builds webapp_sample aside, validates it and swaps it in; a failure keeps the previous sample.",
    )
