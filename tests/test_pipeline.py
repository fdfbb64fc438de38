"""The rules of domain.md, one scenario each, from webapp rows to the displayed tables."""

from __future__ import annotations

import threading

import psycopg
import pytest

from lacarte.dbt import DbtFailure
from lacarte.demo import generate
from tests.platform_pair import Pair
from tests.scenario_world import World

PARENT = "11111111-1111-1111-1111-111111111111"
PARENT_MIXED = "22222222-2222-2222-2222-222222222222"
PARENT_INACTIF = "33333333-3333-3333-3333-333333333333"
PARENT_LONE = "44444444-4444-4444-4444-444444444444"


def write_scenarios(world: World) -> None:
    w = world
    w.acteur("scn_plain", nom="Repair Café Auray", email="contact@example.org")
    w.proposition("scn_plain", 1, [1, 2])
    w.label("scn_plain", 2)
    w.service("scn_plain", 1)
    for statut in ("INACTIF", "SUPPRIME"):
        w.acteur(f"scn_{statut.lower()}", statut=statut)
        w.proposition(f"scn_{statut.lower()}", 1, [1])
    # Rule 1: revision overlay.
    w.acteur("scn_renamed", nom="Ancien nom", telephone="0600000000", description="Texte", source_id=2)
    w.proposition("scn_renamed", 2, [3])
    w.revision("scn_renamed", nom="Nouveau nom", telephone="__empty__", description="", acteur_type_id=2)
    w.proposition("scn_renamed", 2, [3], revision=True)
    w.acteur("scn_revision_inactif")
    w.proposition("scn_revision_inactif", 1, [1])
    w.revision("scn_revision_inactif", statut="INACTIF")
    w.proposition("scn_revision_inactif", 1, [1], revision=True)
    w.acteur("scn_revived", statut="INACTIF")
    w.proposition("scn_revived", 1, [1])
    w.revision("scn_revived", statut="ACTIF")
    w.proposition("scn_revived", 1, [1], revision=True)
    w.acteur("scn_moved")
    w.proposition("scn_moved", 1, [1])
    w.revision("scn_moved", location=(-2.95, 47.70), lieu_prestation="SUR_PLACE_OU_A_DOMICILE")
    w.proposition("scn_moved", 1, [1], revision=True)
    # Rule 2: relations all-or-nothing.
    w.acteur("scn_relations_from_revision")
    w.proposition("scn_relations_from_revision", 1, [1, 2, 3])
    w.label("scn_relations_from_revision", 1)
    w.service("scn_relations_from_revision", 2)
    w.revision("scn_relations_from_revision")
    w.proposition("scn_relations_from_revision", 5, [9], revision=True)
    w.acteur("scn_relations_blanked")
    w.proposition("scn_relations_blanked", 1, [1])
    w.revision("scn_relations_blanked", nom="Plus rien")
    # Rule 3: parents.
    w.parent(PARENT, nom="Groupe Emmaüs Auray")
    w.label(PARENT, 3, revision=True)
    w.acteur("scn_child_a", source_id=1, lieu_prestation="SUR_PLACE")
    w.revision("scn_child_a", parent_id=PARENT)
    w.proposition("scn_child_a", 1, [1, 2], revision=True)
    w.label("scn_child_a", 3, revision=True)  # the same label as the parent's own
    w.perimetre("scn_child_a", "KILOMETRIQUE", "10", revision=True)
    w.acteur("scn_child_b", source_id=4, lieu_prestation="A_DOMICILE")
    w.revision("scn_child_b", parent_id=PARENT)
    w.proposition("scn_child_b", 1, [2, 5], revision=True)
    w.proposition("scn_child_b", 2, [7], revision=True)
    w.label("scn_child_b", 4, revision=True)
    w.perimetre("scn_child_b", "KILOMETRIQUE", "10", revision=True)
    w.acteur("scn_child_inactif", source_id=5)
    w.revision("scn_child_inactif", parent_id=PARENT, statut="INACTIF")
    w.proposition("scn_child_inactif", 3, [30], revision=True)
    w.label("scn_child_inactif", 5, revision=True)
    w.parent(PARENT_MIXED, nom="Groupe mixte")
    w.acteur("scn_mixed_child", lieu_prestation="SUR_PLACE_OU_A_DOMICILE")
    w.revision("scn_mixed_child", parent_id=PARENT_MIXED)
    w.proposition("scn_mixed_child", 1, [1], revision=True)
    w.parent(PARENT_INACTIF, nom="Groupe fermé", statut="INACTIF")
    w.acteur("scn_child_of_inactif")
    w.revision("scn_child_of_inactif", parent_id=PARENT_INACTIF)
    w.proposition("scn_child_of_inactif", 1, [1], revision=True)
    w.parent(PARENT_LONE, nom="Groupe à un enfant")
    w.acteur("scn_lone_child")
    w.revision("scn_lone_child", parent_id=PARENT_LONE)
    w.proposition("scn_lone_child", 4, [11], revision=True)
    # Rule 4: what the map shows.
    w.acteur("scn_domicile", lieu_prestation="A_DOMICILE")
    w.proposition("scn_domicile", 1, [1])
    w.label("scn_domicile", 1)
    w.perimetre("scn_domicile", "DEPARTEMENTAL", "56")
    w.acteur("scn_domicile_and_place", lieu_prestation="SUR_PLACE_OU_A_DOMICILE")
    w.proposition("scn_domicile_and_place", 1, [1])
    w.perimetre("scn_domicile_and_place", "DEPARTEMENTAL", "56")
    for name, public in [("pros", "Professionnels"), ("pros_lower", "professionnels"), ("aucun", "AUCUN"),
                         ("mixed_public", "Particuliers et professionnels"), ("blank_public", "")]:
        w.acteur(f"scn_{name}", public_accueilli=public)
        w.proposition(f"scn_{name}", 1, [1])
    w.acteur("scn_no_sous_categorie")
    w.proposition("scn_no_sous_categorie", 1, [])
    w.acteur("scn_no_proposition")
    w.acteur("scn_digital", acteur_type_id=4, location=None, adresse="", code_postal="", ville="")
    w.proposition("scn_digital", 6, [21])
    # Rule 6: territory.
    w.acteur("scn_pluneret", code_postal="56400", ville="PLUNERET")
    w.proposition("scn_pluneret", 1, [1])
    w.acteur("scn_sainte_anne", code_postal="56400", ville="Sainte Anne d'Auray")
    w.proposition("scn_sainte_anne", 1, [1])
    w.acteur("scn_le_bono", code_postal="56400", ville="Le Bono")
    w.proposition("scn_le_bono", 1, [1])
    w.acteur("scn_crach", code_postal="56950", ville="Crac'h")
    w.proposition("scn_crach", 1, [1])
    w.acteur("scn_montbeliard", code_postal="25200", ville="Montbéliard", location=(6.7985, 47.5099))
    w.proposition("scn_montbeliard", 1, [1])


def run_pipeline(pair: Pair) -> None:
    pair.dbt("run-operation", "refresh_fdw", "--target", "webapp")
    pair.dbt("run-operation", "refresh_fdw", "--target", "warehouse")
    pair.dbt("build", "--exclude", "tag:sample")
    pair.dbt("run-operation", "refresh_fdw", "--target", "webapp")
    pair.dbt("run-operation", "publish_exposures", "--target", "webapp")


EXPOSURE_CHECKSUM = """select string_agg(t, '|' order by t) from (
    select 'a' || md5(string_agg(e::text, ',' order by identifiant_unique)) t from exposure.exposure_carte_acteur e
    union all select 'p' || md5(string_agg(e::text, ',' order by id)) from exposure.exposure_carte_propositionservice e
    union all select 's' || md5(string_agg(e::text, ',' order by e::text))
        from exposure.exposure_carte_propositionservice_sous_categories e
    union all select 'l' || md5(string_agg(e::text, ',' order by e::text)) from exposure.exposure_carte_acteur_labels e
) parts"""


@pytest.fixture(scope="module")
def world(pair: Pair) -> Pair:
    generate(pair.settings, acteurs=400, seed=5)
    with pair.connect("webapp", user="admin") as conn:
        with conn.transaction():
            write_scenarios(World(conn))
    run_pipeline(pair)
    return pair


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
    assert row["location"] is None and row["code_commune_insee"] is None and row["epci_id"] is None


@pytest.mark.parametrize("identifiant, insee, epci", [
    ("scn_plain", "56007", "200043123"),
    ("scn_pluneret", "56176", "200043123"),        # 56400 is shared: the city name decides
    ("scn_sainte_anne", "56263", "200043123"),     # tolerant of case, accents, hyphens, apostrophes
    ("scn_crach", "56046", "200043123"),
    ("scn_montbeliard", "25388", "200065647"),
    ("scn_le_bono", None, None),                   # 56400 but a commune of another EPCI: no match, still shown
])
def test_territory_from_postal_code_and_city(world: Pair, identifiant: str, insee, epci):
    row = displayed(world, identifiant)
    assert row is not None
    assert row["code_commune_insee"] == insee
    expected_epci_id = world.query("webapp", "select id from qfdmo_epci where code = %s", [epci])[0][0] if epci else None
    assert row["epci_id"] == expected_epci_id


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
    world.dbt("build", "--exclude", "tag:sample")
    assert world.query("warehouse", EXPOSURE_CHECKSUM) == first
    assert world.query("warehouse", "select identifiant_unique, uuid from exposure.exposure_carte_acteur order by 1") == uuids


def test_parent_whose_only_actif_child_moves_away(world: Pair):
    assert propositions(world, PARENT_LONE) == {4: {11}}
    admin_config = world.query("webapp", "select count(*) from qfdmo_carteconfig_epci")
    world.execute("webapp", "update qfdmo_revisionacteur set parent_id = null where identifiant_unique = 'scn_lone_child'",
                  user="admin")
    try:
        world.dbt("build", "--exclude", "tag:sample")
        world.dbt("run-operation", "publish_exposures", "--target", "webapp")
        assert displayed(world, PARENT_LONE) is None
        assert propositions(world, "scn_lone_child") == {4: {11}}
        assert world.query("webapp", "select count(*) from qfdmo_carteconfig_epci") == admin_config
    finally:
        world.execute("webapp", f"update qfdmo_revisionacteur set parent_id = '{PARENT_LONE}' "
                      "where identifiant_unique = 'scn_lone_child'", user="admin")
        world.dbt("build", "--exclude", "tag:sample")
        world.dbt("run-operation", "publish_exposures", "--target", "webapp")
    assert displayed(world, "scn_lone_child") is None


def test_shrink_guard_refuses_and_changes_nothing(world: Pair):
    before = world.query("webapp", "select count(*) from qfdmo_displayedacteur")[0][0]
    world.execute("warehouse", "delete from exposure.exposure_carte_acteur where identifiant_unique <> 'scn_plain'")
    try:
        with pytest.raises(DbtFailure, match="refused: exposure_carte_acteur has 1 rows"):
            world.dbt("run-operation", "publish_exposures", "--target", "webapp")
        assert world.query("webapp", "select count(*) from qfdmo_displayedacteur")[0][0] == before
    finally:
        world.dbt("build", "--select", "exposure_carte_acteur")


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
            world.execute("webapp", """delete from qfdmo_displayedpropositionservice_sous_categories;
                delete from qfdmo_displayedpropositionservice; delete from qfdmo_displayedacteur_labels;
                delete from qfdmo_displayedacteur_acteur_services; delete from qfdmo_displayedacteur_sources;
                delete from qfdmo_displayedperimetreadomicile;
                delete from qfdmo_displayedacteur where identifiant_unique like 'scn_%'""")
            world.dbt("run-operation", "publish_exposures", "--target", "webapp", "--args", "{min_ratio: 0}")
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


def test_docs_document_every_model_and_exposure_column(world: Pair):
    import json
    world.dbt("docs", "generate")
    manifest = json.loads((world.root / "dbt_target" / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert len(models) >= 40
    for model in models:
        assert model["description"], model["name"]
    catalog = json.loads((world.root / "dbt_target" / "catalog.json").read_text())
    for node_id, node in catalog["nodes"].items():
        if ".exposure_" in node_id:
            documented = manifest["nodes"][node_id]["columns"]
            for column in node["columns"]:
                assert documented.get(column, {}).get("description"), f"{node_id}.{column}"
    assert {e["name"] for e in manifest["exposures"].values()} == {"la_carte", "l_assistant"}
