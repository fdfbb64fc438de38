"""Edits of every kind the web app makes, for the incremental tests and the benchmark.

Each edit picks its rows with a seed (the same seed picks the same rows on the same data) and
writes as the web app would, naming its columns: plain updates that touch `modifie_le`, bulk
updates that do not, inserts and deletes of actors and of every relation, children moving to
another parent, parents losing their last child, revisions appearing, addresses moving to
another commune, reference rows appearing.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from tests.scenario_world import World

Edit = Callable[[psycopg.Connection, int], None]


def _pick(conn: psycopg.Connection, query: str, seed: int, count: int = 1) -> list:
    """`count` rows of `query` (its first column is the key), chosen by the seed."""
    return [r[0] for r in conn.execute(
        f"select k from ({query}) as q(k) order by md5(k::text || %s::text) limit %s", [seed, count]).fetchall()]


def _world(conn: psycopg.Connection, seed: int) -> World:
    world = World(conn)
    world.next_id = 50_000_000 + (seed % 100_000) * 100
    return world


def update_actor(conn, seed):
    for acteur in _pick(conn, "select identifiant_unique from qfdmo_acteur", seed, 3):
        conn.execute("update qfdmo_acteur set nom = nom || ' *', modifie_le = now() where identifiant_unique = %s",
                     [acteur])


def bulk_update_without_timestamp(conn, seed):
    acteurs = _pick(conn, "select identifiant_unique from qfdmo_revisionacteur where statut <> ''", seed, 5)
    conn.execute("update qfdmo_revisionacteur set statut = case statut when 'ACTIF' then 'INACTIF' else 'ACTIF' end "
                 "where identifiant_unique = any(%s)", [acteurs])


def insert_actor(conn, seed):
    world = _world(conn, seed)
    identifiant = f"edit_new_{seed}"
    if conn.execute("select 1 from qfdmo_acteur where identifiant_unique = %s", [identifiant]).fetchone():
        return
    world.acteur(identifiant, nom=f"Nouvel acteur {seed}")
    world.proposition(identifiant, 1, [1, 2])
    world.label(identifiant, 1)
    world.service(identifiant, 1)


def delete_actor(conn, seed):
    acteurs = _pick(conn, "select a.identifiant_unique from qfdmo_acteur as a where not exists "
                          "(select from qfdmo_revisionacteur as r where r.identifiant_unique = a.identifiant_unique)", seed)
    for acteur in acteurs:
        conn.execute("delete from qfdmo_propositionservice_sous_categories where propositionservice_id in "
                     "(select id from qfdmo_propositionservice where acteur_id = %s)", [acteur])
        for table in ("qfdmo_propositionservice", "qfdmo_acteur_labels", "qfdmo_acteur_acteur_services",
                      "qfdmo_perimetreadomicile"):
            conn.execute(f"delete from {table} where acteur_id = %s", [acteur])
        conn.execute("delete from qfdmo_acteur where identifiant_unique = %s", [acteur])


def delete_relations(conn, seed):
    for table in ("qfdmo_acteur_labels", "qfdmo_propositionservice_sous_categories",
                  "qfdmo_revisionacteur_acteur_services", "qfdmo_revisionpropositionservice_sous_categories"):
        for key in _pick(conn, f"select id from {table}", seed, 2):
            conn.execute(f"delete from {table} where id = %s", [key])


def insert_relations(conn, seed):
    world = _world(conn, seed)
    for acteur in _pick(conn, "select identifiant_unique from qfdmo_acteur", seed, 2):
        world.label(acteur, 3)
    for acteur in _pick(conn, "select identifiant_unique from qfdmo_revisionacteur where parent_id is null", seed, 2):
        world.service(acteur, 2, revision=True)
    for proposition in _pick(conn, "select id from qfdmo_propositionservice", seed, 2):
        conn.execute("insert into qfdmo_propositionservice_sous_categories (propositionservice_id, souscategorieobjet_id) "
                     "select %s, s.id from qfdmo_souscategorieobjet as s where not exists (select from "
                     "qfdmo_propositionservice_sous_categories as x where x.propositionservice_id = %s "
                     "and x.souscategorieobjet_id = s.id) order by s.id limit 1", [proposition, proposition])


def move_relation_to_another_actor(conn, seed):
    rows = _pick(conn, "select id from qfdmo_acteur_acteur_services", seed)
    targets = _pick(conn, "select identifiant_unique from qfdmo_acteur", seed + 1)
    for row, target in zip(rows, targets, strict=False):
        conn.execute("update qfdmo_acteur_acteur_services set acteur_id = %s where id = %s and not exists "
                     "(select from qfdmo_acteur_acteur_services as x where x.acteur_id = %s and x.acteurservice_id = "
                     "(select acteurservice_id from qfdmo_acteur_acteur_services where id = %s))",
                     [target, row, target, row])


def move_child(conn, seed):
    children = _pick(conn, "select identifiant_unique from qfdmo_revisionacteur where parent_id is not null", seed)
    parents = _pick(conn, "select distinct parent_id from qfdmo_revisionacteur where parent_id is not null", seed + 7)
    for child, parent in zip(children, parents, strict=False):
        conn.execute("update qfdmo_revisionacteur set parent_id = %s where identifiant_unique = %s", [parent, child])


def orphan_parent(conn, seed):
    for parent in _pick(conn, "select distinct parent_id from qfdmo_revisionacteur where parent_id is not null", seed):
        conn.execute("update qfdmo_revisionacteur set parent_id = null where parent_id = %s", [parent])


def new_revision(conn, seed):
    acteurs = _pick(conn, "select a.identifiant_unique from qfdmo_acteur as a where not exists "
                          "(select from qfdmo_revisionacteur as r where r.identifiant_unique = a.identifiant_unique)", seed)
    world = _world(conn, seed)
    for acteur in acteurs:
        world.revision(acteur, nom="Révisé", statut="ACTIF")
        world.proposition(acteur, 2, [3], revision=True)


def move_address(conn, seed):
    for acteur in _pick(conn, "select identifiant_unique from qfdmo_acteur where code_postal <> '56400'", seed, 2):
        conn.execute("update qfdmo_acteur set code_postal = '56400', ville = 'Le Bono' where identifiant_unique = %s",
                     [acteur])


def new_reference_row(conn, seed):
    conn.execute("insert into qfdmo_labelqualite (libelle, code, afficher, bonus, type_enseigne, url, logo_file, "
                 "filtre, filtre_label, filtre_texte_d_aide, \"order\") "
                 "values (%s, %s, true, false, false, '', '', false, '', '', 0) on conflict do nothing",
                 [f"Label {seed}", f"label_{seed}"])


EDITS: dict[str, Edit] = {
    "update_actor": update_actor,
    "bulk_update_without_timestamp": bulk_update_without_timestamp,
    "insert_actor": insert_actor,
    "delete_actor": delete_actor,
    "delete_relations": delete_relations,
    "insert_relations": insert_relations,
    "move_relation_to_another_actor": move_relation_to_another_actor,
    "move_child": move_child,
    "orphan_parent": orphan_parent,
    "new_revision": new_revision,
    "move_address": move_address,
}
# A reference row makes the next run full: kept apart so that the tests can say which they expect.
REFERENCE_EDITS: dict[str, Edit] = {"new_reference_row": new_reference_row}


def apply_edits(conn: psycopg.Connection, edits: list[tuple[str, int]]) -> None:
    """Apply (kind, seed) edits in one transaction, as the web app would."""
    everything = {**EDITS, **REFERENCE_EDITS}
    with conn.transaction():
        for kind, seed in edits:
            everything[kind](conn, seed)
