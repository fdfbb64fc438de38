"""Checks of a freshly built sample before it is swapped in."""

from __future__ import annotations

from psycopg import sql

from lacarte.db import connect
from lacarte.settings import Database


def validate_sample(database: Database, territories: list[str]) -> list[str]:
    """What is wrong with the sample database, as sentences (empty when it is valid): every
    foreign key holds, every territory has displayed actors, and no link, foreign table or
    schema other than public is left."""
    problems: list[str] = []
    with connect(database) as conn:
        foreign_keys = conn.execute("""
            select c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
                array(select a.attname::text from unnest(c.conkey) with ordinality as k(n, o)
                    join pg_attribute as a on a.attrelid = c.conrelid and a.attnum = k.n order by k.o),
                array(select a.attname::text from unnest(c.confkey) with ordinality as k(n, o)
                    join pg_attribute as a on a.attrelid = c.confrelid and a.attnum = k.n order by k.o)
            from pg_constraint as c where c.contype = 'f' order by 2, 1""").fetchall()
        for name, table, referenced, columns, referenced_columns in foreign_keys:
            match = sql.SQL(" and ").join(
                sql.SQL("parent.{} = child.{}").format(sql.Identifier(p), sql.Identifier(c))
                for c, p in zip(columns, referenced_columns, strict=True))
            present = sql.SQL(" and ").join(sql.SQL("child.{} is not null").format(sql.Identifier(c)) for c in columns)
            broken = conn.execute(sql.SQL(
                "select count(*) from {} as child where {} and not exists (select from {} as parent where {})").format(
                    sql.SQL(table), present, sql.SQL(referenced), match)).fetchone()[0]
            if broken:
                problems.append(f"{table}.{'/'.join(columns)}: {broken} row(s) point at no {referenced} ({name})")
        for code in territories:
            shown = conn.execute("""select count(*) from qfdmo_displayedacteur as a
                join qfdmo_epci as e on e.id = a.epci_id where e.code = %s""", [code]).fetchone()[0]
            if not shown:
                problems.append(f"territory {code} has no displayed actor")
        leftovers = conn.execute("""
            select 'foreign server ' || srvname from pg_foreign_server
            union all select 'user mapping for ' || usename || ' on ' || srvname from pg_user_mappings
            union all select 'foreign table ' || c.oid::regclass::text from pg_class as c where c.relkind = 'f'
            union all select 'schema ' || nspname from pg_namespace
                where nspname not in ('public', 'information_schema', 'pg_catalog', 'pg_toast')
                    and nspname not like 'pg_temp_%' and nspname not like 'pg_toast_temp_%'
            order by 1""").fetchall()
        problems.extend(f"{row[0]} must not be in the sample" for row in leftovers)
    return problems
