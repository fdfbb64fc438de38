"""The copy rules of the webapp's tables (dbt var `webapp_tables`), applied to table names.

One list serves the sample and the links: exact names first, then the first matching
pattern (`*` matches any characters). A table no rule matches has no rule: the sample's build
stops, naming it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from lacarte.errors import UserError

KINDS = ("whole", "acteurs", "follow", "detach", "personal", "excluded")
# Kinds whose rows the sample copies, and those it never copies.
COPIED = ("whole", "acteurs", "follow", "detach")
NEVER_COPIED = ("personal", "excluded")


@dataclass(frozen=True)
class Rule:
    kind: str
    column: str | None = None  # for `acteurs`: the column holding the actor id
    source: str = ""  # where the rule comes from, for messages


class TableRules:
    """The rules of var webapp_tables."""

    def __init__(self, config: dict[str, Any]):
        self.exact: dict[str, Rule] = {}
        self.patterns: list[tuple[str, Rule]] = []
        for name, entry in (config.get("tables") or {}).items():
            self.exact[name] = self._rule(entry, f"tables.{name}")
        for index, entry in enumerate(config.get("patterns") or []):
            if not isinstance(entry, dict) or not isinstance(entry.get("match"), str):
                raise UserError(f"webapp_tables.patterns[{index}] needs a `match` pattern (dbt_project.yml)")
            self.patterns.append((entry["match"], self._rule(entry, f"patterns '{entry['match']}'")))

    @staticmethod
    def _rule(entry: Any, where: str) -> Rule:
        if not isinstance(entry, dict) or entry.get("rule") not in KINDS:
            raise UserError(f"webapp_tables {where}: `rule` must be one of {', '.join(KINDS)} (dbt_project.yml)")
        if entry["rule"] == "acteurs" and not isinstance(entry.get("column"), str):
            raise UserError(f"webapp_tables {where}: rule acteurs needs `column` (the actor id column)")
        return Rule(kind=entry["rule"], column=entry.get("column"), source=where)

    def rule_of(self, table: str) -> Rule | None:
        if table in self.exact:
            return self.exact[table]
        for pattern, rule in self.patterns:
            if fnmatch.fnmatchcase(table, pattern):
                return rule
        return None
