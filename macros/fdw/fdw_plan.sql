{#-
    PL/pgSQL statements that import the remote tables of `link` into a scratch schema and
    compare them with the foreign tables imported now. They expect the variables declared by
    fdw_plan_declarations() and leave the difference in v_plan (a jsonb array of
    {table, action: add|remove|change|keep, detail}). Nothing is moved: callers decide.
-#}
{% macro fdw_plan_declarations(link) %}
    v_server text := {{ fdw_literal(link.server) }};
    v_schema text := {{ fdw_literal(link.local_schema) }};
    v_remote_schema text := {{ fdw_literal(link.remote_schema) }};
    v_tables text[] := {{ fdw_text_array(link.tables) }};
    v_scratch text := {{ fdw_literal(link.local_schema) }} || '__plan_' || pg_backend_pid();
    v_plan jsonb := '[]'::jsonb;
    v_remote_missing boolean := false;
{% endmacro %}


{% macro fdw_plan_statements() %}
    execute format('create schema %I', v_scratch);
    if cardinality(v_tables) > 0 then
        begin
            execute format(
                'import foreign schema %I limit to (%s) from server %I into %I',
                v_remote_schema,
                (select string_agg(format('%I', t), ', ') from unnest(v_tables) as t),
                v_server, v_scratch
            );
        exception when sqlstate 'HV00Q' then  -- fdw_schema_not_found
            v_remote_missing := true;
        end;
    end if;
    with columns_of as (
        select n.nspname as schema_name, c.relname as table_name, a.attname as column_name,
            format_type(a.atttypid, a.atttypmod) || case when a.attnotnull then ' not null' else '' end
                as column_type
        from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where c.relkind = 'f' and n.nspname in (v_schema, v_scratch)
    ),
    current_columns as (select * from columns_of where schema_name = v_schema),
    next_columns as (select * from columns_of where schema_name = v_scratch),
    column_changes as (
        select coalesce(cur.table_name, nxt.table_name) as table_name,
            case
                when cur.column_name is null then format('column %s added (%s)', nxt.column_name, nxt.column_type)
                when nxt.column_name is null then format('column %s removed', cur.column_name)
                when cur.column_type <> nxt.column_type
                    then format('column %s retyped %s -> %s', cur.column_name, cur.column_type, nxt.column_type)
            end as change
        from current_columns as cur
        full outer join next_columns as nxt
            on nxt.table_name = cur.table_name and nxt.column_name = cur.column_name
    ),
    table_names as (
        select distinct table_name, schema_name = v_schema as is_current, schema_name = v_scratch as is_next
        from columns_of
    ),
    tables_compared as (
        select table_name, bool_or(is_current) as is_current, bool_or(is_next) as is_next
        from table_names group by table_name
    )
    select coalesce(jsonb_agg(jsonb_build_object(
        'table', t.table_name,
        'action', case
            when not t.is_current then 'add'
            when not t.is_next and v_remote_missing then 'keep'
            when not t.is_next then 'remove'
            when exists (select from column_changes as cc where cc.table_name = t.table_name and cc.change is not null)
                then 'change'
            else 'keep' end,
        'detail', coalesce((select string_agg(cc.change, '; ' order by cc.change) from column_changes as cc
            where cc.table_name = t.table_name and cc.change is not null and t.is_current and t.is_next), '')
    ) order by t.table_name), '[]'::jsonb)
    into v_plan
    from tables_compared as t;
{% endmacro %}
