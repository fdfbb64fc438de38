"""Weekly, Monday morning: the open-data file (`lacarte opendata export`), one task per step of
lacarte.steps.OPENDATA. The export reads the exposure of the last completed full build and
refuses when the daily job's build failed or is still running (the task fails, Airflow retries
it); it writes the file aside, validates it and only then replaces `acteurs.csv`. Its
destination comes from LACARTE_OPENDATA_DESTINATION (a folder, or s3://BUCKET/PREFIX with the
bucket's credentials in the worker's environment)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, chain

from lacarte.steps import OPENDATA, lacarte_command, number_setting

RETRIES = number_setting(os.environ, "LACARTE_AIRFLOW_RETRIES", 1)

with DAG(
    dag_id="opendata_export",
    schedule="0 6 * * 1",  # Mondays at 06:00, after the daily full build of the night
    start_date=datetime(2026, 1, 5),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": RETRIES, "retry_delay": timedelta(minutes=30)},
    tags=["lacarte", "opendata"],
    doc_md=__doc__,
) as dag:
    chain(*[
        BashOperator(
            task_id=step.name,
            bash_command=lacarte_command(os.environ, "opendata", step.name),
            doc_md=step.summary,
        )
        for step in OPENDATA
    ])
