{#-
    SQL granting the other side's reader role SELECT on exactly what the target's database
    exposes: on the webapp, the tables the warehouse's dbt sources declare; on the warehouse,
    the exposure schemas (tables created later included, through default privileges).
    One DO statement, so the revoke and the grants land together.
-#}
{% macro fdw_grant_readers_sql() %}
    {%- set reader = var('fdw_reader_roles')[target.name] -%}
    {%- if target.name == 'warehouse' -%}
do $grants$
declare
    v_schema text;
begin
    perform set_config('lock_timeout', {{ fdw_literal(var('fdw_lock_timeout')) }}, true);
    foreach v_schema in array {{ fdw_text_array(var('exposure_schemas')) }} loop
        execute format('create schema if not exists %I', v_schema);
        execute format('grant usage on schema %I to %I, analyst', v_schema, {{ fdw_literal(reader) }});
        execute format('grant select on all tables in schema %I to %I, analyst', v_schema, {{ fdw_literal(reader) }});
        execute format('alter default privileges in schema %I grant select on tables to %I, analyst',
            v_schema, {{ fdw_literal(reader) }});
    end loop;
end
$grants$
    {%- else -%}
do $grants$
declare
    v_table text;
begin
    perform set_config('lock_timeout', {{ fdw_literal(var('fdw_lock_timeout')) }}, true);
    execute format('grant usage on schema public to %I', {{ fdw_literal(reader) }});
    execute format('revoke all on all tables in schema public from %I', {{ fdw_literal(reader) }});
    foreach v_table in array {{ fdw_text_array(fdw_remote_tables(var('fdw_links')['warehouse'])) }} loop
        if to_regclass(format('public.%I', v_table)) is not null then
            execute format('grant select on public.%I to %I', v_table, {{ fdw_literal(reader) }});
        end if;
    end loop;
end
$grants$
    {%- endif -%}
{% endmacro %}
