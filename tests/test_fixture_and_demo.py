"""The webapp of the tests is the real web app's database as its Django migrations create it
(the vendored dump, loaded whole), read from the catalog; demo data fills it, deterministically,
with every rule case and every shape of reference to a person."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from lacarte.demo import generate
from lacarte.instances.webapp_schema import real_schema_sql
from tests.conftest import world_changed
from tests.platform_pair import Pair

ACTEUR_TABLES = ["qfdmo_acteur", "qfdmo_revisionacteur", "qfdmo_displayedacteur", "qfdmo_vueacteur"]
# Columns that may have a database default (Django's db_default): the actor tables' text
# columns, statut and the timestamps, and qfdmo_source.licence.
ACTEUR_TEXT = {"description", "adresse", "adresse_complement", "code_postal", "ville", "url", "email", "telephone",
               "nom_commercial", "nom_officiel", "siren", "siret", "identifiant_externe", "statut", "naf_principal",
               "commentaires", "horaires_osm", "horaires_description", "consignes_dacces", "parent_reason"}
REVISION_TEXT = ACTEUR_TEXT | {"nom", "public_accueilli", "reprise"}


def catalog_columns(pair: Pair) -> dict[str, list[tuple[str, str, bool, str | None]]]:
    rows = pair.query("webapp", """
        select c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
        from pg_class c join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
        where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
            and not exists (select from pg_depend e where e.objid = c.oid and e.deptype = 'e')
        order by c.relname, a.attnum""")
    tables: dict[str, list] = {}
    for table, column, column_type, not_null, default in rows:
        tables.setdefault(table, []).append((column, column_type, not_null, default))
    return tables


def dump_tables() -> dict[str, list[str]]:
    """Table -> column names, in order, as the vendored dump creates them."""
    tables = {}
    for name, body in re.findall(r"^CREATE TABLE public\.(\w+) \(\n(.*?)\n\);", real_schema_sql(), flags=re.M | re.S):
        tables[name] = [line.strip().split(" ")[0].strip('"') for line in body.split("\n")
                        if line.strip() and not line.strip().startswith("CONSTRAINT")]
    return tables


def test_the_webapp_is_the_real_schema_whole(pair: Pair):
    expected = dump_tables()
    assert len(expected) == 174
    found = {table: [c[0] for c in columns] for table, columns in catalog_columns(pair).items()}
    assert found == expected
    foreign_keys = pair.query("webapp", "select count(*) from pg_constraint where contype = 'f' "
                                        "and connamespace = 'public'::regnamespace")[0][0]
    assert foreign_keys == real_schema_sql().count("FOREIGN KEY")
    indexes = pair.query("webapp", "select count(*) from pg_indexes where schemaname = 'public' "
                                   "and tablename <> 'spatial_ref_sys'")[0][0]
    assert indexes >= real_schema_sql().count("CREATE INDEX") + real_schema_sql().count("CREATE UNIQUE INDEX")


def test_ids_are_identities_and_foreign_keys_deferrable(pair: Pair):
    serial_defaults = pair.query("webapp", """select count(*) from pg_attrdef d
        where d.adrelid::regclass::text !~ '^webapp_public' and pg_get_expr(d.adbin, d.adrelid) like 'nextval%'""")
    assert serial_defaults == [(0,)]
    identities = dict(pair.query("webapp", """select table_name, column_name from information_schema.columns
        where table_schema = 'public' and is_identity = 'YES'"""))
    for table in ("qfdmo_acteurtype", "qfdmo_acteur_labels", "qfdmo_propositionservice", "auth_user", "django_migrations"):
        assert identities.get(table) == "id", table
    not_deferrable = pair.query("webapp", """select conrelid::regclass::text, conname from pg_constraint
        where contype = 'f' and connamespace = 'public'::regnamespace and not (condeferrable and condeferred)""")
    assert not_deferrable == []
    like_indexes = {r[0] for r in pair.query("webapp", """select tablename from pg_indexes
        where schemaname = 'public' and indexdef like '%(identifiant_unique varchar_pattern_ops)'""")}
    assert {"qfdmo_acteur", "qfdmo_revisionacteur", "qfdmo_displayedacteur", "qfdmo_vueacteur"} <= like_indexes


def test_defaults_only_where_django_sets_them(pair: Pair):
    for table, columns in catalog_columns(pair).items():
        for column, _type, _not_null, default in columns:
            if default is None or default.startswith("nextval"):
                continue
            allowed = (
                (table in ACTEUR_TABLES and (column in ACTEUR_TEXT or column in ("cree_le", "modifie_le")))
                or (table == "qfdmo_revisionacteur" and column in REVISION_TEXT)
                or (table == "qfdmo_source" and column == "licence")
                # the suggestions' and L'Assistant's timestamps (and a few texts of suggestions)
                or (table.startswith("data_suggestion") and column in ("cree_le", "modifie_le", "message", "raison",
                                                                       "suggestion_modele"))
                or (table in ("qfdmd_produit", "qfdmd_synonyme") and column == "modifie_le")
            )
            assert allowed, f"{table}.{column} has a default {default}"
    columns = {t: {c[0]: c for c in cols} for t, cols in catalog_columns(pair).items()}
    for table in ("qfdmo_acteur", "qfdmo_displayedacteur", "qfdmo_vueacteur"):
        for column in ("nom", "public_accueilli", "reprise", "acteur_type_id"):
            assert columns[table][column][2] and columns[table][column][3] is None, f"{table}.{column}"
    assert columns["qfdmo_displayedacteur"]["code_commune_insee"][1:] == ("character varying(10)", True, None)
    assert columns["qfdmo_displayedacteur"]["uuid"][1:3] == ("character varying(255)", True)
    assert columns["qfdmo_action"]["libelle_groupe"][2:] == (True, None)
    assert columns["qfdmo_labelqualite"]["order"][2:] == (True, None)
    assert columns["qfdmo_source"]["url"][2] is False
    assert columns["qfdmo_carteconfig"]["SOLUTION_TEMPORAIRE_A_SUPPRIMER_DES_QUE_POSSIBLE_parametres_url"]
    assert len(columns["qfdmo_carteconfig"]) == 14
    assert columns["data_suggestion"]["suggestion_cohorte_id"][2] is True
    # a revision's nom defaults to '' (no override); its public_accueilli and reprise have no default
    assert columns["qfdmo_revisionacteur"]["nom"][2:] == (True, "''::character varying")
    for column in ("public_accueilli", "reprise"):
        assert columns["qfdmo_revisionacteur"][column][2:] == (True, None), column


def test_actor_tables_have_their_own_column_order(pair: Pair):
    orders = {t: [c[0] for c in cols] for t, cols in catalog_columns(pair).items() if t in ACTEUR_TABLES}
    shared = set.intersection(*(set(o) for o in orders.values()))
    positions = {tuple(c for c in o if c in shared) for o in orders.values()}
    assert len(positions) >= 2, "the actor tables share one column order"


def test_cms_pages_refer_to_users_through_nullable_columns_and_content_to_sub_categories(pair: Pair):
    references = set(pair.query("webapp", """
        select c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, a.attnotnull
        from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
        where c.contype = 'f'"""))
    assert ("wagtailcore_page", "owner_id", "auth_user", False) in references
    assert ("wagtailcore_page", "locked_by_id", "auth_user", False) in references
    assert ("qfdmd_produitpage_sous_categorie_objet", "souscategorieobjet_id", "qfdmo_souscategorieobjet", True) in references
    assert ("qfdmo_carteconfig_epci", "epci_id", "qfdmo_epci", True) in references


def test_extensions_text_search_and_the_leftover_loopback_link(pair: Pair):
    extensions = {r[0] for r in pair.query("webapp", "select extname from pg_extension")}
    assert {"postgis", "pg_trgm", "unaccent", "uuid-ossp", "postgres_fdw", "pg_stat_statements"} <= extensions
    assert pair.query("webapp", "select cfgname from pg_ts_config where cfgnamespace = 'public'::regnamespace") == [
        ("wagtail_french",)]
    server = pair.query("webapp", "select srvname, srvoptions from pg_foreign_server where srvname = 'qfdmo_server'",
                        user="admin")
    assert server and "dbname=webapp" in server[0][1]
    mapping = pair.query("webapp", "select umoptions from pg_user_mappings where srvname = 'qfdmo_server'", user="admin")
    assert f"password={pair.settings.get('WEBAPP_DB_PASSWORD')}" in mapping[0][0]
    leftover = {r[0] for r in pair.query("webapp", """select relname from pg_class
        where relnamespace = 'webapp_public'::regnamespace and relkind = 'f'""")}
    public = {r[0] for r in pair.query("webapp", "select tablename from pg_tables where schemaname = 'public'")}
    assert public <= leftover


CHECKSUM = """
select md5(string_agg(t, '|' order by t)) from (
    select 'a' || md5(string_agg(a::text, ',' order by identifiant_unique)) as t from qfdmo_acteur a
    union all select 'r' || md5(string_agg(r::text, ',' order by identifiant_unique)) from qfdmo_revisionacteur r
    union all select 'p' || md5(string_agg(p::text, ',' order by id)) from qfdmo_propositionservice p
    union all select 's' || md5(string_agg(s::text, ',' order by id)) from qfdmo_propositionservice_sous_categories s
    union all select 'l' || md5(string_agg(l::text, ',' order by id)) from qfdmo_revisionacteur_labels l
    union all select 'w' || md5(string_agg(w::text, ',' order by id)) from wagtailcore_page w
) as parts
"""


@pytest.fixture(scope="module")
def demo_pair(pair: Pair) -> Iterator[Pair]:
    """Demo data of the module's own on the pair (the shared world, if this worker made it
    already, is put back for the next module that reads it)."""
    generate(pair.settings, acteurs=2000, seed=11)
    yield pair
    world_changed()


def test_demo_data_is_deterministic(demo_pair: Pair):
    first = demo_pair.query("webapp", CHECKSUM)[0][0]
    generate(demo_pair.settings, acteurs=2000, seed=11)
    assert demo_pair.query("webapp", CHECKSUM)[0][0] == first
    generate(demo_pair.settings, acteurs=2000, seed=12)
    assert demo_pair.query("webapp", CHECKSUM)[0][0] != first
    generate(demo_pair.settings, acteurs=2000, seed=11)


def test_demo_data_fills_every_table(demo_pair: Pair):
    empty = [t for t in catalog_columns(demo_pair)
             if not t.startswith(("qfdmo_displayed", "qfdmo_vue"))
             and demo_pair.query("webapp", f'select not exists (select from public."{t}")')[0][0]]
    assert empty == ["wagtailadmin_admin"]  # Wagtail's permission placeholder never holds a row
    assert demo_pair.query("webapp", "select count(*) from django_migrations")[0][0] == 403


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
    ("revision blanking relations", """select count(*) from qfdmo_revisionacteur r where r.source_id is null
        and r.parent_id is null and exists (select from qfdmo_acteur a where a.identifiant_unique = r.identifiant_unique)
        and not exists (select from qfdmo_revisionpropositionservice p where p.acteur_id = r.identifiant_unique)"""),
    ("sample territory AQTA", "select count(*) from qfdmo_acteur where code_postal like '56%'"),
    ("sample territory PMA", "select count(*) from qfdmo_acteur where code_postal like '25%'"),
    ("pages owned by users", "select count(*) from wagtailcore_page where owner_id is not null"),
    ("pages locked by users", "select count(*) from wagtailcore_page where locked_by_id is not null"),
    ("revisions by users", "select count(*) from wagtailcore_revision where user_id is not null"),
    ("revisions by nobody", "select count(*) from wagtailcore_revision where user_id is null"),
    ("log entries naming users (no foreign key)", "select count(*) from wagtailcore_pagelogentry where user_id is not null"),
    ("translations by users", "select count(*) from wagtail_localize_stringtranslation where last_translated_by_id > 0"),
    ("images uploaded by users", "select count(*) from wagtailimages_image where uploaded_by_user_id is not null"),
    ("translated pages", """select count(*) from wagtailcore_page p join wagtailcore_page t
        on t.translation_key = p.translation_key and t.locale_id <> p.locale_id"""),
    ("menu items linking pages", "select count(*) from wagtailmenus_mainmenuitem where link_page_id is not null"),
])
def test_demo_data_holds_every_rule_case(demo_pair: Pair, case: str, sql: str):
    assert demo_pair.query("webapp", sql)[0][0] > 0, case


def test_demo_data_proportions(demo_pair: Pair):
    acteurs, propositions, sous_categories = demo_pair.query("webapp", """select
        (select count(*) from qfdmo_acteur), (select count(*) from qfdmo_propositionservice),
        (select count(*) from qfdmo_propositionservice_sous_categories)""")[0]
    assert 1.1 <= propositions / acteurs <= 1.3
    assert 2.6 <= sous_categories / propositions <= 3.2
