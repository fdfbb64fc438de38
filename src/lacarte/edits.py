"""The edits the web app makes, one vocabulary for the tests, the demo and the benchmarks.

Each kind of edit changes `count` of its rows, picked by a seed (the same seed picks the same
rows on the same data), set-based and naming its columns, as the web app (its admin, its
imports, its bulk updates) would: renames that touch `modifie_le`, bulk updates that do not,
relations removed, added or moved to another actor, children moving to another parent,
parents losing their children, new actors, deleted actors, revisions appearing, addresses
moving to another commune, and reference rows appearing (which make the next run full).

- the tests apply a few of any kind (`apply_edits`);
- `lacarte demo-edit` and the benchmarks edit a share of the actors with a mix of them
  (`edit_share`, `EDIT_MIX`).
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from lacarte.db import connect
from lacarte.errors import UserError
from lacarte.guards import refuse_production
from lacarte.settings import Settings

# (connection, how many, seed) -> rows changed
Edit = Callable[[psycopg.Connection, int, int], int]


def _picked(query: str, key: str = "identifiant_unique") -> str:
    """`query`'s rows, `%(count)s` of them chosen by `%(seed)s`, numbered from 1 (column n)."""
    return (f"select row_number() over () as n, picked.* from ({query} order by md5({key}::text || %(seed)s::text) "
            "limit %(count)s) as picked")


def _run(conn: psycopg.Connection, statement: str, count: int, seed: int) -> int:
    return conn.execute(statement, {"count": count, "seed": seed}).rowcount


def update_actor(conn: psycopg.Connection, count: int, seed: int) -> int:
    """renamed (modifie_le touched)"""
    return _run(conn, "update qfdmo_acteur set nom = nom || ' *', modifie_le = now() where identifiant_unique in "
                      f"(select identifiant_unique from ({_picked('select identifiant_unique from qfdmo_acteur')}) as p)",
                count, seed)


def bulk_update_without_timestamp(conn: psycopg.Connection, count: int, seed: int) -> int:
    """status flipped by a bulk update (modifie_le untouched)"""
    revisions = _picked("select identifiant_unique from qfdmo_revisionacteur where statut <> ''")
    return _run(conn, "update qfdmo_revisionacteur set statut = case statut when 'ACTIF' then 'INACTIF' else 'ACTIF' "
                      f"end where identifiant_unique in (select identifiant_unique from ({revisions}) as p)", count, seed)


RELATION_TABLES = ("qfdmo_acteur_labels", "qfdmo_propositionservice_sous_categories",
                   "qfdmo_revisionacteur_acteur_services", "qfdmo_revisionpropositionservice_sous_categories")


def delete_relations(conn: psycopg.Connection, count: int, seed: int) -> int:
    """relations removed (labels, sub-categories, a revision's services and sub-categories)"""
    return sum(_run(conn, f"delete from {table} where id in (select id from ({_picked(f'select id from {table}', 'id')}) "
                          "as p)", count, seed) for table in RELATION_TABLES)


def insert_relations(conn: psycopg.Connection, count: int, seed: int) -> int:
    """relations added (a label, a revision's service, a sub-category of a proposition)"""
    labels = _run(conn, "insert into qfdmo_acteur_labels (acteur_id, labelqualite_id) select a.identifiant_unique, l.id "
                        f"from ({_picked('select identifiant_unique from qfdmo_acteur')}) as a cross join lateral "
                        "(select id from qfdmo_labelqualite as l where not exists (select from qfdmo_acteur_labels as x "
                        "where x.acteur_id = a.identifiant_unique and x.labelqualite_id = l.id) order by id limit 1) as l",
                  count, seed)
    revisions = _picked("select identifiant_unique from qfdmo_revisionacteur where parent_id is null")
    services = _run(conn, "insert into qfdmo_revisionacteur_acteur_services (revisionacteur_id, acteurservice_id) "
                          f"select r.identifiant_unique, s.id from ({revisions}) as r cross join lateral (select id from "
                          "qfdmo_acteurservice as s where not exists (select from qfdmo_revisionacteur_acteur_services "
                          "as x where x.revisionacteur_id = r.identifiant_unique and x.acteurservice_id = s.id) "
                          "order by id limit 1) as s", count, seed)
    sous_categories = _run(
        conn, "insert into qfdmo_propositionservice_sous_categories (propositionservice_id, souscategorieobjet_id) "
              f"select p.id, s.id from ({_picked('select id from qfdmo_propositionservice', 'id')}) as p cross join "
              "lateral (select id from qfdmo_souscategorieobjet as s where not exists (select from "
              "qfdmo_propositionservice_sous_categories as x where x.propositionservice_id = p.id and "
              "x.souscategorieobjet_id = s.id) order by id limit 1) as s", count, seed)
    return labels + services + sous_categories


def move_relation_to_another_actor(conn: psycopg.Connection, count: int, seed: int) -> int:
    """a service moved to another actor"""
    return _run(conn, "update qfdmo_acteur_acteur_services as s set acteur_id = t.identifiant_unique "
                      f"from ({_picked('select id, acteurservice_id from qfdmo_acteur_acteur_services', 'id')}) as m "
                      f"join ({_picked('select identifiant_unique from qfdmo_acteur')}) as t using (n) "
                      "where s.id = m.id and not exists (select from qfdmo_acteur_acteur_services as x "
                      "where x.acteur_id = t.identifiant_unique and x.acteurservice_id = m.acteurservice_id)", count, seed)


def move_child(conn: psycopg.Connection, count: int, seed: int) -> int:
    """child moved to another parent"""
    children = _picked("select identifiant_unique from qfdmo_revisionacteur where parent_id is not null")
    parents = _picked("select parent_id from qfdmo_revisionacteur where parent_id is not null group by parent_id",
                      "parent_id")
    return _run(conn, f"update qfdmo_revisionacteur as r set parent_id = p.parent_id from ({children}) as c "
                      f"join ({parents.replace('%(seed)s', '%(seed)s || 7')}) as p using (n) "
                      "where r.identifiant_unique = c.identifiant_unique", count, seed)


def orphan_parent(conn: psycopg.Connection, count: int, seed: int) -> int:
    """parent losing all its children"""
    parents = _picked("select parent_id from qfdmo_revisionacteur where parent_id is not null group by parent_id",
                      "parent_id")
    return _run(conn, f"update qfdmo_revisionacteur set parent_id = null where parent_id in (select parent_id from "
                      f"({parents}) as p)", count, seed)


def insert_actor(conn: psycopg.Connection, count: int, seed: int) -> int:
    """new actor with a proposition, a label and a service"""
    like = _picked("select * from qfdmo_acteur where location is not null")
    added = [r[0] for r in conn.execute(
        "insert into qfdmo_acteur (identifiant_unique, nom, acteur_type_id, adresse, code_postal, ville, source_id, "
        "identifiant_externe, statut, public_accueilli, reprise, lieu_prestation, telephone, description, location, "
        "cree_le, modifie_le, url, email, nom_commercial, nom_officiel, siren, siret, naf_principal, commentaires, "
        "horaires_osm, horaires_description, consignes_dacces, adresse_complement) "
        "select 'new_' || %(seed)s || '_' || a.n, 'Nouvel acteur ' || a.n, a.acteur_type_id, a.adresse, a.code_postal, "
        "a.ville, a.source_id, 'new_' || %(seed)s || '_' || a.n, 'ACTIF', 'Particuliers', '', 'SUR_PLACE', '', '', "
        f"a.location, now(), now(), '', '', '', '', '', '', '', '', '', '', '', '' from ({like}) as a "
        "on conflict do nothing returning identifiant_unique", {"count": count, "seed": seed}).fetchall()]
    conn.execute("insert into qfdmo_propositionservice (acteur_id, action_id) select a, (select min(id) from qfdmo_action) "
                 "from unnest(%s::text[]) as a", [added])
    conn.execute("insert into qfdmo_propositionservice_sous_categories (propositionservice_id, souscategorieobjet_id) "
                 "select p.id, s.id from qfdmo_propositionservice as p cross join (select id from "
                 "qfdmo_souscategorieobjet order by id limit 2) as s where p.acteur_id = any(%s)", [added])
    conn.execute("insert into qfdmo_acteur_labels (acteur_id, labelqualite_id) select a, (select min(id) from "
                 "qfdmo_labelqualite) from unnest(%s::text[]) as a", [added])
    conn.execute("insert into qfdmo_acteur_acteur_services (acteur_id, acteurservice_id) select a, (select min(id) "
                 "from qfdmo_acteurservice) from unnest(%s::text[]) as a", [added])
    return len(added)


def delete_actor(conn: psycopg.Connection, count: int, seed: int) -> int:
    """actor deleted with its relations"""
    gone = [r[0] for r in conn.execute(
        "select identifiant_unique from (" + _picked(
            "select identifiant_unique from qfdmo_acteur as a where not exists (select from qfdmo_revisionacteur "
            "as r where r.identifiant_unique = a.identifiant_unique)") + ") as p", {"count": count, "seed": seed})]
    conn.execute("delete from qfdmo_propositionservice_sous_categories where propositionservice_id in "
                 "(select id from qfdmo_propositionservice where acteur_id = any(%s))", [gone])
    for table in ("qfdmo_propositionservice", "qfdmo_acteur_labels", "qfdmo_acteur_acteur_services",
                  "qfdmo_perimetreadomicile"):
        conn.execute(f"delete from {table} where acteur_id = any(%s)", [gone])
    return conn.execute("delete from qfdmo_acteur where identifiant_unique = any(%s)", [gone]).rowcount


def new_revision(conn: psycopg.Connection, count: int, seed: int) -> int:
    """a revision appearing for an actor, with a proposition of its own"""
    acteurs = _picked("select identifiant_unique from qfdmo_acteur as a where not exists (select from "
                      "qfdmo_revisionacteur as r where r.identifiant_unique = a.identifiant_unique)")
    added = [r[0] for r in conn.execute(
        "insert into qfdmo_revisionacteur (identifiant_unique, nom, statut, public_accueilli, reprise, cree_le, "
        f"modifie_le) select identifiant_unique, 'Révisé', 'ACTIF', '', '', now(), now() from ({acteurs}) as a "
        "returning identifiant_unique", {"count": count, "seed": seed}).fetchall()]
    conn.execute("insert into qfdmo_revisionpropositionservice (acteur_id, action_id) select a, (select max(id) from "
                 "qfdmo_action) from unnest(%s::text[]) as a", [added])
    conn.execute("insert into qfdmo_revisionpropositionservice_sous_categories (revisionpropositionservice_id, "
                 "souscategorieobjet_id) select p.id, (select max(id) from qfdmo_souscategorieobjet) from "
                 "qfdmo_revisionpropositionservice as p where p.acteur_id = any(%s)", [added])
    return len(added)


def move_address(conn: psycopg.Connection, count: int, seed: int) -> int:
    """address moved to another commune"""
    acteurs = _picked("select identifiant_unique from qfdmo_acteur where code_postal <> '56400'")
    return _run(conn, "update qfdmo_acteur set code_postal = '56400', ville = 'Le Bono' where identifiant_unique in "
                      f"(select identifiant_unique from ({acteurs}) as p)", count, seed)


def new_reference_row(conn: psycopg.Connection, count: int, seed: int) -> int:
    """a label created (reference data: the next run is full)"""
    return sum(conn.execute(
        "insert into qfdmo_labelqualite (libelle, code, afficher, bonus, type_enseigne, url, logo_file, filtre, "
        "filtre_label, filtre_texte_d_aide, \"order\") values (%s, %s, true, false, false, '', '', false, '', '', 0) "
        "on conflict do nothing", [f"Label {seed}-{n}", f"label_{seed}_{n}"]).rowcount for n in range(count))


EDITS: dict[str, Edit] = {edit.__name__: edit for edit in (
    update_actor, bulk_update_without_timestamp, insert_actor, delete_actor, delete_relations, insert_relations,
    move_relation_to_another_actor, move_child, orphan_parent, new_revision, move_address)}
# A reference row makes the next run full: kept apart so that the tests can say which they expect.
REFERENCE_EDITS: dict[str, Edit] = {"new_reference_row": new_reference_row}

# The mix of an edit of a share of the actors (the demo, the benchmarks): share of the edited
# actors per kind of edit.
EDIT_MIX = {
    "update_actor": 0.35, "bulk_update_without_timestamp": 0.15, "delete_relations": 0.05, "insert_relations": 0.10,
    "move_relation_to_another_actor": 0.03, "move_child": 0.05, "orphan_parent": 0.03, "insert_actor": 0.07,
    "delete_actor": 0.05, "new_revision": 0.02, "move_address": 0.05,
}


def apply_edits(conn: psycopg.Connection, edits: list[tuple[str, int]], count: int = 2) -> dict[str, int]:
    """Apply (kind, seed) edits, `count` rows each, in one transaction; the rows changed per kind."""
    everything = {**EDITS, **REFERENCE_EDITS}
    changed: dict[str, int] = {}
    with conn.transaction():
        for kind, seed in edits:
            changed[kind] = changed.get(kind, 0) + everything[kind](conn, count, seed)
    return changed


def edit_share(settings: Settings, share: float, seed: int) -> dict[str, int]:
    """Edit `share` of the demo actors with the mix of every kind, in one transaction (never
    production); the rows changed per kind, by description."""
    if not 0 < share <= 0.5:
        raise UserError("the share of actors to edit must be above 0 and at most 0.5")
    database = settings.database("webapp")
    refuse_production(settings, "editing demo data", [database])
    with connect(database) as conn:
        total = conn.execute("select count(*) from qfdmo_acteur").fetchone()[0]
        counts = {kind: max(1, int(total * share * part)) for kind, part in EDIT_MIX.items()}
        with conn.transaction():
            return {(EDITS[kind].__doc__ or kind).strip(): EDITS[kind](conn, count, seed)
                    for kind, count in counts.items()}
