{#-
    dbt run-operation publish_changes --target webapp [--args '{min_ratio: 0.5, dry_run: true}']

    Applies the change set the warehouse prepared (warehouse_public.exposure_publication_change_set
    and _changes) to the webapp tables the exposure models fill, in one transaction, and records
    it in lacarte_publication.applied in that same transaction:
      - already applied: nothing to do;
      - prepared on top of the change set the webapp last applied: for each table, the deleted
        keys go (children first), the updated and inserted rows follow (parents first), by
        column name, each value read with the webapp's own column type; each row must find the
        webapp as the warehouse left it, and a table losing rows is held to min_ratio of its
        size (the planner's estimate; every table counted after a full build);
      - otherwise (a publication was lost, the webapp was restored, or the warehouse asks for
        it): a full reconciliation, publish_exposures, recorded the same way.
    The webapp's work is proportional to the change; tables, constraints and indexes stay.
-#}
{% macro publish_changes(min_ratio=none, dry_run=false) %}
    {%- set min_ratio = number_argument('min_ratio', var('publish_min_ratio') if min_ratio is none else min_ratio, 0, 1) -%}
    {%- set dry_run = boolean_argument('dry_run', dry_run) -%}
    {%- set link = fdw_link() -%}
    {%- if link.publish_scope != 'all' -%}
        {{ exceptions.raise_compiler_error("publish_changes fills the webapp (--target webapp); the sample is filled by "
            ~ "publish_exposures --target " ~ target.name ~ ". Nothing was published") }}
    {%- endif -%}
    {%- do refuse_drifted_link(link) -%}
    {%- do publication_ledger(link) -%}
    {%- set statements = publication_statements(link) -%}
    {%- set header = run_query(statements.header) -%}
    {%- if header.rows | length != 1 -%}
        {{ exceptions.raise_compiler_error("no change set is prepared in the warehouse: run the job's `changes` step "
            ~ "(dbt run --select tag:publication); nothing was published") }}
    {%- endif -%}
    {%- set change_set = {'id': header.rows[0][0], 'base': header.rows[0][1]} -%}
    {%- set changes = adapter.quote(link.local_schema) ~ ".exposure_publication_changes" -%}
    {%- set touched = run_query(statements.touched).columns[0].values() | list -%}
    {#- One transaction from here, holding the ledger. After a full build (scope all), every
        table is counted once, in it, for the shrink guard and the check of what it holds. An
        incremental change set reads only what it touches: each of its rows must find the
        webapp as the warehouse left it (a key to delete or update is there, a key to insert is
        not), else the table changed behind the publication's back and the webapp reconciles;
        a table losing rows is held to min_ratio of its size for the shrink guard (the
        planner's estimate, kept by autovacuum: a count of a table of millions of rows would
        cost more than the change). -#}
    {%- do run_query("begin") -%}
    {%- do run_query(statements.lock_timeout) -%}
    {%- do run_query(statements.lock) -%}
    {%- set last = run_query(statements.last).columns[0].values() -%}
    {%- set last = last[0] if last else none -%}
    {%- set published = published_exposures() -%}
    {%- set scope_all = header.rows[0][6] == 'all' -%}
    {%- set current = published_row_counts(published if scope_all else []) -%}
    {%- if scope_all -%}
        {%- do refuse_shrunk_exposures(published, min_ratio, current, fromjson(header.rows[0][5])) -%}
    {%- endif -%}
    {%- if last == change_set.id -%}
        {%- do run_query("rollback") -%}
        {{ print("publish_changes: change set " ~ change_set.id ~ " is already applied; nothing to do") }}
        {{ return(none) }}
    {%- endif -%}
    {%- set plans = {} -%}
    {%- set refusals = [] -%}
    {%- set drifted = [] -%}
    {%- set why = none -%}
    {%- if header.rows[0][2] -%}
        {%- set why = header.rows[0][3] -%}
    {%- elif change_set.base != last -%}
        {%- set why = "the webapp's last change set is " ~ last ~ ", the warehouse prepared one on top of " ~ change_set.base -%}
    {%- else -%}
        {%- set expected = fromjson(header.rows[0][4]) if scope_all else {} -%}
        {%- for item in published if item.table in touched -%}
            {%- do plans.update({item.table: publish_change_plan(link, item, changes)}) -%}
        {%- endfor -%}
        {%- for item in published if item.table in current or item.table in plans -%}
            {%- set deleting = plans[item.table].counts.deletes if item.table in plans else 0 -%}
            {%- if scope_all and current[item.table] != expected.get(item.table) -%}
                {%- do drifted.append(item.table ~ " holds " ~ current[item.table] ~ " rows, " ~ expected.get(item.table)
                    ~ " were published") -%}
            {%- elif deleting > 0 -%}
                {%- set size = current[item.table] if item.table in current else "(" ~ plans[item.table].statements.size ~ ")" -%}
                {%- set guard = run_query(shrink_guard_statement(item.table, size, deleting, min_ratio)).rows[0] -%}
                {%- do current.update({item.table: guard[0]}) -%}
                {%- if guard[1] -%}
                    {%- do refusals.append(guard[1]) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set report = [] -%}
    {%- if why is none and not drifted -%}
        {#- Applied before a refusal is raised (and rolled back with it): a table that changed
            behind the publication's back is reconciled rather than refused. -#}
        {%- set report = apply_change_plans(published, plans) -%}
        {%- for row in report if row.inserted != row.planned.inserts or row.updated != row.planned.updates
                                 or row.deleted != row.planned.deletes -%}
            {%- do drifted.append(row.table ~ " took " ~ row.deleted ~ "/" ~ row.planned.deletes ~ " deletes, "
                ~ row.updated ~ "/" ~ row.planned.updates ~ " updates, " ~ row.inserted ~ "/" ~ row.planned.inserts
                ~ " inserts") -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if drifted and why is none -%}
        {%- set why = "changed behind the publication's back: " ~ drifted | join('; ') -%}
    {%- endif -%}
    {%- if why is not none -%}
        {%- do run_query("rollback") -%}
        {{ print("publish_changes: full reconciliation (" ~ why ~ ")") }}
        {%- do publish_exposures(min_ratio=min_ratio, dry_run=dry_run, record=change_set) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if refusals -%}
        {%- do run_query("rollback") -%}
        {{ exceptions.raise_compiler_error("refused: " ~ (refusals | join('; ')) ~ " (minimum share " ~ min_ratio
            ~ " of the rows each table has now). Nothing was published: check the warehouse build; to publish anyway, "
            ~ "--args '{min_ratio: 0}'") }}
    {%- endif -%}
    {%- if not dry_run -%}
        {%- do run_query(publication_record_sql(change_set, 'changes', report)) -%}
        {%- do analyze_published(report, published_sizes(report, current, plans)) -%}
    {%- endif -%}
    {%- do run_query("rollback" if dry_run else "commit") -%}
    {{ print("publish_changes (" ~ target.name ~ "): change set " ~ change_set.id ~ " on top of " ~ change_set.base
             ~ (" [dry run: nothing was changed]" if dry_run else "")) }}
    {%- for row in report if row.inserted or row.updated or row.deleted %}
    {{ print("  " ~ row.table ~ ": +" ~ row.inserted ~ " ~" ~ row.updated ~ " -" ~ row.deleted) }}
    {%- endfor %}
{% endmacro %}


{#- The full comparison's guard, on what each exposure holds now: an exposure emptied or
    shrunk below min_ratio of its webapp table is refused, whatever the change set says (it may
    miss it: a change set covers the actors a pull found changed, and one already applied is
    not applied again). -#}
{% macro refuse_shrunk_exposures(published, min_ratio, current, rows) %}
    {%- set refusals = [] -%}
    {%- for item in published -%}
        {%- set refusal = shrink_refusal(item, rows.get(item.table, 0), current[item.table], min_ratio) -%}
        {%- if refusal -%}
            {%- do refusals.append(refusal) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if refusals -%}
        {%- do run_query("rollback") -%}
        {{ exceptions.raise_compiler_error("refused: " ~ (refusals | join('; ')) ~ " (minimum share " ~ min_ratio
            ~ " of the rows each table has now; a table may be empty only if its model says meta.publish.may_be_empty). "
            ~ "Nothing was published: check the warehouse build; to publish anyway, --args '{min_ratio: 0}'") }}
    {%- endif -%}
{% endmacro %}


{#- The row count of each published webapp table, in one statement. -#}
{% macro published_row_counts(published) %}
    {%- set counts = [] -%}
    {%- for item in published -%}
        {%- do counts.append("(select count(*) from public." ~ adapter.quote(item.table) ~ ")") -%}
    {%- endfor -%}
    {%- set found = {} -%}
    {%- if counts -%}
        {%- set row = run_query("select " ~ counts | join(", ")).rows[0] -%}
        {%- for item in published -%}
            {%- do found.update({item.table: row[loop.index0]}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{% endmacro %}


{#- One table's statements of an incremental publication, rendered from the webapp table's
    columns (checked as publish_exposures checks them): its part of the change set copied
    into a temporary table typed like the webapp table, its rows counted by op, the table
    counted, and the apply statements, each reporting how many rows it changed and changing
    only rows found as planned (a key to update or delete present, a key to insert absent). -#}
{% macro change_plan_sql(link, item, changes) %}
    {%- set columns = publish_checked_columns(link, item).columns -%}
    {%- set value_columns = columns | reject('in', item.key) | list -%}
    {%- set table = adapter.quote(item.table) -%}
    {%- set temp = adapter.quote('publish_changes_' ~ item.table) -%}
    {%- set key_match = [] -%}
    {%- for k in item.key -%}
        {%- do key_match.append("cur." ~ adapter.quote(k) ~ " = nxt." ~ adapter.quote(k)) -%}
    {%- endfor -%}
    {%- set key_match = key_match | join(' and ') -%}
    {%- set update = none -%}
    {%- if value_columns -%}
        {%- set update = "with changed as (update public." ~ table ~ " as cur set (" ~ quoted_columns(value_columns) ~ ") = row("
            ~ quoted_columns(value_columns, 'nxt') ~ ") from " ~ temp ~ " as nxt where nxt.op = 'update' and " ~ key_match
            ~ " returning 1) select count(*) from changed" -%}
    {%- endif -%}
    {{ return({
        'table': item.table,
        'create': "create temp table " ~ temp ~ " on commit drop as select c.op, r.* from " ~ changes ~ " as c "
            ~ "cross join lateral jsonb_populate_record(null::public." ~ table ~ ", coalesce(c.row_data, c.key_data)) as r "
            ~ "where c.published_table = " ~ sql_literal(item.table),
        'count': "select count(*) filter (where op = 'insert'), count(*) filter (where op = 'update'), "
            ~ "count(*) filter (where op = 'delete') from " ~ temp,
        'size': "select case when reltuples >= 0 then reltuples::bigint else (select count(*) from public." ~ table
            ~ ") end from pg_class where oid = " ~ sql_literal("public." ~ table) ~ "::regclass",
        'delete': "with gone as (delete from public." ~ table ~ " as cur using " ~ temp ~ " as nxt where nxt.op = 'delete' and "
            ~ key_match ~ " returning 1) select count(*) from gone",
        'update': update,
        'insert': "with added as (insert into public." ~ table ~ " (" ~ quoted_columns(columns) ~ ") select "
            ~ quoted_columns(columns, 'nxt') ~ " from " ~ temp ~ " as nxt where nxt.op = 'insert' and not exists "
            ~ "(select from public." ~ table ~ " as cur where " ~ key_match ~ ") returning 1) select count(*) from added",
        'analyze': "analyze public." ~ table,
    }) }}
{% endmacro %}


{#- One table's part of a change set, copied into its temporary table and counted by op. -#}
{% macro publish_change_plan(link, item, changes) %}
    {%- set statements = change_plan_sql(link, item, changes) -%}
    {%- do run_query(statements.create) -%}
    {%- set row = run_query(statements.count).rows[0] -%}
    {{ return({'statements': statements, 'counts': {'inserts': row[0], 'updates': row[1], 'deletes': row[2]}}) }}
{% endmacro %}


{#- Applies the plans, in the publication's transaction: deleted keys children first, then
    updated and inserted rows parents first. One row per planned table: what changed and
    what was planned. -#}
{% macro apply_change_plans(published, plans) %}
    {%- set deleted = {} -%}
    {%- for item in published | reverse if item.table in plans -%}
        {%- do deleted.update({item.table: run_query(plans[item.table].statements.delete).columns[0].values()[0]}) -%}
    {%- endfor -%}
    {%- set report = [] -%}
    {%- for item in published if item.table in plans -%}
        {%- set statements = plans[item.table].statements -%}
        {%- set updated = run_query(statements['update']).columns[0].values()[0] if statements['update'] else 0 -%}
        {%- set inserted = run_query(statements.insert).columns[0].values()[0] -%}
        {%- do report.append({'table': item.table, 'inserted': inserted, 'updated': updated,
                              'deleted': deleted[item.table], 'planned': plans[item.table].counts}) -%}
    {%- endfor -%}
    {{ return(report) }}
{% endmacro %}


{#- The size of each table a publication changed, for analyze_published: the one the
    publication took (a count after a full build), else the planner's estimate (enough to
    tell a large share). -#}
{% macro published_sizes(report, counted, plans) %}
    {%- set sizes = {} -%}
    {%- for row in report -%}
        {%- if row.table in counted -%}
            {%- do sizes.update({row.table: counted[row.table]}) -%}
        {%- else -%}
            {%- do sizes.update({row.table: run_query(plans[row.table].statements.size).columns[0].values()[0]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(sizes) }}
{% endmacro %}


{#- The webapp's record of the change sets it applied (schema lacarte_publication), readable
    by the warehouse's reader role so that the warehouse confirms what the webapp holds;
    applied_at - started_at is the length of the transaction that applied one. -#}
{% macro publication_ledger(link) %}
    {%- set reader = var('fdw_links')['warehouse'].remote_user -%}
    {%- do run_query("begin") -%}
    {%- do run_query("create schema if not exists lacarte_publication") -%}
    {%- do run_query("create table if not exists lacarte_publication.applied (change_set_id bigint primary key, "
        ~ "base_change_set bigint, kind text not null check (kind in ('changes', 'reconcile')), "
        ~ "started_at timestamptz not null default now(), applied_at timestamptz not null default clock_timestamp(), "
        ~ "counts jsonb not null)") -%}
    {%- do run_query("grant usage on schema lacarte_publication to " ~ adapter.quote(reader)) -%}
    {%- do run_query("grant select on lacarte_publication.applied to " ~ adapter.quote(reader)) -%}
    {%- do run_query("commit") -%}
{% endmacro %}


{% macro publication_record_sql(change_set, kind, report) %}
    {{ return(publication_record_statement(change_set.id, change_set.base if change_set.base is not none else 'null',
                                           sql_literal(kind), sql_literal(tojson(report)))) }}
{% endmacro %}


{#- The ledger's insert, from SQL expressions (literals, or a driver's placeholders). -#}
{% macro publication_record_statement(change_set_id, base_change_set, kind, counts) %}
    {{ return("insert into lacarte_publication.applied (change_set_id, base_change_set, kind, counts) values ("
        ~ change_set_id ~ ", " ~ base_change_set ~ ", " ~ kind ~ ", " ~ counts ~ "::jsonb)") }}
{% endmacro %}


{#- The statements of a publication around its tables': the change set's header and the
    tables it touches (through the link), the transaction's lock timeout, the ledger's lock,
    its last change set, and its insert (with placeholders %(id)s, %(base)s, %(counts)s). -#}
{% macro publication_statements(link) %}
    {%- set local = adapter.quote(link.local_schema) -%}
    {{ return({
        'header': "select change_set_id, base_change_set, reconcile, reconcile_reason, expected_rows::text, "
            ~ "exposure_rows::text, scope from " ~ local ~ ".exposure_publication_change_set",
        'touched': "select distinct published_table from " ~ local ~ ".exposure_publication_changes",
        'lock_timeout': "set local lock_timeout = " ~ sql_literal(var('publish_lock_timeout')),
        'lock': "lock table lacarte_publication.applied in exclusive mode",
        'last': "select change_set_id from lacarte_publication.applied order by applied_at desc, change_set_id desc limit 1",
        'record': publication_record_statement('%(id)s', '%(base)s', sql_literal('changes'), '%(counts)s'),
    }) }}
{% endmacro %}


{#- What lacarte.changes.publication needs to apply an incremental change set without
    starting dbt: publish_changes' own statements, rendered once per version of the project,
    of the webapp's columns and of the link (`dbt compile --inline --target webapp`), the
    link's drift, and the thresholds. -#}
{% macro incremental_publication_plan() %}
    {%- set link = fdw_link() -%}
    {%- set changes = adapter.quote(link.local_schema) ~ ".exposure_publication_changes" -%}
    {%- set tables = [] -%}
    {%- for item in published_exposures() -%}
        {%- set statements = change_plan_sql(link, item, changes) -%}
        {%- set size = "(" ~ statements.size ~ ")" -%}
        {%- do statements.update({'guard': shrink_guard_statement(item.table, size, '%(deletes)s', '%(min_ratio)s'),
                                  'analyze_due': analyze_due_statement(size, '%(changed)s', '%(share)s')}) -%}
        {%- do tables.append(statements) -%}
    {%- endfor -%}
    {{ return({
        'publish_scope': link.publish_scope,
        'drift': fdw_drift(link),
        'statements': publication_statements(link),
        'tables': tables,
        'min_ratio': number_argument('publish_min_ratio', var('publish_min_ratio'), 0, 1),
        'analyze_share': number_argument('publish_analyze_share', var('publish_analyze_share'), 0, 1),
    }) }}
{% endmacro %}


{#- The incremental publication's shrink guard, one rule for both of its publishers
    (publish_changes, and lacarte.changes.publication through incremental_publication_plan):
    a statement giving a table's size and why losing `deletes` of its rows is refused (below
    `min_ratio` of its size), or null. Each argument but the table's name is an SQL
    expression: a literal, a subquery, or a driver's placeholder. -#}
{% macro shrink_guard_statement(table, size, deletes, min_ratio) %}
    {{ return("select size, case when deletes > 0 and size - deletes < min_ratio * size then "
        ~ sql_literal(table ~ " would lose ") ~ " || deletes || ' of its ' || size || ' rows' end from (select ("
        ~ size ~ ")::bigint, (" ~ deletes ~ ")::bigint, (" ~ min_ratio ~ ")::numeric) as guard (size, deletes, min_ratio)") }}
{% endmacro %}


{#- Whether a publication that changed `changed` rows of a table of `size` rows analyzes it
    (`share` of its size or more): one rule for analyze_published and lacarte.changes.publication.
    Each argument is an SQL expression: a literal, a subquery, or a driver's placeholder. -#}
{% macro analyze_due_statement(size, changed, share) %}
    {{ return("select changed > 0 and changed >= share * greatest(size, 1) from (select (" ~ size ~ ")::bigint, ("
        ~ changed ~ ")::bigint, (" ~ share ~ ")::numeric) as due (size, changed, share)") }}
{% endmacro %}


{#- The full comparison's shrink guard, one rule for both publications (publish_exposures, and
    publish_changes after a full build): why publishing `rows` rows of an exposure into a table
    holding `current` is refused, or none. -#}
{% macro shrink_refusal(item, rows, current, min_ratio) %}
    {%- if (rows == 0 and not item.may_be_empty) or rows < min_ratio * current -%}
        {{ return(item.model ~ " has " ~ rows ~ " rows, public." ~ item.table ~ " has " ~ current
            ~ (" (and may not be empty)" if rows == 0 and not item.may_be_empty else "")) }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}
