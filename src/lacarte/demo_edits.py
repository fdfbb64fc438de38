"""Edits of the demo data as the web app makes them, at a scale: `lacarte demo-edit` (the demo
shows an incremental run after it) and the benchmark of the incremental pipeline.

A share of the actors is edited in one transaction with a mix of every kind of change the
pipeline must follow: renames that touch `modifie_le`, bulk status updates that do not,
relations removed and added, children moving to another parent, parents losing their
children, new actors, deleted actors, addresses moving to another commune.
"""

from __future__ import annotations

from lacarte.db import connect
from lacarte.errors import UserError
from lacarte.guards import refuse_production
from lacarte.settings import Settings

# The mix of a 1 % edit: share of the edited actors per kind of change.
EDIT_MIX = {
    "renamed (modifie_le touched)": 0.35,
    "status flipped by a bulk update (modifie_le untouched)": 0.15,
    "a label removed": 0.10,
    "a label added": 0.10,
    "a sub-category removed from a proposition": 0.05,
    "child moved to another parent": 0.05,
    "parent losing all its children": 0.03,
    "new actor with a proposition": 0.07,
    "actor deleted with its relations": 0.05,
    "address moved to another commune": 0.05,
}


def edit_share(settings: Settings, share: float, seed: int) -> dict[str, int]:
    """Edit `share` of the actors, set-based, in one transaction, as the web app would;
    return the rows changed per kind."""
    if not 0 < share <= 0.5:
        raise UserError("the share of actors to edit must be above 0 and at most 0.5")
    database = settings.database("webapp")
    refuse_production(settings, "editing demo data", [database])
    counts: dict[str, int] = {}
    with connect(database) as conn, conn.transaction():
        total = conn.execute("select count(*) from qfdmo_acteur").fetchone()[0]
        n = {kind: max(1, int(total * share * part)) for kind, part in EDIT_MIX.items()}
        pick = "order by md5(identifiant_unique || '{seed}') limit {limit}"

        def run(kind: str, sql: str, **fmt) -> None:
            counts[kind] = conn.execute(sql.format(seed=seed, limit=n[kind], **fmt)).rowcount

        run("renamed (modifie_le touched)", "update qfdmo_acteur set nom = nom || ' (bench)', modifie_le = now() "
            f"where identifiant_unique in (select identifiant_unique from qfdmo_acteur {pick})")
        run("status flipped by a bulk update (modifie_le untouched)",
            "update qfdmo_revisionacteur set statut = case statut when 'ACTIF' then 'INACTIF' else 'ACTIF' end "
            f"where identifiant_unique in (select identifiant_unique from qfdmo_revisionacteur where statut <> '' {pick})")
        run("a label removed", "delete from qfdmo_acteur_labels where id in (select distinct on (acteur_id) id from "
            "qfdmo_acteur_labels where acteur_id in (select acteur_id from qfdmo_acteur_labels "
            "order by md5(acteur_id || '{seed}') limit {limit}))")
        run("a label added", "insert into qfdmo_acteur_labels (acteur_id, labelqualite_id) select a.identifiant_unique, "
            "l.id from (select identifiant_unique from qfdmo_acteur " + pick + ") as a cross join lateral (select id "
            "from qfdmo_labelqualite as l where not exists (select from qfdmo_acteur_labels as x where x.acteur_id = "
            "a.identifiant_unique and x.labelqualite_id = l.id) order by id limit 1) as l")
        run("a sub-category removed from a proposition", "delete from qfdmo_propositionservice_sous_categories where id in "
            "(select distinct on (propositionservice_id) id from qfdmo_propositionservice_sous_categories where "
            "propositionservice_id in (select id from qfdmo_propositionservice order by md5(id || '{seed}') "
            "limit {limit}))")
        run("child moved to another parent", "update qfdmo_revisionacteur as c set parent_id = p.parent_id from "
            "(select identifiant_unique, (select parent_id from qfdmo_revisionacteur where parent_id is not null "
            "order by md5(parent_id || identifiant_unique) limit 1) as parent_id from qfdmo_revisionacteur where "
            f"parent_id is not null {pick}) as p where c.identifiant_unique = p.identifiant_unique")
        run("parent losing all its children", "update qfdmo_revisionacteur set parent_id = null where parent_id in "
            "(select parent_id from qfdmo_revisionacteur where parent_id is not null group by parent_id "
            "order by md5(parent_id || '{seed}') limit {limit})")
        new = n["new actor with a proposition"]
        conn.execute(
            "insert into qfdmo_acteur (identifiant_unique, nom, acteur_type_id, adresse, code_postal, ville, source_id, "
            "identifiant_externe, statut, public_accueilli, reprise, lieu_prestation, telephone, description, location, "
            "cree_le, modifie_le, url, email, nom_commercial, nom_officiel, siren, siret, naf_principal, commentaires, "
            "horaires_osm, horaires_description, consignes_dacces, adresse_complement) "
            "select 'bench_' || %s || '_' || a.n, 'Nouvel acteur ' || a.n, a.acteur_type_id, a.adresse, a.code_postal, "
            "a.ville, a.source_id, 'bench_' || %s || '_' || a.n, 'ACTIF', 'Particuliers', '', 'SUR_PLACE', '', '', "
            "a.location, now(), now(), '', '', '', '', '', '', '', '', '', '', '', '' "
            "from (select row_number() over () as n, t.* from (select * from qfdmo_acteur where location is not null "
            "order by md5(identifiant_unique || %s::text) limit %s) as t) as a", [seed, seed, seed, new])
        conn.execute("insert into qfdmo_propositionservice (acteur_id, action_id) select identifiant_unique, "
                     "(select min(id) from qfdmo_action) from qfdmo_acteur where identifiant_unique like %s",
                     [f"bench\\_{seed}\\_%"])
        conn.execute("insert into qfdmo_propositionservice_sous_categories (propositionservice_id, souscategorieobjet_id) "
                     "select p.id, s.id from qfdmo_propositionservice as p cross join (select id from "
                     "qfdmo_souscategorieobjet order by id limit 2) as s where p.acteur_id like %s",
                     [f"bench\\_{seed}\\_%"])
        counts["new actor with a proposition"] = new
        deleting = pick.format(seed=seed, limit=n["actor deleted with its relations"])
        gone = [r[0] for r in conn.execute(
            "select identifiant_unique from qfdmo_acteur as a where not exists (select from qfdmo_revisionacteur as r "
            f"where r.identifiant_unique = a.identifiant_unique) {deleting}").fetchall()]
        conn.execute("delete from qfdmo_propositionservice_sous_categories where propositionservice_id in "
                     "(select id from qfdmo_propositionservice where acteur_id = any(%s))", [gone])
        for table in ("qfdmo_propositionservice", "qfdmo_acteur_labels", "qfdmo_acteur_acteur_services",
                      "qfdmo_perimetreadomicile"):
            conn.execute(f"delete from {table} where acteur_id = any(%s)", [gone])
        counts["actor deleted with its relations"] = conn.execute(
            "delete from qfdmo_acteur where identifiant_unique = any(%s)", [gone]).rowcount
        run("address moved to another commune", "update qfdmo_acteur set code_postal = '56400', ville = 'Le Bono' "
            f"where identifiant_unique in (select identifiant_unique from qfdmo_acteur {pick})")
    return counts
