"""Incremental runs: what they detect, how publication repairs itself, and that any sequence
of edits gives exactly what a full rebuild gives (a property-based test on the shared world,
which this module puts back afterwards)."""

from __future__ import annotations

import os
from dataclasses import replace

import psycopg
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from lacarte.changes import compiled
from lacarte.changes.pull import code_hash
from lacarte.dbt import DbtFailure
from lacarte.edits import EDITS, apply_edits
from lacarte.errors import StepFailure
from lacarte.pipeline import JobResult, run_steps
from lacarte.steps import JOBS, WAREHOUSE_BUSY_EXIT_CODE
from tests.conftest import world_changed
from tests.platform_pair import Pair

MODEL_SCHEMAS = ("staging", "intermediate", "marts", "exposure")


@pytest.fixture(scope="module")
def cycles(world: Pair) -> Pair:
    """The shared world (whatever an earlier run left owed, published first), put back for the
    next module that reads it."""
    run_job(world, "incremental")
    yield world
    world_changed()


def run_job(pair: Pair, job: str) -> JobResult:
    return run_steps(pair.settings, JOBS[job], quiet=True)


# What incremental runs are compared with: the daily job, its build a `dbt run` of every model
# (the data tests change no row; the other modules run them).
FULL_REBUILD = tuple(replace(step, dbt=("run", "--exclude", "tag:publication")) if step.name == "build" else step
                     for step in JOBS["run"])


def full_rebuild(pair: Pair) -> JobResult:
    return run_steps(pair.settings, FULL_REBUILD, quiet=True, job="run")


def edit(pair: Pair, edits: list[tuple[str, int]]) -> None:
    with pair.connect("webapp") as conn:
        apply_edits(conn, edits)


def table_digest(conn, relation: str, columns: list[str]) -> str:
    select = ", ".join(f'"{c}"' for c in columns)
    count, digest = conn.execute(
        f"select count(*), md5(coalesce(string_agg(r::text, chr(10) order by r::text), '')) "
        f"from (select {select} from {relation}) as r").fetchone()
    return f"{count}:{digest}"


def fingerprints(pair: Pair) -> dict[str, str]:
    """A checksum of every model of the warehouse and of every published webapp table (by the
    columns its exposure fills: the webapp's own surrogate ids are not the pipeline's)."""
    found: dict[str, str] = {}
    exposure_columns: dict[str, list[str]] = {}
    with pair.connect("warehouse") as conn:
        for schema, table in conn.execute(
                "select table_schema, table_name from information_schema.tables where table_schema = any(%s) "
                "and table_name not like 'exposure_publication%%' order by 1, 2", [list(MODEL_SCHEMAS)]).fetchall():
            columns = [r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
                "order by ordinal_position", [schema, table]).fetchall()]
            found[f"{schema}.{table}"] = table_digest(conn, f'"{schema}"."{table}"', columns)
            if schema == "exposure":
                exposure_columns[table] = columns
    from lacarte.manifest import published_tables

    with pair.connect("webapp") as conn:
        for item in published_tables(pair.settings):
            found[f"webapp.{item.table}"] = table_digest(conn, f'public."{item.table}"', exposure_columns[item.model])
            found[f"exposure_as_published.{item.table}"] = found[f"exposure.{item.model}"]
    return found


def last_change_set_rows(pair: Pair) -> int:
    return pair.query("warehouse", "select change_rows from exposure.exposure_publication_change_set")[0][0]


CYCLE = st.lists(st.tuples(st.sampled_from(sorted(EDITS)), st.integers(min_value=0, max_value=99_999)),
                 min_size=1, max_size=4)


# Each example is real runs on real instances: one random sequence besides the explicit one
# (LACARTE_PROPERTY_EXAMPLES=20 for more), no shrinking (it would replay dozens of runs); a
# failure prints the sequence of edits, which the test reproduces exactly (derandomize).
@settings(max_examples=int(os.environ.get("LACARTE_PROPERTY_EXAMPLES", "1")), deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(CYCLE, min_size=2, max_size=2))
@example(sequence=[[(kind, 1) for kind in sorted(EDITS)], [(kind, 2) for kind in sorted(EDITS)]])
def test_incremental_runs_give_what_a_full_rebuild_gives(cycles: Pair, sequence):
    pair = cycles
    for edits in sequence:
        edit(pair, edits)
        result = run_job(pair, "incremental")
        assert result.mode == "incremental", result.messages
        assert "build_slice" in result.seconds and "build" not in result.seconds
    after_incremental = fingerprints(pair)
    for table in [k for k in after_incremental if k.startswith("webapp.")]:
        assert after_incremental[table] == after_incremental["exposure_as_published." + table[len("webapp."):]], table
    result = full_rebuild(pair)
    assert result.mode == "full"
    assert last_change_set_rows(pair) == 0, "the full run found differences the incremental runs missed"
    after_full = fingerprints(pair)
    differing = sorted(k for k in after_full if after_full[k] != after_incremental.get(k))
    assert differing == []


def test_nothing_changed_stops_after_the_pull_and_exits_99(cycles: Pair):
    from tests.test_links import cli

    pair = cycles
    run_job(pair, "incremental")  # whatever is owed, published
    result = run_job(pair, "incremental")
    assert result.nothing_changed and list(result.seconds) == ["confirm", "pull"]
    done = cli(pair, "run", "--incremental")
    assert done.returncode == 99, done.stderr
    assert "nothing changed" in done.stdout


def test_a_bulk_update_leaving_modifie_le_alone_is_seen(cycles: Pair):
    pair = cycles
    run_job(pair, "incremental")
    # A shown actor without a revision: its own statut decides.
    acteur = pair.query("webapp", "select d.identifiant_unique from qfdmo_displayedacteur as d join qfdmo_acteur "
                                  "using (identifiant_unique) where not exists (select from qfdmo_revisionacteur as r "
                                  "where r.identifiant_unique = d.identifiant_unique) order by 1 limit 1")[0][0]
    before = pair.query("webapp", "select modifie_le from qfdmo_acteur where identifiant_unique = %s", [acteur])
    pair.execute("webapp", "update qfdmo_acteur set statut = 'INACTIF' where identifiant_unique = %s", [acteur])
    assert pair.query("webapp", "select modifie_le from qfdmo_acteur where identifiant_unique = %s", [acteur]) == before
    result = run_job(pair, "incremental")
    assert result.mode == "incremental"
    assert pair.query("webapp", "select count(*) from qfdmo_displayedacteur where identifiant_unique = %s",
                      [acteur]) == [(0,)]


def pull_only(pair: Pair) -> JobResult:
    """The incremental job up to its decision (the pull)."""
    steps = JOBS["incremental"]
    return run_steps(pair.settings, steps[:[s.name for s in steps].index("pull") + 1], quiet=True)


def test_the_run_is_full_and_says_why_when_it_must_be(cycles: Pair):
    from lacarte.dbt import parse_manifest

    pair = cycles
    run_job(pair, "incremental")
    edit(pair, [("new_reference_row", 5)])
    decided = pull_only(pair)
    assert decided.mode == "full" and any("reference table qfdmo_labelqualite changed" in m for m in decided.messages)

    manifest = parse_manifest(pair.settings)
    variables = dict(pair.settings.project.dbt_vars)
    assert code_hash(manifest, variables) == code_hash(manifest, dict(variables))
    assert code_hash(manifest, {**variables, "incremental_max_share": 0.3}) != code_hash(manifest, variables)
    pair.execute("warehouse", "update lacarte_state.status set code_hash = 'an older version', "
                              "needs_full_build = false")
    decided = pull_only(pair)
    assert decided.mode == "full" and any("code changed" in m for m in decided.messages)

    pair.execute("warehouse", "update lacarte_state.status set needs_full_build = false")
    pair.execute("webapp", "update qfdmo_acteur set nom = nom where identifiant_unique in "
                           "(select identifiant_unique from qfdmo_acteur order by 1 limit 1000)")
    decided = pull_only(pair)
    assert decided.mode == "full" and any("a full build is faster" in m for m in decided.messages)

    # The full build these pulls asked for is owed: the next run does it.
    settled = run_job(pair, "incremental")
    assert settled.mode == "full" and "build" in settled.seconds
    assert run_job(pair, "incremental").nothing_changed


def test_a_publication_that_never_happened_is_published_by_the_next_run(cycles: Pair):
    pair = cycles
    run_job(pair, "incremental")
    edit(pair, [("update_actor", 31), ("delete_relations", 31)])
    steps = JOBS["incremental"]
    # The run stops after preparing its change set (the publish step never runs)...
    run_steps(pair.settings, steps[:[s.name for s in steps].index("publish")], quiet=True)
    edit(pair, [("insert_actor", 32)])
    # ...the next one publishes both.
    result = run_job(pair, "incremental")
    assert result.mode == "incremental"
    published = fingerprints(pair)
    assert all(published[k] == published["exposure_as_published." + k[len("webapp."):]]
               for k in published if k.startswith("webapp."))
    assert pair.query("webapp", "select count(*) from qfdmo_displayedacteur where identifiant_unique = 'edit_new_32'")


def test_a_publication_the_warehouse_did_not_confirm_is_confirmed_by_the_next_run(cycles: Pair):
    pair = cycles
    edit(pair, [("update_actor", 41)])
    steps = JOBS["incremental"]
    run_steps(pair.settings, steps[:-1], quiet=True)  # published, not confirmed (interrupted)
    applied = pair.query("webapp", "select max(change_set_id) from lacarte_publication.applied")[0][0]
    result = run_job(pair, "incremental")
    assert any(f"change set {applied} (changes" in m for m in result.messages)
    assert pair.query("warehouse", "select confirmed_change_set from lacarte_state.status")[0][0] >= applied


@pytest.mark.parametrize("damage", [
    "delete from lacarte_publication.applied",
    "delete from qfdmo_displayedacteur_labels",
])
def test_a_webapp_changed_behind_the_publication_is_reconciled(cycles: Pair, damage: str):
    """The ledger is read at each publication, and each row the change set touches must find
    the webapp as the warehouse left it (the other rows are checked by the daily build's
    change set and the weekly one)."""
    pair = cycles
    run_job(pair, "incremental")
    # A shown label of an actor without a revision: removing it touches qfdmo_displayedacteur_labels.
    acteur, label = pair.query("webapp", "select displayedacteur_id, labelqualite_id from qfdmo_displayedacteur_labels "
                                         "as d where not exists (select from qfdmo_revisionacteur as r where "
                                         "r.identifiant_unique = d.displayedacteur_id) order by 1, 2 limit 1")[0]
    pair.execute("webapp", damage)
    pair.execute("webapp", "delete from qfdmo_acteur_labels where acteur_id = %s and labelqualite_id = %s",
                 [acteur, label])
    result = run_job(pair, "incremental")
    assert result.mode == "incremental"
    kind = pair.query("webapp", "select kind from lacarte_publication.applied order by applied_at desc limit 1")[0][0]
    assert kind == "reconcile"
    published = fingerprints(pair)
    assert all(published[k] == published["exposure_as_published." + k[len("webapp."):]]
               for k in published if k.startswith("webapp."))


def test_the_incremental_publication_runs_without_dbt_and_keeps_the_shrink_guard(cycles: Pair, monkeypatch):
    """An incremental change set is applied by publish_changes' own statements, rendered once
    (no dbt invocation per cycle); a table losing rows is held to publish_min_ratio, and a
    refusal changes nothing."""
    import lacarte.dbt
    from lacarte.changes import publication

    pair = cycles
    acteur = pair.query("webapp", "select identifiant_unique from qfdmo_displayedacteur as d where not exists (select "
                                  "from qfdmo_revisionacteur as r where r.identifiant_unique = d.identifiant_unique) "
                                  "order by 1 limit 1")[0][0]
    pair.execute("webapp", "update qfdmo_acteur set statut = 'INACTIF' where identifiant_unique = %s", [acteur])
    steps = JOBS["incremental"]
    assert [step.name for step in steps[-2:]] == ["publish", "confirmed"] and steps[-2].action == "publish"
    try:
        assert run_steps(pair.settings, steps[:-2], quiet=True).mode == "incremental"
        before = fingerprints(pair)
        ledger = pair.query("webapp", "select max(change_set_id) from lacarte_publication.applied")
        with pair.connect("warehouse") as warehouse, pair.connect("webapp") as webapp:
            plan = publication.publication_plan(pair.settings, warehouse, webapp)
            with pytest.raises(StepFailure, match=r"refused: .*qfdmo_displayedacteur would lose 1 of its \d+ rows"):
                publication.apply(webapp, {**plan, "min_ratio": 1.0})
            # Any change reaches a share of 0 of a table: analyzed in the publication's
            # transaction (rolled back here, inside an outer one).
            with webapp.transaction():
                applied = publication.apply(webapp, {**plan, "analyze_share": 0.0})
                raise psycopg.Rollback()
            assert "(analyzed qfdmo_displayedacteur" in applied, applied
        # The same guard when dbt's publish_changes applies the change set.
        with pytest.raises(DbtFailure, match=r"refused: .*qfdmo_displayedacteur would lose 1 of its \d+ rows"):
            pair.dbt("run-operation", "publish_changes", "--target", "webapp", "--args", "{min_ratio: 1}")
        assert fingerprints(pair) == before
        assert pair.query("webapp", "select max(change_set_id) from lacarte_publication.applied") == ledger

        invocations: list[list[str]] = []
        runner = lacarte.dbt.dbtRunner

        class CountingRunner(runner):
            def invoke(self, args, **kwargs):
                invocations.append(list(args))
                return super().invoke(args, **kwargs)

        monkeypatch.setattr(lacarte.dbt, "dbtRunner", CountingRunner)
        result = run_steps(pair.settings, steps[-2:], quiet=True, job="incremental")
        assert invocations == []
        assert any(m.startswith("publish: change set") and "qfdmo_displayedacteur +0 ~0 -1" in m
                   and "analyzed" not in m for m in result.messages), result.messages
        assert pair.query("webapp", "select count(*) from qfdmo_displayedacteur where identifiant_unique = %s",
                          [acteur]) == [(0,)]
    finally:
        monkeypatch.undo()
        pair.execute("webapp", "update qfdmo_acteur set statut = 'ACTIF' where identifiant_unique = %s", [acteur])
        run_job(pair, "incremental")


def test_status_shows_the_last_runs_and_the_freshness(cycles: Pair):
    from tests.test_links import cli

    pair = cycles
    edit(pair, [("update_actor", 61)])
    run_job(pair, "incremental")
    done = cli(pair, "status")
    assert done.returncode == 0, done.stderr
    assert "incremental" in done.stdout and "map up to date as of" in done.stdout


def test_an_incremental_run_is_skipped_while_the_daily_job_holds_the_warehouse(cycles: Pair):
    from tests.test_links import cli

    pair = cycles
    edit(pair, [("update_actor", 71)])
    daily = JOBS["run"]
    run_steps(pair.settings, daily[:1], quiet=True, job="run")  # the daily job's first task holds the lock
    try:
        skipped = run_job(pair, "incremental")
        assert skipped.busy and not skipped.nothing_changed and skipped.seconds == {}
        assert any("job run holds the warehouse" in m for m in skipped.messages)
        # the command says so with its own exit code (not 99, "nothing changed"), and status names the holder
        busy = cli(pair, "run", "--incremental")
        assert busy.returncode == WAREHOUSE_BUSY_EXIT_CODE, busy.stdout[-2000:] + busy.stderr[-2000:]
        assert "another job holds the warehouse" in busy.stderr
        status = cli(pair, "status")
        assert "warehouse lock: held by job run since" in status.stdout
    finally:
        run_steps(pair.settings, daily[-1:], quiet=True, job="run")  # its last task gives it back
    after = run_job(pair, "incremental")
    assert not any("holds the warehouse" in m for m in after.messages)
    assert after.mode == "incremental", after.messages  # the edit the daily job did not carry


def test_two_incremental_runs_started_at_once_never_both_hold_the_warehouse(cycles: Pair):
    import threading
    from datetime import timedelta

    from lacarte.changes.lock import acquire, release

    def take(barrier: threading.Barrier, taken: list[bool]) -> None:
        barrier.wait()
        taken.append(acquire(cycles.settings, "incremental", wait=timedelta(0))[0])

    for _round in range(15):
        barrier, taken = threading.Barrier(2), []
        threads = [threading.Thread(target=take, args=(barrier, taken)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        release(cycles.settings, "incremental")
        assert sorted(taken) == [False, True]


def test_a_slice_built_before_the_last_pull_is_never_merged(cycles: Pair):
    pair = cycles
    edit(pair, [("update_actor", 81)])
    steps = JOBS["incremental"]
    names = [s.name for s in steps]
    run_steps(pair.settings, steps[:names.index("build_slice")], quiet=True)  # confirm, pull
    with pytest.raises(StepFailure, match="no complete incremental build since the last pull"):
        run_steps(pair.settings, [steps[names.index("merge")]], quiet=True, job="incremental")
    result = run_job(pair, "incremental")  # the next run builds and merges them
    assert result.mode == "incremental" and "merge" in result.seconds

def test_deleted_rows_are_found_from_the_stream_and_the_staging_copy(cycles: Pair):
    """Deletions leave no row to see: the stream gives their old keys, and the warehouse's
    staging copy the actors those rows belonged to (through their parent row for a table that
    follows another)."""
    pair = cycles
    run_job(pair, "incremental")
    deleted = pair.query("webapp", "select identifiant_unique from qfdmo_acteur as a where not exists (select from "
                                   "qfdmo_revisionacteur as r where r.identifiant_unique = a.identifiant_unique) "
                                   "order by md5(identifiant_unique) limit 1")[0][0]
    relation, owner = pair.query(
        "webapp", "select s.id, p.acteur_id from qfdmo_propositionservice_sous_categories as s join "
                  "qfdmo_propositionservice as p on p.id = s.propositionservice_id where p.acteur_id <> %s "
                  "order by md5(s.id::text) limit 1", [deleted])[0]
    with pair.connect("webapp") as conn:
        with conn.transaction():
            conn.execute("delete from qfdmo_propositionservice_sous_categories where id = %s or propositionservice_id "
                         "in (select id from qfdmo_propositionservice where acteur_id = %s)", [relation, deleted])
            for table in ("qfdmo_propositionservice", "qfdmo_acteur_labels", "qfdmo_acteur_acteur_services",
                          "qfdmo_perimetreadomicile"):
                conn.execute(f"delete from {table} where acteur_id = %s", [deleted])
            conn.execute("delete from qfdmo_acteur where identifiant_unique = %s", [deleted])
    decided = pull_only(pair)
    assert decided.mode == "incremental", decided.messages
    to_build = {r[0] for r in pair.query("warehouse", "select identifiant_unique from lacarte_state.to_build")}
    assert {deleted, owner} <= to_build
    run_job(pair, "incremental")
    assert pair.query("webapp", "select count(*) from qfdmo_vueacteur where identifiant_unique = %s", [deleted]) == [(0,)]


def test_every_model_indexes_the_column_naming_its_actor(cycles: Pair):
    """merge_slice finds a few actors' rows among millions by these indexes (acteur_index)."""
    from lacarte.changes.pull import model_acteur_rules
    from lacarte.dbt import parse_manifest

    manifest = parse_manifest(cycles.settings)
    rules = model_acteur_rules(manifest)
    # meta.acteur is mandatory: the one fact both merge_slice and the pull read
    assert sorted(name for name, rule in rules.items() if rule is None) == []
    expected = {(n.schema, n.alias or n.name, (lambda r: r["column"] if isinstance(r, dict) else r)(rules[n.alias or n.name]))
                for n in manifest.nodes.values()
                if n.resource_type == "model" and rules.get(n.alias or n.name) and "publication" not in n.tags}
    indexed = set(cycles.query("warehouse", """
        select n.nspname, c.relname, a.attname from pg_index as i
        join pg_class as c on c.oid = i.indrelid join pg_namespace as n on n.oid = c.relnamespace
        join pg_attribute as a on a.attrelid = c.oid and a.attnum = i.indkey[0]"""))
    assert len(expected) > 20
    assert expected - indexed == set()


def test_a_large_slice_is_analyzed_as_it_is_built(cycles: Pair, monkeypatch):
    """A slice of at least SLICE_ANALYZE_ACTEURS actors gets statistics table by table (the
    models reading it are planned on them); a smaller one does not pay for it."""
    pair = cycles
    run_job(pair, "incremental")

    def unanalyzed_slice_tables() -> tuple[int, int]:
        return pair.query("warehouse", "select count(*) filter (where c.reltuples < 0), count(*) from pg_class as c "
                                       "join pg_namespace as n on n.oid = c.relnamespace "
                                       "where n.nspname like 'slice\\_%%' and c.relkind = 'r'")[0]

    for threshold, analyzed in ((10**9, False), (1, True)):
        monkeypatch.setattr(compiled, "SLICE_ANALYZE_ACTEURS", threshold)
        edit(pair, [("update_actor", threshold % 97)])
        result = run_job(pair, "incremental")
        assert result.mode == "incremental" and "build_slice" in result.seconds, result.messages
        unanalyzed, tables = unanalyzed_slice_tables()
        assert tables > 50
        # Without analyze, a few-row table keeps reltuples -1 (autovacuum analyzes 50 changed rows or more).
        assert (unanalyzed == 0) if analyzed else (unanalyzed > 0), (threshold, unanalyzed, tables)


def test_digest_changes_with_content(cycles: Pair):
    """The fingerprints the tests compare do see a changed row."""
    pair = cycles
    before = fingerprints(pair)
    damaged = "(select min(identifiant_unique) from exposure.exposure_carte_acteur)"
    pair.execute("warehouse", f"update exposure.exposure_carte_acteur set nom = nom || '!' where identifiant_unique = {damaged}")
    try:
        after = fingerprints(pair)
    finally:  # no run would repair it but a full one: the next module's comparisons need it whole
        pair.execute("warehouse", "update exposure.exposure_carte_acteur set nom = left(nom, -1) "
                                  f"where identifiant_unique = {damaged}")
    assert fingerprints(pair) == before
    assert [k for k in after if after[k] != before[k]] == ["exposure.exposure_carte_acteur",
                                                           "exposure_as_published.qfdmo_displayedacteur"]
