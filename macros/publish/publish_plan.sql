{#- The exposure models that fill a webapp table, from the graph: each declares in
    `config.meta.publish` the table it fills and its place in the order of publication; its
    key is its primary-key constraint. Returns them in order. -#}
{% macro published_exposures() %}
    {%- set found = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.meta.get('publish') -%}
        {%- set publish = node.config.meta.publish -%}
        {%- set keys = node.constraints | selectattr('type', 'equalto', 'primary_key') | list -%}
        {%- if keys | length != 1 -%}
            {{ exceptions.raise_compiler_error("exposure model " ~ node.name
                ~ " must have exactly one primary_key constraint: it is the key of its publication") }}
        {%- endif -%}
        {%- do found.append({
            'model': node.alias or node.name,
            'table': publish.table,
            'order': publish.order,
            'key': keys[0].columns,
            'acteur_column': node.config.meta.acteur if node.config.meta.acteur is string else none,
            'acteur': node.config.meta.acteur,
            'schema': node.schema,
            'may_be_empty': publish.get('may_be_empty', false),
        }) -%}
    {%- endfor -%}
    {{ return(found | sort(attribute='order')) }}
{% endmacro %}


{#- The columns of a table as {name: {type, not_null, has_default}} from the live catalog. -#}
{% macro publish_columns(schema, table) %}
    {%- set result = run_query("
select
    a.attname,
    format_type(a.atttypid, a.atttypmod),
    a.attnotnull,
    a.atthasdef or a.attidentity <> ''
from pg_attribute as a
where a.attrelid = to_regclass(format('%I.%I', " ~ sql_literal(schema) ~ ", " ~ sql_literal(table) ~ "))
    and a.attnum > 0 and not a.attisdropped
order by a.attnum") -%}
    {%- set columns = {} -%}
    {%- for row in result.rows -%}
        {%- do columns.update({row[0]: {'type': row[1], 'not_null': row[2], 'has_default': row[3]}}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}


{#- A column compared by value: geographies by their exact binary form. -#}
{% macro publish_compared(alias, column, type) -%}
    {{ alias }}.{{ adapter.quote(column) }}{{ '::bytea' if type.startswith('geography') or type.startswith('geometry') else '' }}
{%- endmacro %}


{#- For a publication restricted to the sampled actors: the condition keeping an exposure's
    rows. A table with an actor column keeps the actors the database holds (the tables of rule
    `acteurs` keyed by identifiant_unique); another follows its foreign key to a table
    published before it. -#}
{% macro publish_restriction(item, done) %}
    {%- if item.acteur_column -%}
        {%- set holders = [] -%}
        {%- for table, rule in var('webapp_tables').tables.items()
              if rule.rule == 'acteurs' and rule.column == 'identifiant_unique' -%}
            {%- do holders.append("select identifiant_unique from public." ~ adapter.quote(table)) -%}
        {%- endfor -%}
        {{ return(adapter.quote(item.acteur_column) ~ " in (" ~ (holders | join(' union ')) ~ ")") }}
    {%- endif -%}
    {%- set fks = run_query("
select
    a.attname as column_name,
    confrel.relname as referenced_table,
    fa.attname as referenced_column
from pg_constraint as c
inner join pg_class as confrel on c.confrelid = confrel.oid
inner join pg_attribute as a on c.conrelid = a.attrelid and c.conkey[1] = a.attnum
inner join pg_attribute as fa on c.confrelid = fa.attrelid and c.confkey[1] = fa.attnum
where c.contype = 'f' and cardinality(c.conkey) = 1
    and c.conrelid = to_regclass(format('public.%I', " ~ sql_literal(item.table) ~ "))
order by 1") -%}
    {%- for fk in fks.rows if fk[1] in done -%}
        {{ return(adapter.quote(fk[0]) ~ " in (select " ~ adapter.quote(fk[2]) ~ " from "
            ~ adapter.quote('publish_next_' ~ fk[1]) ~ ")") }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("cannot restrict " ~ item.model ~ " to the sampled actors: give it "
        ~ "meta.acteur (its actor column), or a foreign key to a table published before it") }}
{% endmacro %}


{#- Quoted column names, optionally qualified: "a", "b" or nxt."a", nxt."b". -#}
{% macro quoted_columns(columns, alias=none) -%}
    {%- for column in columns -%}
        {{ alias ~ '.' if alias else '' }}{{ adapter.quote(column) }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- Publication reads the exposures through the link: a link that differs from what a refresh
    would make it stops it before anything changes. -#}
{% macro refuse_drifted_link(link) %}
    {%- set drift = fdw_drift(link) -%}
    {%- if drift -%}
        {{ exceptions.raise_compiler_error(
            "the link to the warehouse's exposures differs from what a refresh would make it: " ~ (drift | join('; '))
            ~ ". Run: dbt run-operation refresh_fdw --target " ~ target.name ~ " (nothing was published)") }}
    {%- endif -%}
{% endmacro %}


{#- The columns a publication writes into public.<table>: those of the exposure, in the
    table's order; an error, changing nothing, when the table or the exposure is missing, when
    the exposure has a column the table lacks, or when the table has a NOT NULL column without
    default that the exposure does not fill. -#}
{% macro publish_checked_columns(link, item) %}
    {%- set target_columns = publish_columns('public', item.table) -%}
    {%- set exposure_columns = publish_columns(link.local_schema, item.model) -%}
    {%- if not target_columns -%}
        {{ exceptions.raise_compiler_error("table public." ~ item.table ~ " (filled by " ~ item.model
            ~ ") does not exist in the webapp; nothing was published") }}
    {%- endif -%}
    {%- if not exposure_columns -%}
        {{ exceptions.raise_compiler_error(link.local_schema ~ "." ~ item.model ~ " is missing: run dbt build on the "
            ~ "warehouse, then dbt run-operation refresh_fdw --target " ~ target.name ~ "; nothing was published") }}
    {%- endif -%}
    {%- set unknown = exposure_columns.keys() | reject('in', target_columns.keys()) | list -%}
    {%- if unknown -%}
        {{ exceptions.raise_compiler_error(item.model ~ " has column(s) " ~ (unknown | join(', ')) ~ " that public."
            ~ item.table ~ " lacks (a migration renamed or dropped them?): update the model; nothing was published") }}
    {%- endif -%}
    {%- set unfilled = [] -%}
    {%- for name, column in target_columns.items()
          if column.not_null and not column.has_default and name not in exposure_columns -%}
        {%- do unfilled.append(name) -%}
    {%- endfor -%}
    {%- if unfilled -%}
        {{ exceptions.raise_compiler_error("public." ~ item.table ~ " has NOT NULL column(s) without default "
            ~ (unfilled | join(', ')) ~ " that " ~ item.model ~ " does not provide: add them to the model; nothing was published") }}
    {%- endif -%}
    {{ return({'target': target_columns, 'columns': target_columns.keys() | select('in', exposure_columns.keys()) | list}) }}
{% endmacro %}
