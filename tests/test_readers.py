"""Readers never stall the jobs, and jobs never stall the readers: a job waits at most
job_lock_timeout for a relation a reader holds, the readers queued behind it go on, the step is
tried again, and it fails naming the session in the way when the reader never lets go."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from lacarte.dbt import DbtFailure
from lacarte.pipeline import run_steps
from lacarte.steps import Step
from tests.platform_pair import Pair

REBUILD = Step("rebuild", "rebuild the map's mart", ("run", "--select", "carte_acteurs"))
MART = "marts.carte_acteurs"


@pytest.fixture
def short_waits(world: Pair, monkeypatch) -> Pair:
    monkeypatch.setitem(world.settings.project.dbt_vars, "job_lock_timeout", "1s")
    monkeypatch.setitem(world.settings.project.dbt_vars, "job_lock_backoff_seconds", [1, 1, 2])
    return world


def hold(pair: Pair) -> psycopg.Connection:
    """An analyst's transaction left open on the mart (it holds its lock until it ends)."""
    conn = pair.connect("warehouse", user="analyst", autocommit=False, application_name="analyst-notebook")
    conn.execute(f"select count(*) from {MART}")
    return conn


def test_a_job_waits_for_a_reader_without_stalling_the_other_readers(short_waits: Pair):
    pair = short_waits
    before = pair.query("warehouse", f"select count(*) from {MART}")
    holder = hold(pair)
    messages: list[str] = []
    outcome: dict[str, BaseException | None] = {}

    def job() -> None:
        try:
            run_steps(pair.settings, [REBUILD], quiet=True, on_message=messages.append)
            outcome["error"] = None
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = error

    thread = threading.Thread(target=job)
    thread.start()
    latencies = []
    with pair.connect("warehouse", user="analyst", options="-c statement_timeout=3000") as reader:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            started = time.monotonic()
            reader.execute(f"select count(*) from {MART}")  # never fails, never waits past the job's timeout
            latencies.append(time.monotonic() - started)
            time.sleep(0.2)
    holder.close()  # the first reader ends: the job's next try goes through
    thread.join(timeout=300)
    assert outcome.get("error") is None, outcome
    assert max(latencies) < 2.5, latencies
    assert any("analyst-notebook" in m and "role analyst" in m for m in messages), messages
    assert pair.query("warehouse", f"select count(*) from {MART}") == before


def test_a_reader_that_never_lets_go_is_named_and_nothing_is_lost(short_waits: Pair):
    pair = short_waits
    before = pair.query("warehouse", f"select count(*) from {MART}")
    holder = hold(pair)
    try:
        with pytest.raises(DbtFailure) as failure:
            run_steps(pair.settings, [REBUILD], quiet=True)
    finally:
        holder.close()
    message = str(failure.value)
    assert "role analyst, application analyst-notebook" in message and "pg_cancel_backend" in message
    assert pair.query("warehouse", f"select count(*) from {MART}") == before
    run_steps(pair.settings, [REBUILD], quiet=True)  # run again, as the message says: it goes through
    assert pair.query("warehouse", f"select count(*) from {MART}") == before
    assert pair.query("warehouse", "select relname from pg_class where relname like 'carte_acteurs__dbt%'") == []


@pytest.mark.parametrize("var, value", [("job_lock_timeout", "3 s"), ("job_lock_timeout", 3),
                                        ("job_lock_backoff_seconds", []), ("job_lock_backoff_seconds", [1, "2"])])
def test_the_wait_settings_are_typed(world: Pair, monkeypatch, var, value):
    from lacarte.errors import UserError

    monkeypatch.setitem(world.settings.project.dbt_vars, var, value)
    with pytest.raises(UserError, match=var):
        run_steps(world.settings, [REBUILD], quiet=True)


def alone(job: str, name: str) -> Step:
    """A step of a job, run on its own (outside the job's lock)."""
    from dataclasses import replace

    from lacarte.steps import step_named

    return replace(step_named(job, name), name=f"{name}_alone")


PUBLICATION = ("changes", "publish", "confirmed")


@pytest.mark.parametrize("side, role, relation", [
    ("warehouse", "warehouse_reader", "exposure.exposure_publication_changes"),  # the change set, replaced
    ("webapp", "webapp_reader", "lacarte_publication.applied"),  # the ledger, appended to
    ("webapp", None, "qfdmo_displayedacteur"),  # a published table, changed, read by the web app itself
])
def test_every_kind_of_relation_the_publication_rewrites_survives_an_open_reader(short_waits: Pair, side, role,
                                                                                   relation):
    """A reader's open transaction on what the publication rewrites: the job goes through once
    the reader ends (or at once, when its lock does not conflict), and the reader saw no error."""
    pair = short_waits
    reader = pair.connect(side, user=role, autocommit=False, application_name="long-reader")
    reader.execute(f"select count(*) from {relation}")
    released = threading.Timer(2.5, reader.rollback)
    released.start()
    try:
        run_steps(pair.settings, [alone("run", name) for name in PUBLICATION], quiet=True)
        reader.execute(f"select count(*) from {relation}")  # the reader's session is still fine
    finally:
        released.cancel()
        reader.close()


def test_a_publication_held_up_on_the_webapp_names_the_session_and_publishes_nothing(short_waits: Pair):
    """The daily publication (a full build's change set, which checks every published table)
    waits a bounded time for a web app session holding a published table (a migration's
    lock), tries again, then fails naming it; rerun after it ends, it goes through."""
    pair = short_waits
    publish = Step("publish_short_wait", "publish, waiting 1 s per try",
                   ("run-operation", "publish_changes", "--target", "webapp", "--vars", "{publish_lock_timeout: 1s}"))
    pair.execute("warehouse", "update lacarte_state.status set publish_all = true")  # as the daily build leaves it
    run_steps(pair.settings, [alone("run", "changes")], quiet=True)
    ledger = "select count(*) from lacarte_publication.applied"
    before = pair.query("webapp", ledger)
    migration = pair.connect("webapp", autocommit=False, application_name="django-migrate")
    migration.execute("lock table qfdmo_displayedacteur in access exclusive mode")
    messages: list[str] = []
    try:
        with pytest.raises(DbtFailure) as failure:
            run_steps(pair.settings, [publish], quiet=True, on_message=messages.append)
    finally:
        migration.close()
    assert "on the webapp" in str(failure.value) and "application django-migrate" in str(failure.value)
    assert len(messages) == 3 and all("django-migrate" in message for message in messages), messages
    assert pair.query("webapp", ledger) == before
    run_steps(pair.settings, [publish, alone("run", "confirmed")], quiet=True)
