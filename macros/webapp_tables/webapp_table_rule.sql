{#- The rule of a webapp table (var webapp_tables): its exact entry, else the first pattern
    that matches (`*` matches any characters), else none. -#}
{% macro webapp_table_rule(table) %}
    {%- set rules = var('webapp_tables') -%}
    {%- if table in rules.tables -%}
        {{ return(rules.tables[table]) }}
    {%- endif -%}
    {%- for entry in rules.patterns -%}
        {%- set regex = '^' ~ modules.re.escape(entry.match).replace('\\*', '.*') ~ '$' -%}
        {%- if modules.re.match(regex, table) -%}
            {{ return(entry) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{% endmacro %}


{#- Raise, naming them, when any of `tables` holds personal data or is excluded: such tables
    are never linked, whatever the dbt sources declare. -#}
{% macro refuse_unlinkable_tables(tables, what) %}
    {%- set refused = [] -%}
    {%- for table in tables -%}
        {%- set rule = webapp_table_rule(table) -%}
        {%- if rule and rule.rule in ('personal', 'excluded') -%}
            {%- do refused.append(table ~ " (" ~ rule.rule ~ ")") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if refused -%}
        {{ exceptions.raise_compiler_error(
            what ~ " include(s) " ~ (refused | join(', ')) ~ ": personal and excluded tables (var webapp_tables) "
            ~ "are never linked; remove them from the dbt sources. Nothing was done") }}
    {%- endif -%}
{% endmacro %}
