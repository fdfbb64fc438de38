{#- dbt run-operation fdw_status --target warehouse|webapp|webapp_sample [--args '{fail_on_drift: true}']

    The server, its options and last refresh, the mapped remote user, the imported tables, and
    the drift: every statement a refresh would run (an option changed by hand, a table changed
    by a migration…), planned in a transaction that is always rolled back. -#}
{% macro fdw_status(fail_on_drift=false) %}
    {%- set fail_on_drift = boolean_argument('fail_on_drift', fail_on_drift) -%}
    {%- set link = fdw_link() -%}
    {%- set server = run_query(
        "select s.srvname, coalesce(s.srvversion, ''), array_to_string(s.srvoptions, ', '), "
        ~ "(select string_agg(o, ', ') from unnest(um.umoptions) as o where o like 'user=%') "
        ~ "from pg_foreign_server as s left join pg_user_mappings as um "
        ~ "on s.oid = um.srvid and um.usename = current_user where s.srvname = " ~ sql_literal(link.server)) -%}
    {%- if server.rows | length == 0 -%}
        {{ print("server " ~ link.server ~ ": absent. Run: lacarte deploy") }}
        {%- if fail_on_drift -%}
            {{ exceptions.raise_compiler_error("no link for target " ~ target.name ~ ". Run: lacarte deploy") }}
        {%- endif -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set row = server.rows[0] -%}
    {{ print("server " ~ row[0] ~ " (" ~ row[2] ~ ")" ~ (", " ~ row[1] if row[1] else "")) }}
    {{ print("mapped remote user: " ~ (row[3] or "none: no user mapping for " ~ target.user)) }}
    {%- set tables = run_query(
        "select c.relname, (select count(*) from pg_attribute as a where a.attrelid = c.oid and a.attnum > 0 "
        ~ "and not a.attisdropped) from pg_class as c inner join pg_namespace as n on c.relnamespace = n.oid "
        ~ "where c.relkind = 'f' and n.nspname = " ~ sql_literal(link.local_schema) ~ " order by 1") -%}
    {{ print("imported into " ~ link.local_schema ~ ": " ~ tables.rows | length ~ " table(s)") }}
    {%- for t in tables.rows %}
    {{ print("  " ~ t[0] ~ " (" ~ t[1] ~ " columns)") }}
    {%- endfor %}
    {%- set drift = fdw_drift(link) -%}
    {{ print("drift: " ~ ("none" if not drift else drift | join("; "))) }}
    {%- if drift and fail_on_drift -%}
        {{ exceptions.raise_compiler_error("the link of target " ~ target.name ~ " has drifted: " ~ (drift | join("; "))
            ~ ". Run: lacarte deploy") }}
    {%- endif -%}
{% endmacro %}


{#- What a refresh of `link` would change, as sentences (planned, then rolled back). -#}
{% macro fdw_drift(link) %}
    {%- do fdw_open(link, lock=false) -%}
    {%- set plan = fdw_plan_and_run(link, cascade=false) -%}
    {%- do run_query("rollback") -%}
    {{ return(plan.statements | selectattr('change') | map(attribute='change') | list) }}
{% endmacro %}
