{#-
    dbt run-operation refresh_fdw --target warehouse|webapp|webapp_sample [--args '{dry_run: true, cascade: true}']

    The single entry point of the links, run at every deployment. For the target's own
    database it (1) grants the other side's reader role SELECT on exactly what this side
    exposes, then (2) creates or updates the read-only link to the other side: server, user
    mapping and the foreign tables, applying only the difference with the remote catalog.
    Everything happens in one statement (one transaction): a failure changes nothing.
-#}
{% macro refresh_fdw(dry_run=false, cascade=false) %}
    {%- set link = fdw_link() -%}
    {%- set grants_sql = fdw_grant_readers_sql() -%}
    {%- if not dry_run -%}
        {%- do run_query(grants_sql) -%}
    {%- endif -%}
    {%- do run_query(fdw_refresh_sql(link, dry_run, cascade)) -%}
    {%- set plan = fromjson(run_query("select current_setting('lacarte.fdw_plan')").columns[0].values()[0]) -%}
    {%- do fdw_print_plan(link, plan, dry_run) -%}
{% endmacro %}


{% macro fdw_refresh_sql(link, dry_run, cascade) %}
do $refresh$
declare
    {{ fdw_plan_declarations(link) }}
    v_options jsonb := {{ fdw_literal(tojson(link.options)) }}::jsonb;
    v_remote_user text := {{ fdw_literal(link.remote_user) }};
    v_password text := nullif(current_setting({{ fdw_literal(link.password_setting) }}, true), '');
    v_dry_run boolean := {{ 'true' if dry_run else 'false' }};
    v_cascade boolean := {{ 'true' if cascade else 'false' }};
    v_actions jsonb := '[]'::jsonb;
    v_key text;
    v_value text;
    v_current text;
    v_mapping text[];
    v_item jsonb;
    v_dependents text;
    v_refused text[] := '{}';
begin
    perform set_config('lock_timeout', {{ fdw_literal(var('fdw_lock_timeout')) }}, true);
    -- One refresh of a schema at a time (waits at most lock_timeout).
    perform pg_advisory_xact_lock(hashtext('lacarte.refresh_fdw.' || v_schema));
    begin
        -- The server, its options set to what the configuration says.
        if not exists (select from pg_foreign_server where srvname = v_server) then
            execute format('create server %I foreign data wrapper postgres_fdw', v_server);
            v_actions := v_actions || jsonb_build_object('object', 'server ' || v_server, 'action', 'created');
        end if;
        for v_key, v_value in select key, value from jsonb_each_text(v_options) loop
            select option_value into v_current
            from pg_options_to_table((select srvoptions from pg_foreign_server where srvname = v_server))
            where option_name = v_key;
            if v_current is null then
                execute format('alter server %I options (add %I %L)', v_server, v_key, v_value);
            elsif v_current is distinct from v_value then
                execute format('alter server %I options (set %I %L)', v_server, v_key, v_value);
            end if;
            if v_current is distinct from v_value then
                v_actions := v_actions || jsonb_build_object('object', 'server option ' || v_key,
                    'action', coalesce(v_current, '(none)') || ' -> ' || v_value);
            end if;
        end loop;

        -- The user mapping; the password comes from a session setting, never from SQL text.
        select umoptions into v_mapping from pg_user_mappings
        where srvname = v_server and usename = current_user;
        if not found then
            if v_password is null then
                raise exception using
                    message = format('no user mapping for %s on server %s and no password to create it', current_user, v_server),
                    hint = format('run `python scripts/deploy.py`, or export PGOPTIONS="-c %s=<password of %s>" before dbt',
                        {{ fdw_literal(link.password_setting) }}, v_remote_user);
            end if;
            begin
                execute format('create user mapping for current_user server %I options (user %L, password %L)',
                    v_server, v_remote_user, v_password);
            exception when others then
                raise exception 'could not create the user mapping for server %: %', v_server, sqlerrm;
            end;
            v_actions := v_actions || jsonb_build_object('object', 'user mapping', 'action', 'created for ' || v_remote_user);
        else
            if not (format('user=%s', v_remote_user) = any(v_mapping)) then
                execute format('alter user mapping for current_user server %I options (set user %L)', v_server, v_remote_user);
                v_actions := v_actions || jsonb_build_object('object', 'user mapping', 'action', 'user -> ' || v_remote_user);
            end if;
            if v_password is not null and not (format('password=%s', v_password) = any(v_mapping)) then
                begin
                    if exists (select from unnest(v_mapping) as o where o like 'password=%') then
                        execute format('alter user mapping for current_user server %I options (set password %L)', v_server, v_password);
                    else
                        execute format('alter user mapping for current_user server %I options (add password %L)', v_server, v_password);
                    end if;
                exception when others then
                    raise exception 'could not update the user mapping for server %: %', v_server, sqlerrm;
                end;
                v_actions := v_actions || jsonb_build_object('object', 'user mapping', 'action', 'password updated');
            end if;
        end if;

        execute format('create schema if not exists %I', v_schema);
        execute format('revoke all on schema %I from public', v_schema);

        {{ fdw_plan_statements() }}

        -- Refuse to drop what other objects are built on, unless cascade was asked for.
        for v_item in select value from jsonb_array_elements(v_plan)
                where value->>'action' in ('remove', 'change') loop
            select string_agg(distinct dn.nspname || '.' || dc.relname, ', ') into v_dependents
            from pg_depend as d
            join pg_rewrite as rw on rw.oid = d.objid
            join pg_class as dc on dc.oid = rw.ev_class
            join pg_namespace as dn on dn.oid = dc.relnamespace
            where d.refobjid = format('%I.%I', v_schema, v_item->>'table')::regclass
                and dc.oid <> d.refobjid;
            if v_dependents is not null and not v_cascade and v_dry_run then
                v_plan := (select jsonb_agg(case when item->>'table' = v_item->>'table'
                    then jsonb_set(item, '{detail}', to_jsonb(concat_ws('; ', nullif(item->>'detail', ''),
                        'refused without cascade: ' || v_dependents || ' depend on it')))
                    else item end) from jsonb_array_elements(v_plan) as item);
                v_refused := v_refused || (v_item->>'table');
                continue;
            end if;
            if v_dependents is not null and not v_cascade then
                raise exception using
                    message = format('%s.%s must be %s but these objects depend on it: %s',
                        v_schema, v_item->>'table', case v_item->>'action' when 'remove' then 'removed' else 're-imported' end,
                        v_dependents),
                    hint = 'drop them first, or rerun with --args ''{cascade: true}'' to drop them with it';
            end if;
            execute format('drop foreign table %I.%I %s', v_schema, v_item->>'table',
                case when v_cascade then 'cascade' else 'restrict' end);
        end loop;
        for v_item in select value from jsonb_array_elements(v_plan)
                where value->>'action' in ('add', 'change') and not (value->>'table' = any(v_refused)) loop
            execute format('alter foreign table %I.%I set schema %I', v_scratch, v_item->>'table', v_schema);
        end loop;
        execute format('drop schema %I cascade', v_scratch);

        if v_dry_run then
            raise exception using errcode = 'LCDRY', message = 'dry run';
        end if;
    exception when sqlstate 'LCDRY' then
        null;  -- a dry run: every change above is rolled back, the plan is kept
    end;
    perform set_config('lacarte.fdw_plan', jsonb_build_object(
        'objects', v_actions, 'tables', v_plan, 'remote_missing', v_remote_missing)::text, false);
end
$refresh$
{% endmacro %}


{% macro fdw_print_plan(link, plan, dry_run) %}
    {%- set prefix = '[dry run] would apply' if dry_run else 'applied' -%}
    {%- set changed = plan.tables | rejectattr('action', 'equalto', 'keep') | list -%}
    {%- set kept = plan.tables | selectattr('action', 'equalto', 'keep') | list -%}
    {{ print("refresh_fdw (" ~ link.target ~ "): " ~ link.server ~ " -> " ~ link.options.host ~ ":"
             ~ link.options.port ~ "/" ~ link.options.dbname ~ "." ~ link.remote_schema
             ~ " into schema " ~ link.local_schema) }}
    {%- for item in plan.objects %}
    {{ print("  " ~ prefix ~ ": " ~ item.object ~ ": " ~ item.action) }}
    {%- endfor %}
    {%- for item in changed %}
    {{ print("  " ~ prefix ~ ": " ~ item.action ~ " " ~ item.table ~ (" (" ~ item.detail ~ ")" if item.detail else "")) }}
    {%- endfor %}
    {%- if plan.remote_missing %}
    {{ print("  remote schema " ~ link.remote_schema ~ " does not exist yet: nothing imported (run dbt build, then refresh again)") }}
    {%- endif %}
    {{ print("  " ~ changed | length ~ " table(s) changed, " ~ kept | length ~ " unchanged") }}
{% endmacro %}
