"""The sample's plan, read from the live webapp catalog: what to do with every table of
`public`, the SELECT that copies each copied table, and a refusal, naming the table and the
rule to add, for anything the rules do not cover or that would break a foreign key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from lacarte.errors import UserError
from lacarte.sample.rules import COPIED, NEVER_COPIED, Rule, TableRules

RULES_PLACE = "var webapp_tables in dbt_project.yml"


@dataclass(frozen=True)
class ForeignKey:
    table: str
    columns: tuple[str, ...]
    referenced: str
    referenced_columns: tuple[str, ...]


@dataclass
class TablePlan:
    name: str
    kind: str  # a rule kind, or "published" / "extension"
    columns: list[str] = field(default_factory=list)
    column_types: dict[str, str] = field(default_factory=dict)
    not_null: set[str] = field(default_factory=set)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    acteur_column: str | None = None
    detached: list[str] = field(default_factory=list)  # columns set to NULL (references to personal data)

    @property
    def copied(self) -> bool:
        return self.kind in COPIED


@dataclass
class SamplePlan:
    tables: dict[str, TablePlan]

    def copy_order(self) -> list[TablePlan]:
        """The copied tables, referenced tables first (self-references aside)."""
        copied = {name: plan for name, plan in self.tables.items() if plan.copied}
        ordered: list[TablePlan] = []
        placed: set[str] = set()

        def place(name: str, path: tuple[str, ...]) -> None:
            if name in placed or name not in copied:
                return
            for fk in copied[name].foreign_keys:
                if fk.referenced != name and fk.referenced not in path:
                    place(fk.referenced, (*path, name))
            placed.add(name)
            ordered.append(copied[name])

        for name in sorted(copied):
            place(name, ())
        return ordered


def read_catalog(conn: psycopg.Connection) -> tuple[dict[str, TablePlan], list[ForeignKey], set[str], list[str]]:
    """Tables of public (with columns), foreign keys, extension-owned tables, foreign tables."""
    tables: dict[str, TablePlan] = {}
    for table, column, column_type, not_null in conn.execute("""
            select c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
            from pg_class as c
            join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
            where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
                and a.attgenerated = ''
            order by c.relname, a.attnum"""):
        plan = tables.setdefault(table, TablePlan(name=table, kind=""))
        plan.columns.append(column)
        plan.column_types[column] = column_type
        if not_null:
            plan.not_null.add(column)
    foreign_keys = [
        ForeignKey(table, tuple(columns), referenced, tuple(referenced_columns))
        for table, columns, referenced, referenced_columns in conn.execute("""
            select (select relname from pg_class where oid = c.conrelid),
                array(select a.attname::text from unnest(c.conkey) with ordinality as k(n, o)
                    join pg_attribute as a on a.attrelid = c.conrelid and a.attnum = k.n order by k.o),
                (select case when r.relnamespace = 'public'::regnamespace then r.relname::text
                        else r.relnamespace::regnamespace::text || '.' || r.relname end
                    from pg_class as r where r.oid = c.confrelid),
                array(select a.attname::text from unnest(c.confkey) with ordinality as k(n, o)
                    join pg_attribute as a on a.attrelid = c.confrelid and a.attnum = k.n order by k.o)
            from pg_constraint as c
            where c.contype = 'f' and c.connamespace = 'public'::regnamespace
            order by 1, 2""")
    ]
    extension_tables = {row[0] for row in conn.execute("""
        select c.relname from pg_class as c join pg_depend as d
            on d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
        where c.relnamespace = 'public'::regnamespace""")}
    foreign_tables = [row[0] for row in conn.execute(
        "select relname from pg_class where relnamespace = 'public'::regnamespace and relkind = 'f' order by 1")]
    return tables, foreign_keys, extension_tables, foreign_tables


def plan_sample(conn: psycopg.Connection, rules: TableRules, published: Iterable[str]) -> SamplePlan:
    """Classify every table of the live webapp and check that the copy keeps every foreign key."""
    tables, foreign_keys, extension_tables, _foreign_tables = read_catalog(conn)
    published = set(published)
    missing_published = sorted(published - set(tables))
    if missing_published:
        raise UserError(f"the exposure models fill table(s) {', '.join(missing_published)} that the webapp does not have")
    unclassified = []
    for name, plan in tables.items():
        if name in extension_tables:
            plan.kind = "extension"
        elif name in published:
            plan.kind = "published"
        else:
            rule: Rule | None = rules.rule_of(name)
            if rule is None:
                unclassified.append(name)
                continue
            plan.kind = rule.kind
            plan.acteur_column = rule.column
            if rule.kind == "acteurs" and rule.column not in plan.columns:
                raise UserError(f"{name} has no column {rule.column} ({rule.source} in {RULES_PLACE})")
    if unclassified:
        raise UserError(
            f"no copy rule for table(s) {', '.join(sorted(unclassified))}: add a rule (whole, acteurs, follow, detach, "
            f"personal or excluded) for each to {RULES_PLACE}; nothing was done"
        )
    for fk in foreign_keys:
        if fk.table in tables:
            tables[fk.table].foreign_keys.append(fk)
    problems = [problem for plan in tables.values() if plan.copied for problem in _check_references(plan, tables)]
    if problems:
        raise UserError("the copy rules would break foreign keys: " + "; ".join(problems) + f" ({RULES_PLACE}); nothing was done")
    return SamplePlan(tables)


def _check_references(plan: TablePlan, tables: dict[str, TablePlan]) -> list[str]:
    """What would break if `plan` were copied by its rule; fills its detached columns."""
    problems = []
    filters = 0
    for fk in plan.foreign_keys:
        referenced = tables.get(fk.referenced)
        kind = referenced.kind if referenced else "outside public"
        where = f"{plan.name}.{'/'.join(fk.columns)} refers to {fk.referenced} ({kind})"
        if kind in NEVER_COPIED:
            if plan.kind != "detach":
                problems.append(f"{where}: give {plan.name} rule detach (references set to NULL) or classify it "
                                f"{'personal' if kind == 'personal' else 'excluded'}")
            elif set(fk.columns) & plan.not_null:
                problems.append(f"{where} through a NOT NULL column: {plan.name} cannot be copied without it; "
                                "classify it personal or excluded")
            else:
                plan.detached.extend(c for c in fk.columns if c not in plan.detached)
        elif kind in ("acteurs", "follow"):
            if plan.kind in ("whole", "detach"):
                problems.append(f"{where}, which is filtered: give {plan.name} rule follow (or acteurs)")
            elif fk.referenced != plan.name:
                filters += 1
        elif kind in ("published", "outside public"):
            problems.append(f"{where}: the sample cannot copy {plan.name}; classify it excluded")
    if plan.kind == "follow" and filters == 0:
        problems.append(f"{plan.name} has rule follow but no foreign key to a filtered table: give it rule acteurs or whole")
    return problems


def selection(plan: TablePlan, sample: SamplePlan, sample_ids: str) -> sql.Composable:
    """The SELECT copying `plan`'s rows: all of them, the sampled actors' (`sample_ids` is a
    table of identifiant_unique), or those referring to copied rows of a filtered table."""
    columns = sql.SQL(", ").join(
        sql.SQL("null::{}").format(sql.SQL(plan.column_types[c])) if c in plan.detached else sql.Identifier(c)
        for c in plan.columns
    )
    query = sql.SQL("select {} from public.{}").format(columns, sql.Identifier(plan.name))
    condition = _condition(plan, sample, sample_ids, depth=0)
    return query if condition is None else sql.SQL("{} where {}").format(query, condition)


def _condition(plan: TablePlan, sample: SamplePlan, sample_ids: str, depth: int) -> sql.Composable | None:
    if plan.kind == "acteurs":
        return sql.SQL("{} in (select identifiant_unique from {})").format(
            sql.Identifier(plan.acteur_column), sql.Identifier(sample_ids))
    if plan.kind != "follow" or depth > 5:
        return None
    conditions = []
    for fk in plan.foreign_keys:
        parent = sample.tables[fk.referenced]
        if parent.kind not in ("acteurs", "follow") or parent.name == plan.name:
            continue
        inner = _condition(parent, sample, sample_ids, depth + 1)
        conditions.append(sql.SQL("({}) in (select {} from public.{} where {})").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in fk.columns),
            sql.SQL(", ").join(sql.Identifier(c) for c in fk.referenced_columns),
            sql.Identifier(parent.name), inner))
    return sql.SQL(" and ").join(conditions)
