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
        values = {"identifiant_unique": identifiant, "cree_le": "2025-02-01T00:00:00+00:00",
                  "modifie_le": "2025-07-01T00:00:00+00:00", **fields}
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
