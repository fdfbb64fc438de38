"""Every minute: the incremental job (`lacarte run --incremental`): only the actors that
changed in the webapp since the last run, with their parents and children, rebuilt and
published as a change set. The fallback where no resident follower (`lacarte follow`) runs:
both read the webapp's change stream and share the job lock, so neither misses a change.

One run at a time (max_active_runs=1, and the warehouse's job lock). When nothing changed and
nothing is owed the command exits 99 and the task is marked skipped; while another job holds
the warehouse it does nothing and exits 75, and the task fails: the map may be going stale
(`lacarte status` shows which job holds the warehouse and since when). The DAG imports only
lacarte.steps (no dbt): parsing stays instant.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

from lacarte.steps import NOTHING_CHANGED_EXIT_CODE, lacarte_command, number_setting

# Minutes between two runs (the map follows the webapp within about this plus one run).
INTERVAL = timedelta(minutes=number_setting(os.environ, "LACARTE_INCREMENTAL_MINUTES", 1, kind=float, exclusive=True))

with DAG(
    dag_id="warehouse_incremental",
    schedule=INTERVAL,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=30),
    default_args={"retries": 0},
    tags=["lacarte", "warehouse"],
    doc_md=__doc__,
) as dag:
    BashOperator(
        task_id="incremental",
        bash_command=lacarte_command(os.environ, "run", "--incremental"),
        skip_on_exit_code=NOTHING_CHANGED_EXIT_CODE,
        doc_md="Pull, rebuild the changed actors aside, merge, prepare and apply the change set, confirm.",
    )
