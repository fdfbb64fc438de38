"""The change stream and the resident follower: a change is never missed whenever it commits,
the stream says why a run must be full, the pull reads the webapp only by key, and the
follower carries a correction to the map, steps aside for the daily job and resumes after a
SIGKILL (on the shared world, which this module puts back afterwards)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from lacarte.changes.follow import Follower, FollowOptions, follower_status
from lacarte.changes.stream import ChangeStream, stream_settings
from lacarte.demo_follow import FollowerProcess
from lacarte.edits import EDITS, apply_edits
from lacarte.errors import StepFailure
from lacarte.pipeline import run_steps
from lacarte.steps import JOBS
from tests.conftest import world_changed
from tests.platform_pair import PROJECT, Pair
from tests.test_incremental import fingerprints, full_rebuild, last_change_set_rows, pull_only, run_job

FAST = FollowOptions(window=0.1, poll=0.1, busy_wait=0.5, heartbeat=0.5)


@pytest.fixture(scope="module")
def streaming(world_as_it_is: Pair) -> Pair:
    """The shared world as an earlier module left it (every test here compares with a full
    rebuild or follows its own edits), put back for the next module that reads it."""
    run_job(world_as_it_is, "incremental")  # whatever is owed, published
    yield world_as_it_is
    world_changed()


def shown_acteur(pair: Pair, offset: int = 0) -> str:
    """A shown actor without a revision: its own row decides what the map shows."""
    return pair.query("webapp", "select d.identifiant_unique from qfdmo_displayedacteur as d join qfdmo_acteur "
                                "using (identifiant_unique) where not exists (select from qfdmo_revisionacteur as r "
                                "where r.identifiant_unique = d.identifiant_unique) order by 1 offset %s limit 1",
                      [offset])[0][0]


def shown_name(pair: Pair, acteur: str) -> str | None:
    found = pair.query("webapp", "select nom from qfdmo_displayedacteur where identifiant_unique = %s", [acteur])
    return found[0][0] if found else None


def assert_incremental_equals_full(pair: Pair) -> None:
    after_incremental = fingerprints(pair)
    result = full_rebuild(pair)
    assert result.mode == "full"
    assert last_change_set_rows(pair) == 0, "the full run found differences the incremental runs missed"
    after_full = fingerprints(pair)
    assert sorted(k for k in after_full if after_full[k] != after_incremental.get(k)) == []


def test_a_change_committed_just_after_the_pull_reads_the_stream_is_in_the_next_run(streaming: Pair, monkeypatch):
    pair = streaming
    acteur = shown_acteur(pair)
    read_position = ChangeStream.position

    def position_then_commit(self: ChangeStream) -> str:
        upto = read_position(self)
        pair.execute("webapp", "update qfdmo_acteur set nom = 'Renommé juste après la lecture' "
                               "where identifiant_unique = %s", [acteur])
        return upto

    monkeypatch.setattr(ChangeStream, "position", position_then_commit)
    run_job(pair, "incremental")  # its position is before the commit: not its change
    monkeypatch.undo()
    after = run_job(pair, "incremental")
    assert after.mode == "incremental", after.messages
    assert shown_name(pair, acteur) == "Renommé juste après la lecture"
    assert_incremental_equals_full(pair)


def test_a_migration_the_link_has_not_followed_stops_the_cycle_before_anything_is_built(streaming: Pair):
    """The cycle's SQL is compiled again when the webapp's columns change, and the compilation
    refuses a link that differs from what a refresh would make it (as dbt's drift guard does):
    nothing is built or published until the link follows; the change is then carried."""
    pair = streaming
    run_job(pair, "incremental")  # whatever is owed, published
    acteur = shown_acteur(pair, offset=5)
    pair.execute("webapp", "alter table qfdmo_acteur add column couleur_migration text")
    try:
        pair.execute("webapp", "update qfdmo_acteur set nom = 'Après migration' where identifiant_unique = %s",
                     [acteur])
        with pytest.raises(StepFailure, match="differs from what a refresh would make it.*qfdmo_acteur"):
            run_job(pair, "incremental")
        assert shown_name(pair, acteur) != "Après migration"
        assert pair.query("warehouse", "select count(*) from lacarte_state.to_build")[0][0] > 0  # still owed
    finally:
        pair.execute("webapp", "alter table qfdmo_acteur drop column couleur_migration")
    result = run_job(pair, "incremental")
    assert result.mode == "incremental", result.messages
    assert shown_name(pair, acteur) == "Après migration"


def test_the_pull_reads_the_webapp_by_key_only(streaming: Pair):
    """In steady state the platform does no sequential scan of a tracked table: the stream
    says which rows changed, and the pull looks them up by key (pg_stat_user_tables)."""
    pair = streaming
    acteur = shown_acteur(pair, offset=3)
    pair.execute("webapp", "update qfdmo_acteur set nom = nom || ' (corrigé)' where identifiant_unique = %s", [acteur])
    tracked = [r[0] for r in pair.query("warehouse", "select source_table from lacarte_state.tracked")]
    scans = "select relname, seq_scan from pg_stat_user_tables where relname = any(%s) order by 1"
    with pair.connect("webapp", user="admin") as conn:
        conn.execute("select pg_stat_clear_snapshot()")
        before = dict(conn.execute(scans, [tracked]).fetchall())
    decided = pull_only(pair)
    assert decided.mode == "incremental", decided.messages
    with pair.connect("webapp", user="admin") as conn:
        conn.execute("select pg_stat_force_next_flush()")
        after = dict(conn.execute(scans, [tracked]).fetchall())
    assert len(tracked) >= 5
    assert {t: after[t] - before[t] for t in tracked if after[t] != before[t]} == {}
    run_job(pair, "incremental")


def test_the_publication_reads_only_the_webapp_tables_the_change_touches(streaming: Pair):
    """A renamed actor changes its rows of qfdmo_displayedacteur and qfdmo_vueacteur: the
    publication counts and writes those, and reads no other published table (each one counted
    at every cycle made a single edit's cost grow with the map)."""
    from lacarte.manifest import published_tables

    pair = streaming
    run_job(pair, "incremental")  # whatever is owed, published
    acteur = shown_acteur(pair, offset=4)
    published = [item.table for item in published_tables(pair.settings)]
    reads = "select relname, seq_scan + coalesce(idx_scan, 0) from pg_stat_user_tables where relname = any(%s)"
    with pair.connect("webapp", user="admin") as conn:
        before = dict(conn.execute(reads, [published]).fetchall())
    pair.execute("webapp", "update qfdmo_acteur set nom = nom || ' (relu)' where identifiant_unique = %s", [acteur])
    assert run_job(pair, "incremental").mode == "incremental"
    touched = {"qfdmo_displayedacteur", "qfdmo_vueacteur"}
    deadline = time.monotonic() + 30
    while True:  # the publication's session flushes its statistics as it ends
        with pair.connect("webapp", user="admin") as conn:
            after = dict(conn.execute(reads, [published]).fetchall())
        if all(after[t] > before[t] for t in touched) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(published) > 10 and touched <= set(published)
    assert {t for t in published if after[t] != before[t]} == touched


def test_a_dropped_recreated_or_invalidated_slot_makes_the_run_full_and_says_why(streaming: Pair):
    pair = streaming
    slot, _role = stream_settings(pair.settings)
    pair.execute("webapp", "select pg_drop_replication_slot(%s)", [slot], user="admin")
    decided = pull_only(pair)
    assert decided.mode == "full" and any(f"slot {slot} does not exist" in m for m in decided.messages)
    assert pair.query("webapp", "select count(*) from pg_replication_slots where slot_name = %s", [slot]) == [(1,)]

    # A slot recreated behind the platform's back starts after what the warehouse read.
    pair.execute("webapp", "select pg_drop_replication_slot(%s)", [slot], user="admin")
    pair.execute("webapp", "update qfdmo_acteur set nom = nom where identifiant_unique = %s", [shown_acteur(pair)])
    pair.execute("webapp", "select pg_create_logical_replication_slot(%s, 'wal2json')", [slot], user="admin")
    decided = pull_only(pair)
    assert decided.mode == "full" and any("the changes in between are unknown" in m for m in decided.messages)

    # A slot the webapp invalidated: it kept more WAL than max_slot_wal_keep_size allows.
    with pair.connect("webapp", user="admin") as conn:
        conn.execute("alter system set max_slot_wal_keep_size = '1MB'")
        conn.execute("select pg_reload_conf()")
        try:
            conn.execute("update qfdmo_acteur set nom = nom where identifiant_unique = %s", [shown_acteur(pair)])
            for _ in range(4):  # more WAL than the bound, in segments the checkpoint may remove
                conn.execute("create temp table filler as select g, repeat('x', 200) as t "
                             "from generate_series(1, 20000) as g")
                conn.execute("drop table filler")
                conn.execute("select pg_switch_wal()")
                conn.execute("checkpoint")
            lost = conn.execute("select wal_status from pg_replication_slots where slot_name = %s", [slot]).fetchone()
        finally:
            conn.execute("alter system reset max_slot_wal_keep_size")
            conn.execute("select pg_reload_conf()")
    assert lost == ("lost",)
    decided = pull_only(pair)
    assert decided.mode == "full" and any("was invalidated" in m for m in decided.messages), decided.messages

    assert run_job(pair, "incremental").mode == "full"  # the full build these pulls owe
    assert run_job(pair, "incremental").nothing_changed


@contextmanager
def following(pair: Pair) -> Iterator[Follower]:
    """A follower running in a thread, stopped on leaving (after the cycle under way)."""
    follower = Follower(pair.settings, FAST)
    thread = threading.Thread(target=follower.run)
    thread.start()
    try:
        yield follower
    finally:
        follower.stop.set()
        thread.join(timeout=300)
    assert not thread.is_alive()


def test_the_follower_carries_an_edit_to_the_map_and_reports_its_latency(streaming: Pair):
    pair = streaming
    acteur = shown_acteur(pair, offset=5)
    with following(pair) as follower:
        wait_for_state(pair, "waiting for changes")  # started (its SQL compiled), and nothing changed
        assert [c.mode for c in follower.cycles if c.mode != "none"] == []
        pair.execute("webapp", "update qfdmo_acteur set nom = 'Corrigé par le follower' where identifiant_unique = %s",
                     [acteur])
        wait_until(lambda: shown_name(pair, acteur) == "Corrigé par le follower", "the follower carried the edit")
    carried = [c for c in follower.cycles if c.mode != "none"]
    assert [c.mode for c in carried] == ["incremental"]
    assert carried[0].latency is not None and 0 < carried[0].latency < 300
    status = follower_status(pair.settings)
    assert f"{len(follower.cycles)} cycle(s)" in status and "committed -> published in" in status


def test_the_follower_steps_aside_while_the_daily_job_holds_the_warehouse(streaming: Pair):
    pair = streaming
    first, second = shown_acteur(pair, offset=7), shown_acteur(pair, offset=8)
    daily = JOBS["run"]
    pair.execute("webapp", "update qfdmo_acteur set nom = 'Pendant le job du jour' where identifiant_unique = %s",
                 [first])
    run_steps(pair.settings, daily[:1], quiet=True, job="run")  # the daily job's first task holds the lock
    with following(pair) as follower:
        try:
            wait_for_state(pair, "stepped aside")
            assert "stepped aside: skipped: job run holds the warehouse" in follower_status(pair.settings)
            assert follower.cycles == []
        finally:
            run_steps(pair.settings, daily[1:], quiet=True, job="run")  # its last task gives it back
        assert shown_name(pair, first) == "Pendant le job du jour"  # the daily job carried it
        wait_for_state(pair, "waiting for changes")
        # At most a cycle that confirms the daily job's publication: nothing was left to carry.
        assert [c.mode for c in follower.cycles if c.mode != "none"] == []
        pair.execute("webapp", "update qfdmo_acteur set nom = 'Après le job du jour' where identifiant_unique = %s",
                     [second])
        wait_until(lambda: shown_name(pair, second) == "Après le job du jour", "the follower carried the edit")
    assert [c.mode for c in follower.cycles if c.mode != "none"] == ["incremental"]


def wait_until(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:g} s: {what}"
        time.sleep(0.1)


def wait_for_state(pair: Pair, state: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while state not in (follower_status(pair.settings) or ""):
        assert time.monotonic() < deadline, follower_status(pair.settings)
        time.sleep(0.1)


def test_status_reads_the_record_an_earlier_follower_version_left(streaming: Pair):
    """`lacarte status` after an upgrade, before the new follower starts: the record lacks the
    newer columns (the follower adds them when it starts)."""
    from lacarte.changes.follow import FOLLOWER_DDL

    pair = streaming
    pair.execute("warehouse", FOLLOWER_DDL)
    pair.execute("warehouse", "insert into lacarte_state.follower (host, pid, started_at, heartbeat_at, state) values "
                              "('earlier', 1, now(), now(), 'waiting for changes') on conflict do nothing")
    pair.execute("warehouse", "alter table lacarte_state.follower drop column last_cycle_steps")
    try:
        assert "waiting for changes" in follower_status(pair.settings)
    finally:
        pair.execute("warehouse", FOLLOWER_DDL)


def test_a_killed_follower_resumes_where_it_stopped(streaming: Pair):
    """SIGKILL in the middle of a cycle (its pull recorded, its slice being built): the next
    follower takes the lock at once (the killed one's session is gone), and carries the change."""
    from tests.test_links import LACARTE, cli

    pair = streaming
    acteur = shown_acteur(pair, offset=9)
    env = {k: v for k, v in pair.settings.values.items() if k.isupper()}
    env.update(PATH=os.environ["PATH"], LACARTE_PROJECT_DIR=str(PROJECT.root))
    env.update({k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ})
    last_run = pair.query("warehouse", "select coalesce(max(run_id), 0) from lacarte_state.runs")[0][0]
    follower = subprocess.Popen([LACARTE, "follow", "--window", "0.1"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        pair.execute("webapp", "update qfdmo_acteur set nom = 'Tué puis repris' where identifiant_unique = %s",
                     [acteur])
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not pair.query(
                "warehouse", "select count(*) > 0 from lacarte_state.runs where run_id > %s and mode = 'incremental'",
                [last_run])[0][0]:
            time.sleep(0.05)
        assert pair.query("warehouse", "select count(*) from lacarte_state.job_lock where job = 'incremental'") == [(1,)]
    finally:
        follower.send_signal(signal.SIGKILL)
        follower.wait(timeout=30)
    assert shown_name(pair, acteur) != "Tué puis repris"  # killed before its publication (seconds away)
    resumed = cli(pair, "follow", "--cycles", "1", "--window", "0.1")
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert shown_name(pair, acteur) == "Tué puis repris"
    assert_incremental_equals_full(pair)


def test_demo_follow_shows_an_edit_reaching_the_map_with_its_latency(streaming: Pair):
    from tests.test_links import cli

    pair = streaming
    done = cli(pair, "demo-follow")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "reached the map" in done.stdout and "s after its commit" in done.stdout
    assert "the follower's own measure" in done.stdout
    assert pair.query("webapp", "select count(*) from qfdmo_displayedacteur where nom like '%(corrigé %'")[0][0] >= 1


# One step of a schedule the follower lives through, after a pause: an edit of some kind (its
# rows picked by a seed), or (one step in five) a SIGKILL of the follower at whatever point of
# a cycle it is, then a new follower.
SCHEDULE_STEP = st.tuples(st.sampled_from(["edit"] * 4 + ["kill"]), st.sampled_from(sorted(EDITS)),
                          st.integers(min_value=0, max_value=99_999), st.floats(min_value=0, max_value=2.0))
EVERY_KIND_WITH_KILLS = [("edit", kind, 7 + number, 0.4 * (number % 4)) for number, kind in enumerate(sorted(EDITS))]
EVERY_KIND_WITH_KILLS[3:3] = [("kill", "", 0, 0.2)]
EVERY_KIND_WITH_KILLS[9:9] = [("kill", "", 0, 0.9)]


@settings(max_examples=int(os.environ.get("LACARTE_PROPERTY_EXAMPLES", "1")), deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schedule=st.lists(SCHEDULE_STEP, min_size=6, max_size=12))
@example(schedule=EVERY_KIND_WITH_KILLS)
def test_edits_and_kills_at_any_point_of_the_followers_cycles_give_what_a_full_rebuild_gives(streaming: Pair,
                                                                                            schedule):
    """Edits of every kind, each committed in its own transaction at a random moment while a
    `lacarte follow` process runs (before, during and just after its reads), and SIGKILLs of
    that process at random moments, each followed by a new one. Once the last one has caught
    up, every model and published table equals a full rebuild, and the full run finds nothing
    to publish."""
    pair = streaming
    follower = FollowerProcess(pair.settings)
    try:
        follower.wait_watching(timeout=300)
        with pair.connect("webapp") as conn:
            for action, kind, seed, pause in schedule:
                time.sleep(pause)
                if action == "kill":
                    follower.process.send_signal(signal.SIGKILL)
                    follower.process.wait(timeout=30)
                    follower = FollowerProcess(pair.settings)
                    continue
                try:
                    apply_edits(conn, [(kind, seed)])
                except psycopg.errors.IntegrityError:
                    pass  # an edit the web app would refuse (a label the actor already has): not committed
        target = pair.query("webapp", "select pg_current_wal_flush_lsn()::text")[0][0]
        slot, _role = stream_settings(pair.settings)
        deadline = time.monotonic() + 600
        while not pair.query("webapp", "select confirmed_flush_lsn >= %s::pg_lsn from pg_replication_slots "
                                       "where slot_name = %s", [target, slot])[0][0] \
                or "waiting for changes" not in (follower_status(pair.settings) or "") \
                or pair.query("warehouse", "select (select count(*) from lacarte_state.to_build) + (select count(*) "
                                           "from lacarte_state.to_publish)")[0][0]:
            assert time.monotonic() < deadline and follower.process.poll() is None, follower_status(pair.settings)
            time.sleep(0.2)
    finally:
        follower.stop()
    assert_incremental_equals_full(pair)
