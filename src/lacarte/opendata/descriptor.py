"""The data package published beside the open-data file: its Table Schema, read from the
contract of the exposure model (column names, order, types, descriptions and the
`meta.table_schema` of each column), so the file and its schema come from one definition."""

from __future__ import annotations

from typing import Any

from lacarte.errors import UserError

MODEL = "exposure_opendata_acteur"
STABLE_NAME = "acteurs.csv"
DESCRIPTOR_NAME = "datapackage.json"
# PostgreSQL's CSV (COPY … WITH (FORMAT csv, HEADER)): booleans as t/f, NULL as nothing.
TYPES = {"text": "string", "double precision": "number", "boolean": "boolean", "jsonb": "array",
         "integer": "integer", "bigint": "integer", "date": "date"}
BOOLEAN_VALUES = {"trueValues": ["t"], "falseValues": ["f"]}


def table_schema(manifest: Any) -> dict[str, Any]:
    """The Table Schema of the file, from the exposure model's contract."""
    nodes = [n for n in manifest.nodes.values() if n.resource_type == "model" and n.name == MODEL]
    if len(nodes) != 1:
        raise UserError(f"the dbt project has no model {MODEL} (models/exposure/opendata/): nothing was exported")
    fields = []
    for column in nodes[0].columns.values():
        if column.data_type not in TYPES:
            raise UserError(f"{MODEL}.{column.name}: data_type {column.data_type!r} has no Table Schema type "
                            f"(known: {', '.join(TYPES)})")
        field: dict[str, Any] = {"name": column.name, "type": TYPES[column.data_type],
                                 "description": column.description}
        if field["type"] == "boolean":
            field.update(BOOLEAN_VALUES)
        field.update((column.meta or {}).get("table_schema", {}))
        fields.append(field)
    return {"fields": fields, "primaryKey": ["identifiant"], "missingValues": [""]}


def data_package(schema: dict[str, Any], rows: int, size: int, sha256: str, timestamped: str) -> dict[str, Any]:
    """The descriptor of the stable file (with its row count, size and hash) and its copy."""
    resource = {
        "name": "acteurs", "path": STABLE_NAME, "title": "Acteurs de l'économie circulaire",
        "description": "Les lieux où réparer, donner, vendre ou recycler ses objets (Que faire de mes objets et "
                       "déchets, ADEME), au format du jeu de données open data publié chaque lundi.",
        "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
        "dialect": {"delimiter": ",", "quoteChar": "\"", "header": True},
        "bytes": size, "hash": f"sha256:{sha256}", "schema": schema,
    }
    return {
        "name": "acteurs-economie-circulaire",
        "title": "Acteurs de l'économie circulaire — Que faire de mes objets et déchets",
        "licenses": [{"name": "licence-ouverte-ademe", "title": "Licence ouverte ADEME (paternité : colonne paternite)"}],
        "resources": [resource],
        "lacarte": {"rows": rows, "timestamped_copy": timestamped},
    }


def published_rows(descriptor: dict[str, Any] | None) -> int | None:
    """The row count of the file a descriptor describes, or None without one."""
    if not descriptor:
        return None
    rows = (descriptor.get("lacarte") or {}).get("rows")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise UserError(f"the published {DESCRIPTOR_NAME} holds no row count (lacarte.rows): restore it or delete "
                        "it to publish without the shrink guard")
    return rows
