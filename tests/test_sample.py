"""webapp_sample: built aside and swapped in, consistent, safe on failure, commutes with the pipeline."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from lacarte.dbt import run_dbt
from lacarte.demo import generate
from lacarte.errors import UserError
from lacarte.sample import SampleBuilder
from lacarte.settings import Settings
from tests.platform_pair import Pair
from tests.test_pipeline import run_pipeline

SAMPLE = "webapp_sample"
SAMPLE_CHECKSUM = """select md5(string_agg(t, '|' order by t)) from (
    select 'a' || md5(string_agg(a::text, ',' order by identifiant_unique)) t from qfdmo_acteur a
    union all select 'd' || md5(string_agg(d::text, ',' order by identifiant_unique)) from qfdmo_displayedacteur d
    union all select 'p' || md5(string_agg(p::text, ',' order by id)) from qfdmo_propositionservice p) parts"""


@pytest.fixture(scope="module")
def sampled(pair: Pair) -> Pair:
    generate(pair.settings, acteurs=3000, seed=9)
    run_pipeline(pair)
    SampleBuilder(pair.settings).run()
    return pair


def databases(pair: Pair) -> set[str]:
    return {r[0] for r in pair.query("webapp", "select datname from pg_database")}


def checksum(pair: Pair) -> str:
    return pair.query("webapp", SAMPLE_CHECKSUM, dbname=SAMPLE)[0][0]


def test_sample_holds_the_territories_and_no_personal_data(sampled: Pair):
    counts = dict(sampled.query("webapp", """select 'auth_user', count(*) from auth_user
        union all select 'django_session', count(*) from django_session
        union all select 'data_suggestion', count(*) from data_suggestion
        union all select 'acteurs', count(*) from qfdmo_acteur
        union all select 'displayed', count(*) from qfdmo_displayedacteur""", dbname=SAMPLE))
    assert counts["auth_user"] == counts["django_session"] == counts["data_suggestion"] == 0
    assert 0 < counts["displayed"] <= counts["acteurs"]
    per_epci = dict(sampled.query("webapp", """select e.code, count(*) from qfdmo_displayedacteur a
        join qfdmo_epci e on e.id = a.epci_id group by 1""", dbname=SAMPLE))
    assert set(per_epci) == {"200043123", "200065647"}
    outside = sampled.query("webapp", """select count(*) from qfdmo_displayedacteur a join qfdmo_acteurtype t
        on t.id = a.acteur_type_id where a.epci_id is null and t.code <> 'acteur_digital'""", dbname=SAMPLE)
    assert outside == [(0,)]
    assert "webapp_sample__next" not in databases(sampled)


def test_every_foreign_key_holds_and_parents_come_with_all_children(sampled: Pair):
    sample_settings = Settings(environ={**sampled.settings.values, "WEBAPP_SAMPLE_DB_NAME": SAMPLE})
    run_dbt(sample_settings, ["run-operation", "sample_validate", "--target", "webapp_sample",
                              "--args", "{territories: ['200043123', '200065647']}"], quiet=True)
    missing_children = sampled.query("webapp", """select count(*) from qfdmo_revisionacteur c
        where c.parent_id in (select identifiant_unique from qfdmo_revisionacteur)""", dbname=SAMPLE)[0][0]
    parents = sampled.query("webapp", "select identifiant_unique from qfdmo_revisionacteur where source_id is null "
                            "and identifiant_unique !~ '_ext'", dbname=SAMPLE)
    full_children = sampled.query("webapp", "select count(*) from qfdmo_revisionacteur where parent_id = any(%s)",
                                  [[p[0] for p in parents]])[0][0]
    assert missing_children == full_children
    next_ids = sampled.query("webapp", "select nextval(pg_get_serial_sequence('qfdmo_propositionservice', 'id')) > "
                             "(select max(id) from qfdmo_propositionservice)", dbname=SAMPLE)
    assert next_ids == [(True,)]


def test_dry_run_production_and_unknown_territory_change_nothing(sampled: Pair):
    before = checksum(sampled)
    production = Settings(environ={**sampled.settings.values, "LACARTE_ENVIRONMENT": "production"})
    with pytest.raises(UserError, match="never exists in production"):
        SampleBuilder(production)
    with pytest.raises(UserError, match="unknown EPCI code.*999999999"):
        SampleBuilder(sampled.settings, ["200043123", "999999999"])
    SampleBuilder(sampled.settings).check_rules()  # the dry run's only database access: reading
    assert checksum(sampled) == before
    assert "webapp_sample__next" not in databases(sampled)


def test_a_table_without_rule_stops_the_build(sampled: Pair):
    sampled.execute("webapp", "create table qfdmo_nouveau (id int)")
    try:
        with pytest.raises(UserError, match="no sample rule for table.*qfdmo_nouveau"):
            SampleBuilder(sampled.settings).run()
    finally:
        sampled.execute("webapp", "drop table qfdmo_nouveau")


def kill_copies(pair: Pair, stop: threading.Event) -> None:
    """Terminate the sample's COPY connections on the webapp as soon as they appear."""
    with pair.connect("webapp", user="admin") as conn:
        while not stop.is_set():
            killed = conn.execute("""select count(pg_terminate_backend(pid)) from pg_stat_activity
                where query ilike 'copy%%' and pid <> pg_backend_pid()""").fetchone()[0]
            if killed:
                return
            time.sleep(0.01)


@pytest.mark.parametrize("fault_step, fault", [
    ("copy", "kill the webapp connection"),
    ("link", "stop the warehouse"),
    ("publish", "stop the warehouse"),
    ("swap", "crash"),
])
def test_failure_at_any_step_keeps_the_previous_sample(sampled: Pair, fault_step: str, fault: str):
    before = checksum(sampled)
    warehouse = sampled.instances.instances[1]
    stop = threading.Event()
    killer = None

    def on_step(step: str) -> None:
        nonlocal killer
        if step != fault_step:
            return
        if fault == "kill the webapp connection":
            killer = threading.Thread(target=kill_copies, args=(sampled, stop))
            killer.start()
        elif fault == "stop the warehouse":
            sampled.instances._pg_ctl(warehouse, "stop", "-w", "-m", "fast")
        else:
            raise RuntimeError("crash before the swap")

    try:
        with pytest.raises((UserError, RuntimeError, psycopg.Error)):
            SampleBuilder(sampled.settings).run(on_step=on_step)
    finally:
        stop.set()
        if killer:
            killer.join()
        sampled.up()
    assert checksum(sampled) == before
    assert "webapp_sample__next" not in databases(sampled)
    assert SampleBuilder(sampled.settings).run()["qfdmo_acteur"] > 0
    assert checksum(sampled) == before


def test_clients_of_the_old_sample_are_disconnected_at_the_swap(sampled: Pair):
    client = sampled.connect("webapp", dbname=SAMPLE)
    assert client.execute("select 1").fetchone() == (1,)
    SampleBuilder(sampled.settings).run()
    with pytest.raises(psycopg.OperationalError):
        client.execute("select 1")
    client.close()
    assert sampled.query("webapp", "select count(*) > 0 from qfdmo_acteur", dbname=SAMPLE) == [(True,)]


EXPOSURE_ROWS = {
    "acteur": "identifiant_unique", "acteur_labels": "displayedacteur_id, labelqualite_id",
    "acteur_acteur_services": "displayedacteur_id, acteurservice_id", "acteur_sources": "displayedacteur_id, source_id",
    "propositionservice": "id", "propositionservice_sous_categories": "displayedpropositionservice_id, souscategorieobjet_id",
    "perimetreadomicile": "acteur_id, type, valeur",
}


def exposure_rows(pair: Pair, schema: str, prefix: str) -> dict[str, list]:
    return {name: pair.query("warehouse", f"select e::text from {schema}.{prefix}{name} e order by {order}")
            for name, order in EXPOSURE_ROWS.items()}


def test_pipeline_of_the_sample_equals_the_sample_of_the_pipeline(sampled: Pair):
    expected = exposure_rows(sampled, "exposure_sample", "exposure_sample_")
    assert len(expected["acteur"]) > 50
    on_sample = Settings(environ={**sampled.settings.values, "WEBAPP_FDW_DBNAME": SAMPLE})
    try:
        run_dbt(on_sample, ["run-operation", "refresh_fdw", "--target", "warehouse"], quiet=True)
        run_dbt(on_sample, ["build", "--exclude", "tag:sample"], quiet=True)
        assert exposure_rows(sampled, "exposure", "exposure_carte_") == expected
    finally:
        sampled.dbt("run-operation", "refresh_fdw", "--target", "warehouse")
        sampled.dbt("build", "--exclude", "tag:sample")
