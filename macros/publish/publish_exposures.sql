{#-
    dbt run-operation publish_exposures --target webapp|webapp_sample [--args '{min_ratio: 0.5, dry_run: true}']

    Makes the webapp tables that the exposure models fill (meta.publish) equal to the
    exposures read through the link, in one transaction, writing only the difference:
      1. each exposure is copied into a temporary table (nothing of the webapp is locked yet)
         and checked: columns the table needs, the shrink guard;
      2. rows that went are deleted (children first), rows that changed are updated and new
         rows inserted (parents first), by column name.
    The tables stay (constraints, indexes, foreign keys in and out): readers see the old
    content until commit, then the new one, and are never blocked (only rows are locked).
    On webapp_sample the exposures are restricted to the actors the sample holds.
-#}
{% macro publish_exposures(min_ratio=none, dry_run=false, record=none) %}
    {%- set min_ratio = number_argument('min_ratio', var('publish_min_ratio') if min_ratio is none else min_ratio, 0, 1) -%}
    {%- set dry_run = boolean_argument('dry_run', dry_run) -%}
    {%- set link = fdw_link() -%}
    {%- do refuse_drifted_link(link) -%}
    {%- set restricted = link.publish_scope == 'sampled' -%}
    {%- set statements = [] -%}
    {%- set report = [] -%}
    {%- set published = published_exposures() -%}
    {%- do run_query("begin") -%}
    {%- do run_query("set local lock_timeout = " ~ sql_literal(var('publish_lock_timeout'))) -%}
    {#- Whole-set differences: a nested loop over a table with stale statistics (emptied, not
        yet vacuumed) would rescan it once per row. -#}
    {%- do run_query("set local enable_nestloop = off") -%}
    {%- set done = [] -%}
    {%- set plans = {} -%}
    {%- set refusals = [] -%}
    {%- for item in published -%}
        {%- set plan = publish_prepare(link, item, restricted, done, min_ratio) -%}
        {%- do plans.update({item.table: plan}) -%}
        {%- do statements.extend(plan.statements) -%}
        {%- do refusals.extend(plan.refusals) -%}
        {%- do done.append(item.table) -%}
    {%- endfor -%}
    {%- if refusals -%}
        {%- do run_query("rollback") -%}
        {{ exceptions.raise_compiler_error("refused: " ~ (refusals | join('; '))
            ~ " (minimum share " ~ min_ratio ~ " of the rows each table has now; a table may be empty only if its model "
            ~ "says meta.publish.may_be_empty). Nothing was published: check the warehouse build; to publish anyway, "
            ~ "--args '{min_ratio: 0}'") }}
    {%- endif -%}
    {%- set counts = {} -%}
    {%- for item in published | reverse -%}
        {%- set sql -%}
with deleted as (
    delete from public.{{ adapter.quote(item.table) }} as cur
    where
        not exists (
            select from {{ plans[item.table].next }} as nxt
            where {{ plans[item.table].key_match }}
        )
    returning 1
)

select count(*) from deleted
        {%- endset -%}
        {%- do statements.append(sql) -%}
        {%- do counts.update({item.table ~ '.deleted': run_query(sql).columns[0].values()[0]}) -%}
    {%- endfor -%}
    {%- for item in published -%}
        {%- set plan = plans[item.table] -%}
        {%- set updated = 0 -%}
        {%- if plan.value_columns -%}
            {%- set sql -%}
with updated as (
    update public.{{ adapter.quote(item.table) }} as cur
    set ({{ quoted_columns(plan.value_columns) }}) = row({{ quoted_columns(plan.value_columns, 'nxt') }})
    from {{ plan.next }} as nxt
    where {{ plan.key_match }}
        and ({{ plan.current_values }}) is distinct from ({{ plan.next_values }})
    returning 1
)

select count(*) from updated
            {%- endset -%}
            {%- do statements.append(sql) -%}
            {%- set updated = run_query(sql).columns[0].values()[0] -%}
        {%- endif -%}
        {%- set sql -%}
with inserted as (
    insert into public.{{ adapter.quote(item.table) }} ({{ quoted_columns(plan.columns) }})
    select {{ quoted_columns(plan.columns, 'nxt') }}
    from {{ plan.next }} as nxt
    where
        not exists (
            select from public.{{ adapter.quote(item.table) }} as cur
            where {{ plan.key_match }}
        )
    returning 1
)

select count(*) from inserted
        {%- endset -%}
        {%- do statements.append(sql) -%}
        {%- set inserted = run_query(sql).columns[0].values()[0] -%}
        {%- do report.append({'table': item.table, 'rows': plan.rows, 'inserted': inserted, 'updated': updated,
                              'deleted': counts[item.table ~ '.deleted']}) -%}
    {%- endfor -%}
    {%- if record and not dry_run -%}
        {%- do run_query(publication_record_sql(record, 'reconcile', report)) -%}
    {%- endif -%}
    {%- if not dry_run -%}
        {%- set sizes = {} -%}
        {%- for item in published -%}
            {%- do sizes.update({item.table: [plans[item.table].current, plans[item.table].rows] | max}) -%}
        {%- endfor -%}
        {%- do analyze_published(report, sizes) -%}
    {%- endif -%}
    {%- do run_query("rollback" if dry_run else "commit") -%}
    {{ print("publish_exposures (" ~ target.name ~ "): " ~ link.local_schema ~ " -> public"
             ~ (", restricted to the sampled actors" if restricted else "") ~ (" [dry run: nothing was changed]" if dry_run else "")) }}
    {%- for row in report %}
    {{ print("  " ~ row.table ~ ": " ~ row.rows ~ " rows (+" ~ row.inserted ~ " ~" ~ row.updated ~ " -" ~ row.deleted ~ ")") }}
    {%- endfor %}
    {%- if dry_run %}
    {{ print("  statements it would run:") }}
    {%- for sql in statements %}
    {{ print("    " ~ sql ~ ";") }}
    {%- endfor %}
    {%- endif %}
{% endmacro %}


{#- Copy one exposure into a temporary table and check it; returns what the apply needs. -#}
{% macro publish_prepare(link, item, restricted, done, min_ratio) %}
    {%- set checked = publish_checked_columns(link, item) -%}
    {%- set target_columns, columns = checked.target, checked.columns -%}
    {%- set next = adapter.quote('publish_next_' ~ item.table) -%}
    {%- set statements = [] -%}
    {%- set sql -%}
create temp table {{ next }} on commit drop as
select {{ quoted_columns(columns) }}
from {{ adapter.quote(link.local_schema) }}.{{ adapter.quote(item.model) }}
{%- if restricted %}
where {{ publish_restriction(item, done) }}
{%- endif %}
    {%- endset -%}
    {%- do run_query(sql) -%}
    {%- do statements.append(sql) -%}
    {%- set rows = run_query("select count(*) from " ~ next).columns[0].values()[0] -%}
    {%- set current = run_query("select count(*) from public." ~ adapter.quote(item.table)).columns[0].values()[0] -%}
    {%- set refusals = [] -%}
    {%- set refusal = none if restricted else shrink_refusal(item, rows, current, min_ratio) -%}
    {%- if refusal -%}
        {%- do refusals.append(refusal) -%}
    {%- endif -%}
    {%- do run_query("create index on " ~ next ~ " (" ~ quoted_columns(item.key) ~ ")") -%}
    {%- do run_query("analyze " ~ next) -%}
    {%- do run_query("analyze public." ~ adapter.quote(item.table)) -%}
    {%- set key_match = [] -%}
    {%- for k in item.key -%}
        {%- do key_match.append("cur." ~ adapter.quote(k) ~ " = nxt." ~ adapter.quote(k)) -%}
    {%- endfor -%}
    {%- set value_columns = columns | reject('in', item.key) | list -%}
    {%- set current_values = [] -%}
    {%- set next_values = [] -%}
    {%- for c in value_columns -%}
        {%- do current_values.append(publish_compared('cur', c, target_columns[c].type)) -%}
        {%- do next_values.append(publish_compared('nxt', c, target_columns[c].type)) -%}
    {%- endfor -%}
    {{ return({'next': next, 'columns': columns, 'value_columns': value_columns, 'rows': rows, 'current': current,
               'key_match': key_match | join(' and '), 'current_values': current_values | join(', '),
               'next_values': next_values | join(', '), 'statements': statements, 'refusals': refusals}) }}
{% endmacro %}
