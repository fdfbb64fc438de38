{#- dbt run-operation fdw_status --target warehouse|webapp|webapp_sample -#}
{% macro fdw_status(fail_on_drift=false) %}
    {%- set link = fdw_link() -%}
    {%- set server = run_query(
        "select s.srvname, array_to_string(s.srvoptions, ', '), "
        ~ "(select string_agg(o, ', ') from unnest(um.umoptions) as o where o like 'user=%') "
        ~ "from pg_foreign_server as s left join pg_user_mappings as um "
        ~ "on um.srvid = s.oid and um.usename = current_user where s.srvname = " ~ fdw_literal(link.server)) -%}
    {%- if server.rows | length == 0 -%}
        {{ print("server " ~ link.server ~ ": absent. Run: dbt run-operation refresh_fdw --target " ~ link.target) }}
        {%- if fail_on_drift -%}
            {{ exceptions.raise_compiler_error("no link for target " ~ target.name ~ ". Run: dbt run-operation refresh_fdw --target " ~ target.name) }}
        {%- endif -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set row = server.rows[0] -%}
    {{ print("server " ~ row[0] ~ " (" ~ row[1] ~ ")") }}
    {{ print("mapped remote user: " ~ (row[2] or "none: no user mapping for " ~ target.user)) }}
    {%- set tables = run_query(
        "select c.relname, (select count(*) from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 "
        ~ "and not a.attisdropped) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        ~ "where c.relkind = 'f' and n.nspname = " ~ fdw_literal(link.local_schema) ~ " order by 1") -%}
    {{ print("imported into " ~ link.local_schema ~ ": " ~ tables.rows | length ~ " table(s)") }}
    {%- for t in tables.rows %}
    {{ print("  " ~ t[0] ~ " (" ~ t[1] ~ " columns)") }}
    {%- endfor %}
    {%- set drift = fdw_drift(link) -%}
    {{ print("drift: " ~ ("none" if not drift else drift | join("; "))) }}
    {%- if drift and fail_on_drift -%}
        {{ exceptions.raise_compiler_error("the link of target " ~ target.name ~ " has drifted: " ~ (drift | join("; "))
            ~ ". Run: dbt run-operation refresh_fdw --target " ~ target.name) }}
    {%- endif -%}
{% endmacro %}
