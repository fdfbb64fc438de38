"""What the dbt graph says about publication: the exposure models and the webapp tables they fill.

Each exposure model declares in its config `meta.publish` the table it fills, its place in the
order of publication and the column naming its actor; its key is its primary-key constraint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lacarte.dbt import parse_manifest
from lacarte.errors import UserError
from lacarte.settings import Settings


@dataclass(frozen=True)
class Published:
    """One exposure model and the webapp table it fills."""

    model: str
    schema: str
    table: str
    order: int
    key: tuple[str, ...]
    acteur_column: str | None
    may_be_empty: bool


def published_from_manifest(manifest: Any) -> list[Published]:
    """The exposure models that fill a webapp table, in publication order."""
    found = []
    for node in manifest.nodes.values():
        if node.resource_type != "model":
            continue
        publish = (node.config.meta or {}).get("publish")
        if not publish:
            continue
        keys = [c.columns for c in node.constraints if str(c.type) in ("primary_key", "ConstraintType.primary_key")]
        if len(keys) != 1:
            raise UserError(f"exposure model {node.name} needs exactly one primary_key constraint (its publication key)")
        found.append(Published(
            model=node.name, schema=node.schema, table=publish["table"], order=int(publish["order"]),
            key=tuple(keys[0]), acteur_column=acteur if isinstance(acteur := node.config.meta.get("acteur"), str) else None,
            may_be_empty=bool(publish.get("may_be_empty", False)),
        ))
    return sorted(found, key=lambda p: p.order)


def published_tables(settings: Settings) -> list[Published]:
    return published_from_manifest(parse_manifest(settings))
