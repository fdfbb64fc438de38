"""The Airflow DAGs, in Airflow's own environment (.venv-airflow, SQLite, offline), against the
test instances: their tasks are the steps of lacarte.steps, and they fill the map. Airflow's
commands (`airflow dags test`, a DagBag's inspection) run in one resident process of its
environment for the module (tests/airflow_runner.py): its start-up is paid once."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lacarte.demo import generate
from lacarte.pipeline import run_steps
from lacarte.steps import DEPLOY, MAIN, OPENDATA
from tests.conftest import world_changed
from tests.platform_pair import PROJECT, Pair

AIRFLOW_BIN = PROJECT.root / ".venv-airflow" / "bin"
RUNNER = Path(__file__).with_name("airflow_runner.py")
LACARTE = str(Path(sys.executable).with_name("lacarte"))
INSPECT_DAGS = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "dbt_imported": any(name == "dbt" or name.startswith("dbt.") for name in sys.modules),
    "dags": {d.dag_id: {"schedule": d.schedule if d.schedule is None or isinstance(d.schedule, str)
                        else str(d.schedule), "max_active_runs": d.max_active_runs,
                        "skip_codes": {t.task_id: list(getattr(t, "skip_on_exit_code", None) or []) for t in d.tasks},
                        "edges": sorted([t.task_id, down] for t in d.tasks for down in t.downstream_task_ids),
                        "commands": {t.task_id: t.bash_command for t in d.tasks},
                        "tasks": sorted(t.task_id for t in d.tasks)} for d in bag.dags.values()},
}))
"""


@dataclass
class Ran:
    returncode: int
    output: str


class Airflow:
    """Airflow's command line in one resident process of its environment (tests/airflow_runner.py)."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env, self.workdir, self.requests = env, workdir, 0
        self.process = subprocess.Popen([str(AIRFLOW_BIN / "python"), str(RUNNER)], env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def run(self, request: dict, settings: dict[str, str] | None = None, timeout: float = 900) -> Ran:
        self.requests += 1
        output = self.workdir / f"request-{self.requests}.log"
        self.process.stdin.write(json.dumps({**request, "env": settings or {}, "output": str(output)}) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        assert ready, f"Airflow did not answer within {timeout} s: {output.read_text()[-3000:]}"
        answer = self.process.stdout.readline()
        assert answer, f"Airflow's process ended: {output.read_text()[-3000:]}"
        return Ran(json.loads(answer)["returncode"], output.read_text())

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a request that never answered: its DAG run is abandoned
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def airflow(pair: Pair, tmp_path_factory) -> Iterator[Airflow]:
    assert (AIRFLOW_BIN / "airflow").exists(), "run `make airflow` (make test does)"
    home = tmp_path_factory.mktemp("airflow_home")
    env = {k: v for k, v in pair.settings.values.items() if k.isupper()}
    env.update({
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(home)),
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT.root / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "LACARTE_AIRFLOW_RETRIES": "0",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "LACARTE_COMMAND": LACARTE, "LACARTE_PROJECT_DIR": str(PROJECT.root),
    })
    subprocess.run([str(AIRFLOW_BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    runner = Airflow(env, home)
    yield runner
    runner.close()


def inspect_dags(airflow: Airflow, settings: dict[str, str] | None = None) -> dict:
    result = airflow.run({"python": INSPECT_DAGS, "argv": [str(PROJECT.root / "dags")]}, settings, timeout=120)
    assert result.returncode == 0, result.output[-3000:]
    return json.loads(result.output.strip().splitlines()[-1])


def test_the_dags_run_the_steps_of_the_main_job(airflow):
    found = inspect_dags(airflow)
    assert found["errors"] == {}
    assert not found["dbt_imported"], "a DAG file imports dbt at parse time"
    build = found["dags"]["warehouse_build"]
    assert build["schedule"] == "@daily" and build["max_active_runs"] == 1
    names = [step.name for step in MAIN]
    assert build["edges"] == sorted([a, b] for a, b in zip(names, names[1:], strict=False))
    for name in names:
        assert build["commands"][name].endswith(f"run --step {name}") and LACARTE in build["commands"][name]
    incremental = found["dags"]["warehouse_incremental"]
    assert incremental["schedule"] == "0:01:00" and incremental["max_active_runs"] == 1
    assert incremental["tasks"] == ["incremental"] and incremental["skip_codes"]["incremental"] == [99]
    assert incremental["commands"]["incremental"].endswith("run --incremental")
    sample = found["dags"]["webapp_sample"]
    assert sample["schedule"] == "@weekly" and sample["tasks"] == ["build_sample"]
    opendata = found["dags"]["opendata_export"]
    assert opendata["schedule"] == "0 6 * * 1" and opendata["max_active_runs"] == 1  # Mondays, 06:00
    assert opendata["tasks"] == [step.name for step in OPENDATA]
    assert all(opendata["commands"][s.name].endswith(f"opendata {s.name}") for s in OPENDATA)


@pytest.mark.parametrize("environment", ["production", "PRODUCTION ", "prod", ""])
def test_the_sample_dag_is_scheduled_only_where_a_sample_belongs(airflow, environment: str):
    found = inspect_dags(airflow, {"LACARTE_ENVIRONMENT": environment})
    assert found["dags"]["webapp_sample"]["schedule"] is None


@pytest.mark.parametrize("minutes, retries", [("0", "1.5"), ("abc", "-1"), ("-1", "two")])
def test_a_bad_dag_setting_is_an_error_naming_its_variable(airflow, minutes: str, retries: str):
    found = inspect_dags(airflow, {"LACARTE_INCREMENTAL_MINUTES": minutes, "LACARTE_AIRFLOW_RETRIES": retries})
    errors = {Path(path).name: error for path, error in found["errors"].items()}
    assert "LACARTE_INCREMENTAL_MINUTES" in errors["warehouse_incremental.py"]
    for dag_file in ("warehouse_build.py", "webapp_sample.py", "opendata_export.py"):
        assert "LACARTE_AIRFLOW_RETRIES" in errors[dag_file], dag_file


def dags_test(airflow: Airflow, dag_id: str, settings: dict[str, str] | None = None) -> Ran:
    """`airflow dags test <dag_id>`: one run of the DAG, its tasks' commands run for real."""
    return airflow.run({"airflow": ["dags", "test", dag_id]}, settings)


@pytest.fixture(scope="module")
def fresh_webapp(pair: Pair) -> Iterator[Pair]:
    """Fresh demo data of the module's own on the pair (the shared world, if this worker made it
    already, is put back for the next module that reads it)."""
    generate(pair.settings, acteurs=1500, seed=21)
    run_steps(pair.settings, DEPLOY, quiet=True)
    assert pair.query("webapp", "select count(*) from qfdmo_displayedacteur") == [(0,)]  # emptied by generate
    yield pair
    world_changed()


def test_warehouse_build_dag_fills_the_map_and_the_admin_view(fresh_webapp: Pair, airflow):
    run = dags_test(airflow, "warehouse_build")
    assert run.returncode == 0, run.output[-3000:]
    assert all(f"run --step {step.name}" in run.output for step in MAIN)
    for table, model in (("qfdmo_displayedacteur", "exposure_carte_acteur"), ("qfdmo_vueacteur", "exposure_vue_acteur")):
        published = fresh_webapp.query("webapp", f"select count(*) from {table}")[0][0]
        assert published == fresh_webapp.query("warehouse", f"select count(*) from exposure.{model}")[0][0] > 0


def test_webapp_sample_dag_builds_the_sample(fresh_webapp: Pair, airflow):
    run = dags_test(airflow, "webapp_sample")
    assert run.returncode == 0, run.output[-3000:]
    assert fresh_webapp.query("webapp", "select count(*) > 0 from qfdmo_displayedacteur", dbname="webapp_sample") == [(True,)]


def test_opendata_export_dag_writes_the_file_after_the_build(fresh_webapp: Pair, airflow, tmp_path):
    run = dags_test(airflow, "opendata_export", {"LACARTE_OPENDATA_DESTINATION": str(tmp_path)})
    assert run.returncode == 0, run.output[-3000:]
    rows = (tmp_path / "acteurs.csv").read_text().count("\n") - 1
    assert rows >= fresh_webapp.query("warehouse", "select count(*) from exposure.exposure_opendata_acteur")[0][0] > 0
    assert (tmp_path / "datapackage.json").exists()


def test_a_failed_step_stops_the_dag_before_publication(fresh_webapp: Pair, airflow):
    pair = fresh_webapp
    before = pair.query("webapp", "select md5(string_agg(d::text, ',' order by identifiant_unique)) from qfdmo_displayedacteur d")
    pair.execute("webapp", "alter table qfdmo_acteurtype add column couleur_dag text")  # the link drifts: check fails
    pair.execute("webapp", "update qfdmo_acteur set nom = 'Renommé pendant la panne' where identifiant_unique = "
                           "(select identifiant_unique from qfdmo_displayedacteur order by 1 limit 1)", user="admin")
    try:
        run = dags_test(airflow, "warehouse_build")
        output = run.output
        assert run.returncode != 0 and "column couleur_dag added" in output
        assert "run --step check" in output and "run --step build" not in output  # nothing ran after the check
        assert pair.query("webapp", "select md5(string_agg(d::text, ',' order by identifiant_unique)) "
                          "from qfdmo_displayedacteur d") == before
    finally:
        pair.execute("webapp", "alter table qfdmo_acteurtype drop column couleur_dag")


def test_the_incremental_dag_publishes_an_edit_and_is_skipped_when_nothing_changed(fresh_webapp: Pair, airflow):
    pair = fresh_webapp
    acteur = pair.query("webapp", "select identifiant_unique from qfdmo_displayedacteur order by 1 limit 1")[0][0]
    for table in ("qfdmo_acteur", "qfdmo_revisionacteur"):
        pair.execute("webapp", f"update {table} set nom = 'Vu par le DAG' where identifiant_unique = %s", [acteur])
    edited = dags_test(airflow, "warehouse_incremental")
    assert edited.returncode == 0, edited.output[-3000:]
    assert pair.query("webapp", "select nom from qfdmo_displayedacteur where identifiant_unique = %s",
                      [acteur]) == [("Vu par le DAG",)]
    idle = dags_test(airflow, "warehouse_incremental")
    assert idle.returncode == 0 and "nothing changed" in idle.output
