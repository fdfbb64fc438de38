"""The webapp fixture matches domain.md; demo data is deterministic and holds every rule case."""

from __future__ import annotations

import pytest

from lacarte.demo import generate
from tests.platform_pair import Pair

ACTEUR_COLUMNS = {
    "identifiant_unique", "nom", "description", "acteur_type_id", "adresse", "adresse_complement",
    "code_postal", "ville", "url", "email", "telephone", "nom_commercial", "nom_officiel", "siren", "siret",
    "siret_is_closed", "source_id", "identifiant_externe", "statut", "naf_principal", "commentaires",
    "horaires_osm", "horaires_description", "public_accueilli", "reprise", "exclusivite_de_reprisereparation",
    "uniquement_sur_rdv", "consignes_dacces", "action_principale_id", "lieu_prestation", "location",
    "cree_le", "modifie_le",
}
# Every table and column domain.md names (the M2M tables also have Django's id).
DOMAIN_TABLES = {
    "qfdmo_acteurtype": {"id", "code", "libelle"},
    "qfdmo_action": {"id", "code", "libelle", "afficher", "order"},
    "qfdmo_acteurservice": {"id", "code", "libelle"},
    "qfdmo_labelqualite": {"id", "code", "libelle", "afficher"},
    "qfdmo_categorieobjet": {"id", "code", "libelle"},
    "qfdmo_souscategorieobjet": {"id", "code", "libelle", "categorie_id", "afficher"},
    "qfdmo_source": {"id", "code", "libelle", "afficher", "licence"},
    "qfdmo_epci": {"id", "code", "nom"},
    "qfdmo_acteur": ACTEUR_COLUMNS,
    "qfdmo_revisionacteur": ACTEUR_COLUMNS | {"parent_id", "parent_reason"},
    "qfdmo_acteur_labels": {"id", "acteur_id", "labelqualite_id"},
    "qfdmo_acteur_acteur_services": {"id", "acteur_id", "acteurservice_id"},
    "qfdmo_propositionservice": {"id", "acteur_id", "action_id"},
    "qfdmo_propositionservice_sous_categories": {"id", "propositionservice_id", "souscategorieobjet_id"},
    "qfdmo_perimetreadomicile": {"id", "acteur_id", "type", "valeur"},
    "qfdmo_revisionacteur_labels": {"id", "revisionacteur_id", "labelqualite_id"},
    "qfdmo_revisionacteur_acteur_services": {"id", "revisionacteur_id", "acteurservice_id"},
    "qfdmo_revisionpropositionservice": {"id", "acteur_id", "action_id"},
    "qfdmo_revisionpropositionservice_sous_categories": {"id", "revisionpropositionservice_id", "souscategorieobjet_id"},
    "qfdmo_revisionperimetreadomicile": {"id", "acteur_id", "type", "valeur"},
    "qfdmo_displayedacteur": ACTEUR_COLUMNS | {"uuid", "code_commune_insee", "epci_id"},
    "qfdmo_displayedacteur_labels": {"displayedacteur_id", "labelqualite_id"},
    "qfdmo_displayedacteur_acteur_services": {"displayedacteur_id", "acteurservice_id"},
    "qfdmo_displayedacteur_sources": {"displayedacteur_id", "source_id"},
    "qfdmo_displayedpropositionservice": {"id", "acteur_id", "action_id"},
    "qfdmo_displayedpropositionservice_sous_categories": {"id", "displayedpropositionservice_id", "souscategorieobjet_id"},
    "qfdmo_displayedperimetreadomicile": {"id", "acteur_id", "type", "valeur"},
    "auth_user": {"id", "username", "email", "password"},
    "django_session": {"session_key", "session_data", "expire_date"},
    "qfdmo_carteconfig": {"id", "nom"},
    "qfdmo_carteconfig_epci": {"carteconfig_id", "epci_id"},
    "data_suggestion": {"id", "payload"},
}
FOREIGN_KEYS = {
    ("qfdmo_souscategorieobjet", "categorie_id", "qfdmo_categorieobjet"),
    ("qfdmo_acteur", "acteur_type_id", "qfdmo_acteurtype"),
    ("qfdmo_acteur", "source_id", "qfdmo_source"),
    ("qfdmo_acteur", "action_principale_id", "qfdmo_action"),
    ("qfdmo_revisionacteur", "parent_id", "qfdmo_revisionacteur"),
    ("qfdmo_acteur_labels", "acteur_id", "qfdmo_acteur"),
    ("qfdmo_propositionservice", "acteur_id", "qfdmo_acteur"),
    ("qfdmo_propositionservice_sous_categories", "propositionservice_id", "qfdmo_propositionservice"),
    ("qfdmo_revisionacteur_labels", "revisionacteur_id", "qfdmo_revisionacteur"),
    ("qfdmo_revisionpropositionservice", "acteur_id", "qfdmo_revisionacteur"),
    ("qfdmo_revisionpropositionservice_sous_categories", "revisionpropositionservice_id", "qfdmo_revisionpropositionservice"),
    ("qfdmo_revisionperimetreadomicile", "acteur_id", "qfdmo_revisionacteur"),
    ("qfdmo_displayedacteur", "epci_id", "qfdmo_epci"),
    ("qfdmo_displayedpropositionservice", "acteur_id", "qfdmo_displayedacteur"),
    ("qfdmo_displayedpropositionservice_sous_categories", "displayedpropositionservice_id", "qfdmo_displayedpropositionservice"),
    ("qfdmo_displayedperimetreadomicile", "acteur_id", "qfdmo_displayedacteur"),
    ("qfdmo_carteconfig_epci", "epci_id", "qfdmo_epci"),
}


def test_fixture_has_every_table_and_column_of_the_domain(pair: Pair):
    rows = pair.query("webapp", "select table_name, column_name from information_schema.columns where table_schema = 'public'")
    catalog: dict[str, set[str]] = {}
    for table, column in rows:
        catalog.setdefault(table, set()).add(column)
    for table, columns in DOMAIN_TABLES.items():
        assert table in catalog, f"missing table {table}"
        assert columns <= catalog[table], f"{table} lacks {columns - catalog[table]}"


def test_fixture_types_keys_and_foreign_keys(pair: Pair):
    types = dict(pair.query("webapp", """
        select table_name || '.' || column_name, format_type(a.atttypid, a.atttypmod)
        from information_schema.columns c
        join pg_attribute a on a.attrelid = ('public.' || c.table_name)::regclass and a.attname = c.column_name
        where c.table_schema = 'public'"""))
    assert types["qfdmo_acteur.location"] == "geography(Point,4326)"
    assert types["qfdmo_acteur.identifiant_unique"] == "character varying(255)"
    assert types["qfdmo_epci.code"] == "character varying(10)"
    assert types["qfdmo_acteur.siret"] == "character varying(14)"
    assert types["qfdmo_acteur_labels.id"] == "bigint"
    assert types["data_suggestion.payload"] == "jsonb"
    keys = set(pair.query("webapp", """
        select cl.relname, a.attname, rt.relname
        from pg_constraint co
        join pg_class cl on cl.oid = co.conrelid
        join pg_class rt on rt.oid = co.confrelid
        join pg_attribute a on a.attrelid = co.conrelid and a.attnum = co.conkey[1]
        where co.contype = 'f'"""))
    assert FOREIGN_KEYS <= keys, FOREIGN_KEYS - keys
    uniques = {r[0] for r in pair.query("webapp", """
        select cl.relname || '(' || string_agg(a.attname, ',' order by a.attname) || ')'
        from pg_constraint co join pg_class cl on cl.oid = co.conrelid
        join pg_attribute a on a.attrelid = co.conrelid and a.attnum = any(co.conkey)
        where co.contype in ('u', 'p') group by co.oid, cl.relname""")}
    assert {"qfdmo_epci(code)", "qfdmo_action(code)", "qfdmo_propositionservice(acteur_id,action_id)",
            "qfdmo_displayedpropositionservice(id)"} <= uniques
    gist = pair.query("webapp", "select count(*) from pg_indexes where indexdef ilike '%gist (location)%'")
    assert gist[0][0] >= 2


CHECKSUM = """
select md5(string_agg(t, '|' order by t)) from (
    select 'a' || md5(string_agg(a::text, ',' order by identifiant_unique)) as t from qfdmo_acteur a
    union all select 'r' || md5(string_agg(r::text, ',' order by identifiant_unique)) from qfdmo_revisionacteur r
    union all select 'p' || md5(string_agg(p::text, ',' order by id)) from qfdmo_propositionservice p
    union all select 's' || md5(string_agg(s::text, ',' order by id)) from qfdmo_propositionservice_sous_categories s
    union all select 'l' || md5(string_agg(l::text, ',' order by id)) from qfdmo_revisionacteur_labels l
) as parts
"""


@pytest.fixture(scope="module")
def demo_pair(pair: Pair) -> Pair:
    generate(pair.settings, acteurs=2000, seed=11)
    return pair


def test_demo_data_is_deterministic(demo_pair: Pair):
    first = demo_pair.query("webapp", CHECKSUM)[0][0]
    generate(demo_pair.settings, acteurs=2000, seed=11)
    assert demo_pair.query("webapp", CHECKSUM)[0][0] == first
    generate(demo_pair.settings, acteurs=2000, seed=12)
    assert demo_pair.query("webapp", CHECKSUM)[0][0] != first
    generate(demo_pair.settings, acteurs=2000, seed=11)


@pytest.mark.parametrize("case, sql", [
    ("revisions", "select count(*) from qfdmo_revisionacteur r join qfdmo_acteur a using (identifiant_unique)"),
    ("__empty__", "select count(*) from qfdmo_revisionacteur where description = '__empty__' or telephone = '__empty__'"),
    ("parent with an ACTIF child", """select count(distinct p.identifiant_unique) from qfdmo_revisionacteur p
        join qfdmo_revisionacteur c on c.parent_id = p.identifiant_unique and c.statut in ('', 'ACTIF')
        where p.source_id is null"""),
    ("parent with an INACTIF child", """select count(*) from qfdmo_revisionacteur c
        where c.parent_id is not null and c.statut = 'INACTIF'"""),
    ("INACTIF actor", "select count(*) from qfdmo_acteur where statut = 'INACTIF'"),
    ("SUPPRIME actor", "select count(*) from qfdmo_acteur where statut = 'SUPPRIME'"),
    ("digital actor without location", """select count(*) from qfdmo_acteur a join qfdmo_acteurtype t
        on t.id = a.acteur_type_id where t.code = 'acteur_digital' and a.location is null"""),
    ("A_DOMICILE", "select count(*) from qfdmo_acteur where lieu_prestation = 'A_DOMICILE'"),
    ("Professionnels", "select count(*) from qfdmo_acteur where lower(public_accueilli) = 'professionnels'"),
    ("Aucun", "select count(*) from qfdmo_acteur where lower(public_accueilli) = 'aucun'"),
    ("proposition without sub-category", """select count(*) from qfdmo_propositionservice p where not exists
        (select from qfdmo_propositionservice_sous_categories s where s.propositionservice_id = p.id)"""),
    ("revision relations", "select count(*) from qfdmo_revisionpropositionservice_sous_categories"),
    ("revision blanking relations", """select count(*) from qfdmo_revisionacteur r where r.source_id is null
        and r.parent_id is null and exists (select from qfdmo_acteur a where a.identifiant_unique = r.identifiant_unique)
        and not exists (select from qfdmo_revisionpropositionservice p where p.acteur_id = r.identifiant_unique)"""),
    ("sample territory AQTA", "select count(*) from qfdmo_acteur where code_postal like '56%'"),
    ("sample territory PMA", "select count(*) from qfdmo_acteur where code_postal like '25%'"),
    ("postal code shared by two EPCI", "select count(*) from qfdmo_acteur where code_postal = '56400'"),
    ("personal data", "select (select count(*) from auth_user) * (select count(*) from django_session)"),
    ("admin configuration", "select count(*) from qfdmo_carteconfig_epci"),
    ("suggestions", "select count(*) from data_suggestion"),
])
def test_demo_data_holds_every_rule_case(demo_pair: Pair, case: str, sql: str):
    assert demo_pair.query("webapp", sql)[0][0] > 0, case


def test_demo_data_proportions(demo_pair: Pair):
    acteurs, propositions, sous_categories = demo_pair.query("webapp", """select
        (select count(*) from qfdmo_acteur), (select count(*) from qfdmo_propositionservice),
        (select count(*) from qfdmo_propositionservice_sous_categories)""")[0]
    assert 1.1 <= propositions / acteurs <= 1.3
    assert 2.6 <= sous_categories / propositions <= 3.2
