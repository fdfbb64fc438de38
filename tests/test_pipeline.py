"""The rules of the computation (models/docs/rules.md), one scenario each, from webapp rows to the
displayed tables and the admin view; the publication's guarantees."""

from __future__ import annotations

import json
import re
import threading
import uuid

import psycopg
import pytest

from lacarte.dbt import DbtFailure, target_path
from lacarte.manifest import published_tables
from lacarte.pipeline import run_steps
from lacarte.steps import JOBS, MAIN, step_named
from tests.platform_pair import Pair
from tests.scenario_world import PARENT, PARENT_INACTIF, PARENT_LONE, PARENT_MIXED

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def rebuild_and_publish(pair: Pair) -> None:
    """An incremental run: the edited actors, their parents and children rebuilt and published."""
    run_steps(pair.settings, JOBS["incremental"], quiet=True)


def publish(pair: Pair, *args: str):
    return pair.dbt("run-operation", "publish_exposures", "--target", "webapp", *args)


EXPOSURE_CHECKSUM = """select string_agg(t, '|' order by t) from (
    select 'a' || md5(string_agg(e::text, ',' order by identifiant_unique)) t from exposure.exposure_carte_acteur e
    union all select 'p' || md5(string_agg(e::text, ',' order by id)) from exposure.exposure_carte_propositionservice e
    union all select 's' || md5(string_agg(e::text, ',' order by e::text))
        from exposure.exposure_carte_propositionservice_sous_categories e
    union all select 'l' || md5(string_agg(e::text, ',' order by e::text)) from exposure.exposure_carte_acteur_labels e
) parts"""


def displayed(pair: Pair, identifiant: str) -> dict | None:
    with pair.connect("webapp") as conn:
        cursor = conn.execute("select *, st_astext(location) as wkt from qfdmo_displayedacteur "
                              "where identifiant_unique = %s", [identifiant])
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([c.name for c in cursor.description], row, strict=True))


def propositions(pair: Pair, identifiant: str) -> dict[int, set[int]]:
    rows = pair.query("webapp", """select p.action_id, s.souscategorieobjet_id from qfdmo_displayedpropositionservice p
        join qfdmo_displayedpropositionservice_sous_categories s on s.displayedpropositionservice_id = p.id
        where p.acteur_id = %s""", [identifiant])
    result: dict[int, set[int]] = {}
    for action, sous_categorie in rows:
        result.setdefault(action, set()).add(sous_categorie)
    return result


def relation(pair: Pair, table: str, column: str, identifiant: str, key: str = "displayedacteur_id") -> list:
    return sorted(r[0] for r in pair.query("webapp", f"select {column} from {table} where {key} = %s", [identifiant]))


def test_dbt_keeps_each_threads_connection_from_node_to_node_and_leaves_none_open(world: Pair):
    """dbt closes a thread's connection after every node; lacarte.dbt keeps it open while it is
    healthy. Sessions the warehouse counted during a `dbt test` of the staging models: a few,
    not one per test (an undercount, of sessions whose statistics are not flushed yet, could only
    lower it); then none of dbt's is left."""
    sessions = "select sessions from pg_stat_database where datname = current_database()"
    before = world.query("warehouse", sessions)[0][0]
    tests = len(world.dbt("test", "--select", "staging").result.results)
    opened = world.query("warehouse", sessions)[0][0] - before
    assert tests >= 50
    assert opened <= int(world.settings.values["DBT_THREADS"]) + 4, (opened, tests)
    assert world.query("warehouse", "select count(*) from pg_stat_activity where application_name = 'dbt'") == [(0,)]


def test_plain_actor_is_shown_with_its_relations(world: Pair):
    row = displayed(world, "scn_plain")
    assert row["nom"] == "Repair Café Auray" and row["email"] == "contact@example.org" and row["statut"] == "ACTIF"
    assert propositions(world, "scn_plain") == {1: {1, 2}}
    assert relation(world, "qfdmo_displayedacteur_labels", "labelqualite_id", "scn_plain") == [2]
    assert relation(world, "qfdmo_displayedacteur_acteur_services", "acteurservice_id", "scn_plain") == [1]
    assert relation(world, "qfdmo_displayedacteur_sources", "source_id", "scn_plain") == [1]


@pytest.mark.parametrize("identifiant", ["scn_inactif", "scn_supprime", "scn_revision_inactif", "scn_relations_blanked",
                                         "scn_domicile", "scn_pros", "scn_pros_lower", "scn_aucun",
                                         "scn_no_sous_categorie", "scn_no_proposition", "scn_child_a", "scn_child_b",
                                         "scn_child_inactif", PARENT_INACTIF, "scn_child_of_inactif"])
def test_not_shown(world: Pair, identifiant: str):
    assert displayed(world, identifiant) is None
    assert relation(world, "qfdmo_displayedpropositionservice", "action_id", identifiant, key="acteur_id") == []
    assert relation(world, "qfdmo_displayedperimetreadomicile", "type", identifiant, key="acteur_id") == []


def test_revision_text_wins_unless_blank_and_empty_marker_blanks(world: Pair):
    row = displayed(world, "scn_renamed")
    assert row["nom"] == "Nouveau nom"          # revision wins
    assert row["telephone"] == ""               # __empty__ means explicitly blank
    assert row["description"] == "Texte"        # '' in the revision overrides nothing
    assert row["acteur_type_id"] == 2           # a foreign key set by the revision wins
    assert row["source_id"] == 2                # NULL in the revision overrides nothing
    assert row["cree_le"].year == 2025 and row["cree_le"].month == 1     # from the actor first
    assert row["modifie_le"].month == 7                                   # from the revision first


def test_revision_statut_revives_an_inactive_actor(world: Pair):
    assert displayed(world, "scn_revived")["statut"] == "ACTIF"


def test_revision_location_and_lieu_prestation(world: Pair):
    row = displayed(world, "scn_moved")
    assert row["wkt"] == "POINT(-2.95 47.7)"
    assert row["lieu_prestation"] == "SUR_PLACE_OU_A_DOMICILE"


def test_relations_come_from_the_revision_side_only(world: Pair):
    assert propositions(world, "scn_relations_from_revision") == {5: {9}}
    assert relation(world, "qfdmo_displayedacteur_labels", "labelqualite_id", "scn_relations_from_revision") == []
    assert relation(world, "qfdmo_displayedacteur_acteur_services", "acteurservice_id", "scn_relations_from_revision") == []


def test_parent_absorbs_its_actif_children_without_duplicates(world: Pair):
    row = displayed(world, PARENT)
    assert row["nom"] == "Groupe Emmaüs Auray"
    assert propositions(world, PARENT) == {1: {1, 2, 5}, 2: {7}}
    assert relation(world, "qfdmo_displayedacteur_labels", "labelqualite_id", PARENT) == [3, 4]
    assert relation(world, "qfdmo_displayedacteur_sources", "source_id", PARENT) == [1, 4]
    assert relation(world, "qfdmo_displayedperimetreadomicile", "valeur", PARENT, key="acteur_id") == ["10"]
    # SUR_PLACE and A_DOMICILE children: the parent offers both.
    assert row["lieu_prestation"] == "SUR_PLACE_OU_A_DOMICILE"


def test_parent_follows_a_child_offering_both(world: Pair):
    assert displayed(world, PARENT_MIXED)["lieu_prestation"] == "SUR_PLACE_OU_A_DOMICILE"


def test_home_and_place_actor_is_shown_with_its_perimeters(world: Pair):
    assert displayed(world, "scn_domicile_and_place") is not None
    assert relation(world, "qfdmo_displayedperimetreadomicile", "valeur", "scn_domicile_and_place", key="acteur_id") == ["56"]


@pytest.mark.parametrize("identifiant", ["scn_mixed_public", "scn_blank_public"])
def test_public_other_than_pros_or_nobody_is_shown(world: Pair, identifiant: str):
    assert displayed(world, identifiant) is not None


def test_digital_actor_is_shown_without_location(world: Pair):
    row = displayed(world, "scn_digital")
    assert row["location"] is None and row["code_commune_insee"] == "" and row["epci_id"] is None


@pytest.mark.parametrize("identifiant, insee, epci", [
    ("scn_plain", "56007", "200043123"),
    ("scn_pluneret", "56176", "200043123"),        # 56400 is shared: the city name decides
    ("scn_sainte_anne", "56263", "200043123"),     # tolerant of case, accents, hyphens, apostrophes
    ("scn_crach", "56046", "200043123"),
    ("scn_montbeliard", "25388", "200065647"),
    ("scn_le_bono", "", None),                     # 56400 but a commune of another EPCI: no match, still shown
])
def test_territory_from_postal_code_and_city(world: Pair, identifiant: str, insee, epci):
    row = displayed(world, identifiant)
    assert row is not None
    assert row["code_commune_insee"] == insee
    expected_epci_id = world.query("webapp", "select id from qfdmo_epci where code = %s", [epci])[0][0] if epci else None
    assert row["epci_id"] == expected_epci_id


def vue(pair: Pair, identifiant: str) -> dict | None:
    with pair.connect("webapp") as conn:
        cursor = conn.execute("select * from qfdmo_vueacteur where identifiant_unique = %s", [identifiant])
        row = cursor.fetchone()
        return None if row is None else dict(zip([c.name for c in cursor.description], row, strict=True))


def vue_propositions(pair: Pair, identifiant: str) -> dict[int, set[int]]:
    rows = pair.query("webapp", """select p.action_id, s.souscategorieobjet_id from qfdmo_vuepropositionservice p
        left join qfdmo_vuepropositionservice_sous_categories s on s.vuepropositionservice_id = p.id
        where p.acteur_id = %s""", [identifiant])
    result: dict[int, set[int]] = {}
    for action, sous_categorie in rows:
        result.setdefault(action, set())
        if sous_categorie is not None:
            result[action].add(sous_categorie)
    return result


def test_the_admin_view_holds_every_actor_and_says_which_are_on_the_map(world: Pair):
    overlay = {r[0] for r in world.query("webapp", """select identifiant_unique from qfdmo_acteur
        union select identifiant_unique from qfdmo_revisionacteur""")}
    in_vue = dict(world.query("webapp", "select identifiant_unique, est_dans_carte from qfdmo_vueacteur"))
    assert set(in_vue) == overlay
    on_map = {r[0] for r in world.query("webapp", "select identifiant_unique from qfdmo_displayedacteur")}
    assert {k for k, v in in_vue.items() if v} == on_map
    for identifiant in ("scn_inactif", "scn_supprime", "scn_child_a", PARENT_INACTIF, "scn_no_proposition"):
        assert vue(world, identifiant)["est_dans_carte"] is False, identifiant


def test_the_admin_view_describes_families(world: Pair):
    parent = vue(world, PARENT)
    assert parent["est_parent"] is True and parent["revision_existe"] is True and parent["parent_id"] is None
    assert parent["liste_enfants"] == ["scn_child_a", "scn_child_b", "scn_child_inactif"]
    assert parent["nombre_enfants"] == 3
    child = vue(world, "scn_child_inactif")
    assert child["parent_id"] == PARENT and child["est_parent"] is False
    assert child["liste_enfants"] == [] and child["nombre_enfants"] == 0
    plain = vue(world, "scn_plain")
    assert plain["revision_existe"] is False and plain["est_parent"] is False


def test_the_admin_view_keeps_each_actor_s_own_relations(world: Pair):
    # A parent's own label only (the map's parent absorbs its children's: 3 and 4).
    assert relation(world, "qfdmo_vueacteur_labels", "labelqualite_id", PARENT, key="vueacteur_id") == [3]
    assert relation(world, "qfdmo_displayedacteur_labels", "labelqualite_id", PARENT) == [3, 4]
    # A child keeps its own, even INACTIF, even off the map.
    assert vue_propositions(world, "scn_child_inactif") == {3: {30}}
    assert relation(world, "qfdmo_vueacteur_labels", "labelqualite_id", "scn_child_inactif", key="vueacteur_id") == [5]
    # Sources as on the map: a parent lists its ACTIF children's; a child has no row of its own
    # (its source_id says where it comes from), as production has it.
    assert relation(world, "qfdmo_vueacteur_sources", "source_id", PARENT, key="vueacteur_id") == [1, 4]
    for child in ("scn_child_a", "scn_child_b", "scn_child_inactif"):
        assert relation(world, "qfdmo_vueacteur_sources", "source_id", child, key="vueacteur_id") == [], child
    assert vue(world, "scn_child_inactif")["source_id"] == 5
    assert relation(world, "qfdmo_vueacteur_sources", "source_id", "scn_plain", key="vueacteur_id") == [1]
    # A proposition without sub-category is the actor's all the same.
    assert vue_propositions(world, "scn_no_sous_categorie") == {1: set()}
    # Relations from the revision side only (rule 2).
    assert vue_propositions(world, "scn_relations_from_revision") == {5: {9}}


def test_the_admin_view_coordinates_territory_and_open_data(world: Pair):
    montbeliard = vue(world, "scn_montbeliard")
    assert (montbeliard["latitude"], montbeliard["longitude"]) == (47.5099, 6.7985)
    assert montbeliard["code_commune_insee"] == "25388"
    digital = vue(world, "scn_digital")
    assert digital["latitude"] is None and digital["longitude"] is None and digital["code_commune_insee"] == ""
    assert vue(world, "scn_plain")["est_dans_opendata"] is True       # source ADEME: OPEN_LICENSE
    assert vue(world, "scn_renamed")["est_dans_opendata"] is False    # source Refashion: CC_BY_NC_SA
    assert vue(world, PARENT)["est_dans_opendata"] is True            # an ACTIF child from ADEME
    assert vue(world, "scn_inactif")["est_dans_opendata"] is False    # not on the map
    assert vue(world, "scn_domicile")["est_dans_opendata"] is True    # home-only: not on the map, in open data
    assert vue(world, "scn_domicile")["est_dans_carte"] is False
    uuids = world.query("webapp", """select count(*) from qfdmo_vueacteur v join qfdmo_displayedacteur d
        using (identifiant_unique) where v.uuid <> d.uuid""")
    assert uuids == [(0,)]


def shortuuid_of(name: str) -> str:
    """Production's public id, as Python's shortuuid.uuid(name=...) computes it (rule 5)."""
    namespace = uuid.NAMESPACE_URL if name.lower().startswith(("http://", "https://")) else uuid.NAMESPACE_DNS
    number, digits = uuid.uuid5(namespace, name).int, ""
    while number:
        number, digit = divmod(number, 57)
        digits += ALPHABET[digit]
    return (digits + ALPHABET[0] * (22 - len(digits)))[::-1]


def test_every_published_uuid_is_productions(world: Pair):
    for table in ("qfdmo_displayedacteur", "qfdmo_vueacteur"):
        rows = world.query("webapp", f"select identifiant_unique, uuid from {table}")
        assert len(rows) > 1000
        assert all(re.fullmatch(f"[{ALPHABET}]{{22}}", public) for _, public in rows), table
        assert [public for _, public in rows] == [shortuuid_of(key) for key, _ in rows], table
    in_open_data = world.query("warehouse", "select identifiant_unique, uuid from marts.opendata_acteurs")
    assert in_open_data and all(public == shortuuid_of(key) for key, public in in_open_data)


def test_no_orphans_and_every_id_unique(world: Pair):
    orphans = world.query("webapp", """select
        (select count(*) from qfdmo_displayedpropositionservice p where not exists
            (select from qfdmo_displayedacteur a where a.identifiant_unique = p.acteur_id)),
        (select count(*) from qfdmo_displayedacteur_labels l where not exists
            (select from qfdmo_displayedacteur a where a.identifiant_unique = l.displayedacteur_id)),
        (select count(*) from qfdmo_displayedperimetreadomicile l where not exists
            (select from qfdmo_displayedacteur a where a.identifiant_unique = l.acteur_id)),
        (select count(*) - count(distinct uuid) from qfdmo_displayedacteur)""")
    assert orphans == [(0, 0, 0, 0)]


def test_two_builds_give_identical_exposures(world: Pair):
    first = world.query("warehouse", EXPOSURE_CHECKSUM)
    uuids = world.query("webapp", "select identifiant_unique, uuid from qfdmo_displayedacteur order by 1")
    world.dbt("run", "--select", "+exposure_carte_acteur+")
    assert world.query("warehouse", EXPOSURE_CHECKSUM) == first
    assert world.query("warehouse", "select identifiant_unique, uuid from exposure.exposure_carte_acteur order by 1") == uuids


def test_parent_whose_only_actif_child_moves_away(world: Pair):
    assert propositions(world, PARENT_LONE) == {4: {11}}
    admin_config = world.query("webapp", "select count(*) from qfdmo_carteconfig_epci")
    world.execute("webapp", "update qfdmo_revisionacteur set parent_id = null where identifiant_unique = 'scn_lone_child'",
                  user="admin")
    try:
        rebuild_and_publish(world)
        assert displayed(world, PARENT_LONE) is None
        assert propositions(world, "scn_lone_child") == {4: {11}}
        assert vue(world, PARENT_LONE)["est_parent"] is False and vue(world, PARENT_LONE)["nombre_enfants"] == 0
        assert world.query("webapp", "select count(*) from qfdmo_carteconfig_epci") == admin_config
    finally:
        world.execute("webapp", f"update qfdmo_revisionacteur set parent_id = '{PARENT_LONE}' "
                      "where identifiant_unique = 'scn_lone_child'", user="admin")
        rebuild_and_publish(world)
    assert displayed(world, "scn_lone_child") is None


def published_checksum(pair: Pair) -> str:
    """A checksum of what the publication wrote: every column but Django's identity ids."""
    tables = [p.table for p in published_tables(pair.settings)]
    identities = dict(pair.query("webapp", """select table_name, array_agg(column_name::text) from information_schema.columns
        where table_schema = 'public' and is_identity = 'YES' group by 1"""))
    parts = " union all ".join(
        f"select '{t}' || md5(coalesce(string_agg((to_jsonb(x) - %s::text[])::text, ',' order by "
        f"(to_jsonb(x) - %s::text[])::text), '')) as part from public.{t} x" for t in tables)
    params = [value for t in tables for value in (identities.get(t, []), identities.get(t, []))]
    return pair.query("webapp", f"select md5(string_agg(part, '|' order by part)) from ({parts}) parts", params)[0][0]


def test_shrink_guard_refuses_and_changes_nothing(world: Pair):
    before = published_checksum(world)
    world.execute("warehouse", "delete from exposure.exposure_carte_acteur where identifiant_unique <> 'scn_plain'")
    try:
        with pytest.raises(DbtFailure, match="refused: exposure_carte_acteur has 1 rows, public.qfdmo_displayedacteur has"):
            publish(world)
        assert published_checksum(world) == before
    finally:
        world.dbt("run", "--select", "exposure_carte_acteur")


def test_a_failing_dbt_test_stops_the_job_before_publication(world: Pair):
    before = published_checksum(world)
    world.execute("webapp", """insert into qfdmo_acteur (identifiant_unique, nom, acteur_type_id, statut, public_accueilli,
        reprise) values ('scn_bizarre', 'Bizarre', 1, 'BIZARRE', '', '')""", user="admin")
    try:
        with pytest.raises(DbtFailure, match="accepted_values_webapp_qfdmo_acteur_statut"):
            run_steps(world.settings, MAIN, quiet=True)
        assert published_checksum(world) == before
    finally:
        world.execute("webapp", "delete from qfdmo_acteur where identifiant_unique = 'scn_bizarre'", user="admin")


def test_every_published_table_refuses_to_be_emptied(world: Pair):
    before = published_checksum(world)
    exposures = published_tables(world.settings)
    assert len(exposures) == 14 and not any(p.may_be_empty for p in exposures)
    saved = "; ".join(f"create table public.saved_{p.model} as select * from exposure.{p.model}; "
                      f"delete from exposure.{p.model}" for p in exposures)
    world.execute("warehouse", saved)
    try:
        with pytest.raises(DbtFailure) as refusal:
            publish(world)
        for exposure in exposures:
            assert f"{exposure.model} has 0 rows, public.{exposure.table} has" in str(refusal.value), exposure.model
    finally:
        world.execute("warehouse", "; ".join(f"insert into exposure.{p.model} select * from public.saved_{p.model}; "
                                             f"drop table public.saved_{p.model}" for p in exposures))
    assert published_checksum(world) == before


def test_a_large_publication_analyzes_the_tables_it_filled(world: Pair):
    table = "qfdmo_displayedacteur_labels"
    rows = world.query("webapp", f"select count(*) from {table}")[0][0]
    assert rows > 100
    with world.connect("webapp", user="admin") as conn:  # the table emptied, its statistics say so
        conn.execute(f"create table saved_labels as select * from {table}; delete from {table}")
        conn.execute(f"vacuum analyze {table}")
    assert world.query("webapp", f"select reltuples from pg_class where oid = '{table}'::regclass")[0][0] <= 0
    try:
        publish(world)  # fills it again: the publication analyzes it in the same job
        assert world.query("webapp", f"select reltuples from pg_class where oid = '{table}'::regclass")[0][0] == rows
    finally:
        world.execute("webapp", "drop table saved_labels", user="admin")
    assert world.query("webapp", f"select count(*) from {table}")[0][0] == rows


def test_the_change_set_path_refuses_an_emptied_exposure(world: Pair):
    """The daily job's change-set steps run again after an exposure was emptied: refused with
    the full comparison's guard (the change set, already applied or scoped to a few actors,
    would not show it)."""
    before = published_checksum(world)
    publication = [step_named("run", name) for name in ("changes", "publish", "confirmed")]
    # As the daily job's pull leaves it (whatever ran before: an incremental run scopes the change set to its actors).
    world.execute("warehouse", "update lacarte_state.status set publish_all = true")
    world.execute("warehouse", "create table public.saved_labels as select * from exposure.exposure_carte_acteur_labels; "
                               "delete from exposure.exposure_carte_acteur_labels")
    try:
        with pytest.raises(DbtFailure, match=r"exposure_carte_acteur_labels has 0 rows, "
                                             r"public.qfdmo_displayedacteur_labels has \d+ \(and may not be empty\)"):
            run_steps(world.settings, publication, quiet=True, job="run")
        assert published_checksum(world) == before
    finally:
        world.execute("warehouse", "insert into exposure.exposure_carte_acteur_labels select * from public.saved_labels; "
                                   "drop table public.saved_labels")
    run_steps(world.settings, publication, quiet=True, job="run")
    assert published_checksum(world) == before


@pytest.mark.parametrize("args, message", [
    ("{min_ratio: '0,5'}", "argument min_ratio must be a number from 0 to 1"),
    ("{min_ratio: true}", "argument min_ratio must be a number"),
    ("{min_ratio: 5}", "argument min_ratio must be a number from 0 to 1"),
    ("{dry_run: 'false'}", "argument dry_run must be true or false"),
])
def test_publication_arguments_are_typed(world: Pair, args: str, message: str):
    before = published_checksum(world)
    world.execute("warehouse", "delete from exposure.exposure_carte_acteur_labels")
    try:
        with pytest.raises(DbtFailure, match=message):
            publish(world, "--args", args)
        assert published_checksum(world) == before
    finally:
        world.dbt("run", "--select", "exposure_carte_acteur_labels")


def test_a_column_the_table_needs_and_no_model_gives_stops_the_publication(world: Pair):
    before = published_checksum(world)
    world.execute("webapp", "alter table qfdmo_vueacteur add column note varchar(20) not null default 'x'; "
                            "alter table qfdmo_vueacteur alter column note drop default", user="admin")
    try:
        with pytest.raises(DbtFailure, match="public.qfdmo_vueacteur has NOT NULL column.* without default note"):
            publish(world)
    finally:
        world.execute("webapp", "alter table qfdmo_vueacteur drop column note", user="admin")
    assert published_checksum(world) == before
    world.execute("webapp", "alter table qfdmo_displayedacteur rename column horaires_osm to horaires", user="admin")
    try:
        lacks = "exposure_carte_acteur has column.* horaires_osm that public.qfdmo_displayedacteur lacks"
        with pytest.raises(DbtFailure, match=lacks):
            publish(world)
    finally:
        world.execute("webapp", "alter table qfdmo_displayedacteur rename column horaires to horaires_osm", user="admin")
    assert published_checksum(world) == before


def test_a_dry_run_prints_the_statements_and_changes_nothing(world: Pair, capsys):
    before = published_checksum(world)
    world.execute("webapp", "delete from qfdmo_vueacteur_labels")
    try:
        capsys.readouterr()
        publish(world, "--args", "{dry_run: true}")
        out = capsys.readouterr().out
        assert "dry run: nothing was changed" in out and "insert into public.\"qfdmo_vueacteur_labels\"" in out
        assert world.query("webapp", "select count(*) from qfdmo_vueacteur_labels") == [(0,)]
    finally:
        publish(world)
    assert published_checksum(world) == before


def test_publication_under_concurrent_readers(world: Pair):
    full = world.query("webapp", "select count(*) from qfdmo_displayedacteur")[0][0]
    stop = threading.Event()
    errors: list[str] = []
    seen: set[int] = set()

    def reader() -> None:
        with world.connect("webapp") as conn:
            while not stop.is_set():
                try:
                    with conn.transaction():
                        conn.execute("set transaction isolation level repeatable read")
                        count, orphans = conn.execute("""select (select count(*) from qfdmo_displayedacteur),
                            (select count(*) from qfdmo_displayedpropositionservice p where not exists
                             (select from qfdmo_displayedacteur a where a.identifiant_unique = p.acteur_id))""").fetchone()
                    seen.add(count)
                    if orphans:
                        errors.append(f"{orphans} orphans")
                except psycopg.Error as error:
                    errors.append(str(error))

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(3):
            world.execute("webapp", """delete from qfdmo_displayedpropositionservice_sous_categories
                    where displayedpropositionservice_id in (select id from qfdmo_displayedpropositionservice
                        where acteur_id like 'scn_%');
                delete from qfdmo_displayedpropositionservice where acteur_id like 'scn_%';
                delete from qfdmo_displayedacteur_labels where displayedacteur_id like 'scn_%';
                delete from qfdmo_displayedacteur_acteur_services where displayedacteur_id like 'scn_%';
                delete from qfdmo_displayedacteur_sources where displayedacteur_id like 'scn_%';
                delete from qfdmo_displayedperimetreadomicile where acteur_id like 'scn_%';
                delete from qfdmo_displayedacteur where identifiant_unique like 'scn_%'""")
            publish(world)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert full in seen
    half = full - world.query("warehouse", "select count(*) from exposure.exposure_carte_acteur "
                              "where identifiant_unique like 'scn_%'")[0][0]
    assert seen <= {full, half}, "a reader saw a partial publication"
    assert world.query("webapp", "select count(*) from qfdmo_displayedacteur")[0][0] == full


def test_analyst_reads_marts_and_exposures_only(world: Pair):
    with world.connect("warehouse", user="analyst") as conn:
        assert conn.execute("select count(*) from marts.carte_acteurs").fetchone()[0] > 0
        assert conn.execute("select count(*) from exposure.exposure_carte_acteur").fetchone()[0] > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from webapp_public.qfdmo_acteur limit 1")
    with world.connect("warehouse", user="analyst") as conn:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("delete from marts.carte_acteurs")
    with world.connect("warehouse", user="analyst", autocommit=False) as conn:
        conn.execute("set transaction read write")  # even then, no write privilege
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from marts.carte_acteurs")


def test_unit_tests_of_the_rules_run_on_the_warehouse_alone(world: Pair):
    result = world.dbt("test", "--select", "test_type:unit")
    units = [r for r in result.result.results if r.node.resource_type == "unit_test"]
    assert len(units) >= 9 and all(str(r.status) == "pass" for r in units)


def test_docs_document_every_model_and_exposure_column(world: Pair):
    world.dbt("docs", "generate")
    target = target_path(world.settings, ["docs"])
    manifest = json.loads((target / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert len(models) >= 60
    for model in models:
        assert model["description"], model["name"]
    catalog = json.loads((target / "catalog.json").read_text())
    for node_id, node in catalog["nodes"].items():
        if ".exposure_" in node_id:
            documented = manifest["nodes"][node_id]["columns"]
            for column in node["columns"]:
                assert documented.get(column, {}).get("description"), f"{node_id}.{column}"
    assert {e["name"] for e in manifest["exposures"].values()} == {"la_carte", "l_assistant", "admin_du_site",
                                                                  "donnees_ouvertes"}
