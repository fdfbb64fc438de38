"""The incremental job's publication, without starting dbt for it.

publish_changes (macros/publish) defines the publication. An incremental change set prepared
on top of the one the webapp last applied needs only its statements, so this module runs
them on one webapp connection, in one transaction, as the macro would: rendered once per
version of the project, of the webapp's columns and of the exposures' (macro
incremental_publication_plan, `dbt compile --inline --target webapp`) and kept as the
slice's are (lacarte.changes.compiled). Each row must find the webapp as the warehouse left
it, and a table losing rows is held to publish_min_ratio of its size (the planner's estimate).
That guard, and which tables the publication analyzes, are the macros' own statements
(shrink_guard_statement, analyze_due_statement), run here with this change set's numbers.

Anything else goes to `dbt run-operation publish_changes`, as the daily job runs it, after
this transaction rolled back: a reconciliation owed, a change set that is not on top of the
webapp's last one, a full build's change set, a table changed behind the publication's back,
no ledger yet, a link that drifted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg

from lacarte.changes.compiled import cached, columns_fingerprint, compilation_key, compile_inline
from lacarte.db import connect
from lacarte.errors import StepFailure
from lacarte.manifest import published_tables
from lacarte.settings import Settings

LEDGER = "lacarte_publication.applied"


class Declined(Exception):
    """Not a plain incremental publication: dbt's publish_changes decides (the reason says why)."""


@dataclass(frozen=True)
class Applied:
    """What one table took of a change set, and what was planned."""

    table: str
    inserted: int
    updated: int
    deleted: int
    planned: dict[str, int]

    @property
    def as_planned(self) -> bool:
        return (self.inserted, self.updated, self.deleted) == (
            self.planned["inserts"], self.planned["updates"], self.planned["deletes"])

    def record(self) -> dict[str, Any]:
        return {"table": self.table, "inserted": self.inserted, "updated": self.updated, "deleted": self.deleted,
                "planned": self.planned}


def publication_plan(settings: Settings, warehouse: psycopg.Connection, webapp: psycopg.Connection) -> dict[str, Any]:
    """The publication's statements, rendered once per version of the project, of the webapp's
    published tables and link, and of the warehouse's exposures."""
    link = settings.project.dbt_vars["fdw_links"]["webapp"]
    published = published_tables(settings)
    key = compilation_key(
        settings, "publication",
        columns_fingerprint(webapp, [link["local_schema"]], [f"public.{item.table}" for item in published]),
        columns_fingerprint(warehouse, sorted({item.schema for item in published}), []))
    return cached(settings, key, lambda: compile_inline(settings, "incremental_publication_plan()", target="webapp"))


def publish(settings: Settings) -> str:
    """Apply the prepared change set to the webapp: here when it is a plain incremental one,
    else by `dbt run-operation publish_changes`."""
    from lacarte.waits import with_lock_retries

    try:
        with connect(settings.database("warehouse")) as warehouse, connect(settings.database("webapp")) as webapp:
            plan = publication_plan(settings, warehouse, webapp)
            return with_lock_retries(settings, lambda _retrying: apply(webapp, plan), side="webapp")
    except Declined as declined:
        from lacarte.pipeline import run_dbt_step
        from lacarte.steps import step_named

        run_dbt_step(settings, step_named("run", "publish"), quiet=True, on_message=lambda _m: None)
        return f"publish: by publish_changes ({declined})"


def apply(webapp: psycopg.Connection, plan: dict[str, Any]) -> str:
    """The change set applied in one transaction, or Declined (rolled back)."""
    if plan["publish_scope"] != "all" or plan["drift"]:
        raise Declined("the link drifted: " + "; ".join(plan["drift"]) if plan["drift"] else "not the webapp")
    statements = plan["statements"]
    with webapp.transaction():
        if webapp.execute("select to_regclass(%s)", [LEDGER]).fetchone()[0] is None:
            raise Declined("the webapp has no ledger yet")
        webapp.execute(statements["lock_timeout"])
        webapp.execute(statements["lock"])
        header = webapp.execute(statements["header"]).fetchall()
        if len(header) != 1:
            raise Declined("no change set is prepared")
        change_set, base, reconcile, reason, _expected, _exposure_rows, scope = header[0]
        last = webapp.execute(statements["last"]).fetchone()
        last = last[0] if last else None
        if last == change_set:
            return f"publish: change set {change_set} is already applied; nothing to do"
        if reconcile:
            raise Declined(f"a reconciliation: {reason}")
        if scope == "all":
            raise Declined("a full build's change set")
        if base != last:
            raise Declined(f"the webapp's last change set is {last}, the warehouse prepared one on top of {base}")
        touched = {row[0] for row in webapp.execute(statements["touched"])}
        tables = [table for table in plan["tables"] if table["table"] in touched]
        planned = {}
        for table in tables:
            webapp.execute(table["create"])
            inserts, updates, deletes = webapp.execute(table["count"]).fetchone()
            planned[table["table"]] = {"inserts": inserts, "updates": updates, "deletes": deletes}
        refusals = []
        for table in tables:
            if deletes := planned[table["table"]]["deletes"]:
                _size, refusal = webapp.execute(table["guard"], {"deletes": deletes, "min_ratio": plan["min_ratio"]}).fetchone()
                refusals += [refusal] if refusal else []
        # Applied before a refusal is raised (and rolled back with it): a table that changed
        # behind the publication's back is reconciled rather than refused.
        report = apply_tables(webapp, tables, planned)
        drifted = [f"{row.table} took {row.deleted}/{row.planned['deletes']} deletes, {row.updated}/"
                   f"{row.planned['updates']} updates, {row.inserted}/{row.planned['inserts']} inserts"
                   for row in report if not row.as_planned]
        if drifted:
            raise Declined("changed behind the publication's back: " + "; ".join(drifted))
        if refusals:
            raise StepFailure(f"refused: {'; '.join(refusals)} (minimum share {plan['min_ratio']} of the rows each "
                              "table has now). Nothing was published: check the warehouse build; to publish anyway, "
                              "dbt run-operation publish_changes --target webapp --args '{min_ratio: 0}'")
        webapp.execute(statements["record"], {"id": change_set, "base": base,
                                              "counts": json.dumps([row.record() for row in report])})
        analyzed = analyze_changed(webapp, report, tables, plan["analyze_share"])
    lines = [f"{row.table} +{row.inserted} ~{row.updated} -{row.deleted}" for row in report
             if row.inserted or row.updated or row.deleted]
    return (f"publish: change set {change_set} on top of {base}" + (": " + ", ".join(lines) if lines else "")
            + (f" (analyzed {', '.join(analyzed)})" if analyzed else ""))


def apply_tables(webapp: psycopg.Connection, tables: list[dict[str, Any]],
                 planned: dict[str, dict[str, int]]) -> list[Applied]:
    """Deleted keys children first, then updated and inserted rows parents first; what each
    table took."""
    deleted = {table["table"]: webapp.execute(table["delete"]).fetchone()[0] for table in reversed(tables)}
    report = []
    for table in tables:
        updated = webapp.execute(table["update"]).fetchone()[0] if table["update"] else 0
        inserted = webapp.execute(table["insert"]).fetchone()[0]
        report.append(Applied(table["table"], inserted, updated, deleted[table["table"]], planned[table["table"]]))
    return report


def analyze_changed(webapp: psycopg.Connection, report: list[Applied], tables: list[dict[str, Any]],
                    share: float) -> list[str]:
    """Fresh statistics, in the publication's transaction, for the tables it changed a large
    share of (the rule of analyze_published: its statement analyze_due); the tables analyzed."""
    analyzed = []
    for row, table in zip(report, tables, strict=True):
        changed = row.inserted + row.updated + row.deleted
        if changed and webapp.execute(table["analyze_due"], {"changed": changed, "share": share}).fetchone()[0]:
            webapp.execute(table["analyze"])
            analyzed.append(row.table)
    return analyzed
