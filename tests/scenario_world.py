"""Writing hand-made actors into the webapp fixture, for the rule scenarios."""

from __future__ import annotations

import psycopg

AURAY = (-2.9904, 47.6677)
ACTEUR_DEFAULTS = {
    "nom": "Acteur", "acteur_type_id": 1, "adresse": "1 rue de la Gare", "code_postal": "56400", "ville": "Auray",
    "source_id": 1, "statut": "ACTIF", "public_accueilli": "Particuliers", "reprise": "", "lieu_prestation": "SUR_PLACE",
    "telephone": "0102030405", "description": "", "cree_le": "2025-01-01T00:00:00+00:00",
    "modifie_le": "2025-06-01T00:00:00+00:00",
}


class World:
    """Inserts rows naming their columns (never positionally); ids are chosen here."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.next_id = 900_000

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def _insert(self, table: str, values: dict) -> None:
        columns = list(values)
        placeholders = []
        params = []
        for column in columns:
            if column == "location" and values[column] is not None:
                placeholders.append("st_setsrid(st_makepoint(%s, %s), 4326)::geography")
                params.extend(values[column])
            else:
                placeholders.append("%s")
                params.append(values[column])
        quoted = ", ".join(f'"{c}"' for c in columns)
        self.conn.execute(f"insert into {table} ({quoted}) values ({', '.join(placeholders)})", params)

    def acteur(self, identifiant: str, location=AURAY, **fields) -> str:
        values = {"identifiant_unique": identifiant, **ACTEUR_DEFAULTS, "identifiant_externe": identifiant,
                  "location": location, **fields}
        self._insert("qfdmo_acteur", values)
        return identifiant

    def revision(self, identifiant: str, **fields) -> str:
        # public_accueilli and reprise are NOT NULL without default in the real schema ('' overrides nothing)
        values = {"identifiant_unique": identifiant, "public_accueilli": "", "reprise": "",
                  "cree_le": "2025-02-01T00:00:00+00:00", "modifie_le": "2025-07-01T00:00:00+00:00", **fields}
        self._insert("qfdmo_revisionacteur", values)
        return identifiant

    def parent(self, identifiant: str, **fields) -> str:
        values = {"nom": "Parent", "acteur_type_id": 3, "statut": "ACTIF", "public_accueilli": "Particuliers",
                  "code_postal": "56400", "ville": "Auray", "location": AURAY, **fields}
        return self.revision(identifiant, **values)

    def proposition(self, acteur_id: str, action_id: int, sous_categories: list[int], revision: bool = False) -> None:
        prefix = "qfdmo_revision" if revision else "qfdmo_"
        proposition_id = self._id()
        self._insert(f"{prefix}propositionservice", {"id": proposition_id, "acteur_id": acteur_id, "action_id": action_id})
        key = "revisionpropositionservice_id" if revision else "propositionservice_id"
        for sous_categorie in sous_categories:
            self._insert(f"{prefix}propositionservice_sous_categories",
                         {key: proposition_id, "souscategorieobjet_id": sous_categorie})

    def label(self, acteur_id: str, label_id: int, revision: bool = False) -> None:
        if revision:
            self._insert("qfdmo_revisionacteur_labels", {"revisionacteur_id": acteur_id, "labelqualite_id": label_id})
        else:
            self._insert("qfdmo_acteur_labels", {"acteur_id": acteur_id, "labelqualite_id": label_id})

    def service(self, acteur_id: str, service_id: int, revision: bool = False) -> None:
        if revision:
            self._insert("qfdmo_revisionacteur_acteur_services",
                         {"revisionacteur_id": acteur_id, "acteurservice_id": service_id})
        else:
            self._insert("qfdmo_acteur_acteur_services", {"acteur_id": acteur_id, "acteurservice_id": service_id})

    def perimetre(self, acteur_id: str, type_: str, valeur: str, revision: bool = False) -> None:
        table = "qfdmo_revisionperimetreadomicile" if revision else "qfdmo_perimetreadomicile"
        self._insert(table, {"acteur_id": acteur_id, "type": type_, "valeur": valeur})


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
