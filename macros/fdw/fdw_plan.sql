{#-
    The plan of a link: the statements that make it match the configuration and the remote
    catalog. Each plan query returns rows that render the exact statement to run; nothing
    here commits. Callers run the plan inside a transaction they open (fdw_open) and end.
-#}

{#- Open the transaction of a refresh or a check; `lock`: wait (lock_timeout) for any other
    refresh of the same server to commit, by updating the server's catalog row, which reader
    roles cannot touch. -#}
{% macro fdw_open(link, lock) %}
    {%- do run_query("begin") -%}
    {%- do run_query("set local lock_timeout = " ~ sql_literal(var('fdw_lock_timeout'))) -%}
    {%- set server_exists = run_query("select count(*) from pg_foreign_server where srvname = "
        ~ sql_literal(link.server)).columns[0].values()[0] > 0 -%}
    {%- if lock and server_exists -%}
        {%- do run_query("alter server " ~ adapter.quote(link.server) ~ " version "
            ~ sql_literal('refreshed ' ~ modules.datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%M:%SZ'))) -%}
    {%- endif -%}
{% endmacro %}


{#- Run a plan query; return its rows' statements (column `statement`) and changes (`change`). -#}
{% macro fdw_plan_rows(query) %}
    {%- set result = run_query(query) -%}
    {%- set rows = [] -%}
    {%- for row in result.rows -%}
        {%- do rows.append({'statement': row['statement'], 'change': row['change']}) -%}
    {%- endfor -%}
    {{ return(rows) }}
{% endmacro %}


{#- Statements creating the server or setting its options to the configuration (an option
    the configuration does not name is dropped: a tampered link is reset). -#}
{% macro fdw_plan_server(link) %}
    {{ return(fdw_plan_rows("
with configured as (
    select
        key as option_name,
        value as option_value
    from jsonb_each_text(" ~ sql_literal(tojson(link.options)) ~ "::jsonb)
),

server as (
    select
        srvname,
        srvoptions
    from pg_foreign_server
    where srvname = " ~ sql_literal(link.server) ~ "
),

current_options as (
    select
        options.option_name,
        options.option_value
    from server
    cross join lateral pg_options_to_table(server.srvoptions) as options
),

differences as (
    select
        coalesce(configured.option_name, current_options.option_name) as option_name,
        current_options.option_value as current_value,
        configured.option_value as configured_value
    from configured
    full outer join current_options on configured.option_name = current_options.option_name
    where configured.option_value is distinct from current_options.option_value
)

select
    format(
        'create server %I foreign data wrapper postgres_fdw options (%s)',
        " ~ sql_literal(link.server) ~ ",
        (select string_agg(format('%I %L', option_name, option_value), ', ' order by option_name) from configured)
    ) as statement,
    'server created' as change
where not exists (select from server)
union all
select
    case
        when current_value is null then format('alter server %I options (add %I %L)', " ~ sql_literal(link.server) ~ ", option_name, configured_value)
        when configured_value is null then format('alter server %I options (drop %I)', " ~ sql_literal(link.server) ~ ", option_name)
        else format('alter server %I options (set %I %L)', " ~ sql_literal(link.server) ~ ", option_name, configured_value)
    end,
    format('server option %s: %s -> %s', option_name, coalesce(current_value, '(none)'), coalesce(configured_value, '(none)'))
from differences
where exists (select from server)")) }}
{% endmacro %}


{#- Statements making the user mapping log in as the link's remote role with the password of
    the session setting `password_setting` (read inside a DO block, never in the SQL text);
    any other option of the mapping is dropped. -#}
{% macro fdw_plan_user_mapping(link) %}
    {%- set server = sql_literal(link.server) -%}
    {%- set setting = sql_literal(link.password_setting) -%}
    {%- set mapping = run_query("
select
    um.umid is not null as mapped,
    coalesce((
        select substr(option, 6) from unnest(um.umoptions) as option
        where option like 'user=%'
    ), '') as mapped_user,
    coalesce((
        select string_agg(split_part(option, '=', 1), ',' order by option) from unnest(um.umoptions) as option
        where split_part(option, '=', 1) not in ('user', 'password')
    ), '') as other_options,
    coalesce((select bool_or(option like 'password=%') from unnest(um.umoptions) as option), false) as has_password,
    coalesce(um.umoptions @> array['password=' || current_setting(" ~ setting ~ ", true)], false) as password_current,
    coalesce(current_setting(" ~ setting ~ ", true), '') <> '' as password_given
from pg_foreign_server as s
left join pg_user_mappings as um on s.oid = um.srvid and um.usename = current_user
where s.srvname = " ~ server).rows[0] -%}
    {%- set statements = [] -%}
    {%- set set_password -%}
do $mapping$ begin
    execute format('alter user mapping for current_user server %I options ({{ 'set' if mapping['has_password'] else 'add' }} password %L)',
        {{ server }}, current_setting({{ setting }}));
end $mapping$
    {%- endset -%}
    {%- if not mapping['mapped'] -%}
        {%- if not mapping['password_given'] -%}
            {{ exceptions.raise_compiler_error(
                "no user mapping for " ~ target.user ~ " on server " ~ link.server ~ " and no password to create it: "
                ~ "run `lacarte deploy` (it passes " ~ link.remote_user ~ "'s password as the session setting "
                ~ link.password_setting ~ ")") }}
        {%- endif -%}
        {%- set create -%}
do $mapping$ begin
    execute format('create user mapping for current_user server %I options (user %L, password %L)',
        {{ server }}, {{ sql_literal(link.remote_user) }}, current_setting({{ setting }}));
end $mapping$
        {%- endset -%}
        {%- do statements.append({'statement': create, 'change': 'user mapping created for ' ~ link.remote_user}) -%}
    {%- else -%}
        {%- for option in (mapping['other_options'].split(',') if mapping['other_options'] else []) -%}
            {%- do statements.append({
                'statement': "alter user mapping for current_user server " ~ adapter.quote(link.server)
                    ~ " options (drop " ~ adapter.quote(option) ~ ")",
                'change': 'user mapping option ' ~ option ~ ' dropped (not in the configuration)'}) -%}
        {%- endfor -%}
        {%- if mapping['mapped_user'] != link.remote_user -%}
            {%- do statements.append({
                'statement': "alter user mapping for current_user server " ~ adapter.quote(link.server)
                    ~ " options (" ~ ('set' if mapping['mapped_user'] else 'add') ~ " user " ~ sql_literal(link.remote_user) ~ ")",
                'change': 'user mapping user: ' ~ (mapping['mapped_user'] or '(none)') ~ ' -> ' ~ link.remote_user}) -%}
        {%- endif -%}
        {%- if mapping['password_given'] and not mapping['password_current'] -%}
            {%- do statements.append({'statement': set_password, 'change': 'user mapping password updated'}) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(statements) }}
{% endmacro %}


{#- Statements creating the local schema of the foreign tables, closed to PUBLIC. -#}
{% macro fdw_plan_schema(link) %}
    {{ return(fdw_plan_rows("
select
    format('create schema %I', " ~ sql_literal(link.local_schema) ~ ") as statement,
    'schema created' as change
where to_regnamespace(" ~ sql_literal(link.local_schema) ~ ") is null
union all
select
    format('revoke all on schema %I from public', " ~ sql_literal(link.local_schema) ~ "),
    'schema closed to public'
where to_regnamespace(" ~ sql_literal(link.local_schema) ~ ") is null
    or has_schema_privilege('public', " ~ sql_literal(link.local_schema) ~ ", 'usage')")) }}
{% endmacro %}


{#- On the webapp: the reader role of the warehouse's link may read exactly the tables the
    warehouse's sources declare (personal and excluded tables are refused before this). -#}
{% macro fdw_plan_grants(link) %}
    {%- if not link.grants_sources_to -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set reader = sql_literal(link.grants_sources_to) -%}
    {%- set sources = fdw_remote_tables(var('fdw_links')['warehouse']) -%}
    {%- do refuse_unlinkable_tables(sources, "the dbt sources of webapp") -%}
    {{ return(fdw_plan_rows("
with wanted as (
    select unnest(" ~ sql_text_array(sources) ~ ") as table_name
),

public_tables as (
    select
        c.oid,
        c.relname as table_name,
        c.relacl
    from pg_class as c
    where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f')
),

reader_privileges as (
    select
        public_tables.table_name,
        privileges.privilege_type
    from public_tables
    cross join lateral aclexplode(public_tables.relacl) as privileges
    where privileges.grantee = to_regrole(" ~ reader ~ ")
),

granted as (
    select distinct table_name from reader_privileges
)

select
    format('grant usage on schema public to %I', " ~ reader ~ ") as statement,
    'reader may enter schema public' as change
where not has_schema_privilege(" ~ reader ~ ", 'public', 'usage')
union all
select
    format('grant select on public.%I to %I', wanted.table_name, " ~ reader ~ "),
    format('reader granted %s', wanted.table_name)
from wanted
inner join public_tables on wanted.table_name = public_tables.table_name
where
    not exists (
        select from reader_privileges as p
        where p.table_name = wanted.table_name and p.privilege_type = 'SELECT'
    )
union all
select
    format('revoke all on public.%I from %I', granted.table_name, " ~ reader ~ "),
    format('reader revoked %s', granted.table_name)
from granted
where
    granted.table_name not in (select wanted.table_name from wanted)
    or exists (
        select from reader_privileges as p
        where p.table_name = granted.table_name and p.privilege_type <> 'SELECT'
    )")) }}
{% endmacro %}


{#- Import the link's remote tables into a scratch schema and compare them with the foreign
    tables in place: columns, types, NOT NULL, column and table options, server. Returns
    {rows: [{table, action (add | remove | change | keep), detail, dependents}], remote_missing}. -#}
{% macro fdw_compare_tables(link) %}
    {%- set pid = run_query("select pg_backend_pid()").columns[0].values()[0] -%}
    {%- set scratch = link.local_schema ~ '__plan_' ~ pid -%}
    {%- do run_query("create schema " ~ adapter.quote(scratch)) -%}
    {%- if link.tables -%}
        {%- do run_query("set local lacarte.fdw_remote_missing = 'off'") -%}
        {%- set import_into_scratch -%}
do $plan$ begin
    import foreign schema {{ adapter.quote(link.remote_schema) }}
        limit to ({% for t in link.tables %}{{ adapter.quote(t) }}{{ ', ' if not loop.last }}{% endfor %})
        from server {{ adapter.quote(link.server) }} into {{ adapter.quote(scratch) }};
exception when sqlstate 'HV00Q' then  -- the remote schema does not exist (yet)
    perform set_config('lacarte.fdw_remote_missing', 'on', true);
end $plan$
        {%- endset -%}
        {%- do run_query(import_into_scratch) -%}
    {%- endif -%}
    {%- set remote_missing = link.tables and run_query(
        "select current_setting('lacarte.fdw_remote_missing', true) = 'on'").columns[0].values()[0] -%}
    {%- set result = run_query("
with definitions as (
    select
        n.nspname = " ~ sql_literal(link.local_schema) ~ " as is_current,
        c.oid,
        c.relname as table_name,
        s.srvname || coalesce(' ' || array_to_string(ft.ftoptions, ' '), '') as table_definition
    from pg_class as c
    inner join pg_namespace as n on c.relnamespace = n.oid
    inner join pg_foreign_table as ft on c.oid = ft.ftrelid
    inner join pg_foreign_server as s on ft.ftserver = s.oid
    where c.relkind = 'f' and n.nspname in (" ~ sql_literal(link.local_schema) ~ ", " ~ sql_literal(scratch) ~ ")
),

current_definitions as (
    select * from definitions
    where is_current
),

next_definitions as (
    select * from definitions
    where not is_current
),

columns_of as (
    select
        definitions.is_current,
        definitions.table_name,
        a.attname as column_name,
        format_type(a.atttypid, a.atttypmod) || case when a.attnotnull then ' not null' else '' end
        || coalesce(' options ' || nullif(array_to_string(array(
            select option from unnest(a.attfdwoptions) as option
            where option <> 'column_name=' || a.attname
        ), ' '), ''), '') as column_type
    from definitions
    inner join pg_attribute as a on definitions.oid = a.attrelid and a.attnum > 0 and not a.attisdropped
),

current_columns as (
    select * from columns_of
    where is_current
),

next_columns as (
    select * from columns_of
    where not is_current
),

column_changes as (
    select
        coalesce(cur.table_name, nxt.table_name) as table_name,
        case
            when cur.column_name is null then format('column %s added (%s)', nxt.column_name, nxt.column_type)
            when nxt.column_name is null then format('column %s removed', cur.column_name)
            else format('column %s retyped %s -> %s', cur.column_name, cur.column_type, nxt.column_type)
        end as change
    from current_columns as cur
    full outer join next_columns as nxt
        on cur.table_name = nxt.table_name and cur.column_name = nxt.column_name
    where cur.column_type is distinct from nxt.column_type
),

compared as (
    select
        coalesce(cur.table_name, nxt.table_name) as table_name,
        cur.oid as current_oid,
        case
            when cur.table_name is null then 'add'
            when nxt.table_name is null and " ~ ('true' if remote_missing else 'false') ~ " then 'keep'
            when nxt.table_name is null then 'remove'
            when
                cur.table_definition <> nxt.table_definition
                or exists (
                    select from column_changes as cc
                    where cc.table_name = cur.table_name
                ) then 'change'
            else 'keep'
        end as action,
        concat_ws(
            '; ',
            case
                when cur.table_definition <> nxt.table_definition
                    then format('table options %s -> %s', cur.table_definition, nxt.table_definition)
            end,
            (
                select string_agg(cc.change, '; ' order by cc.change) from column_changes as cc
                where cc.table_name = cur.table_name and nxt.table_name is not null
            )
        ) as detail
    from current_definitions as cur
    full outer join next_definitions as nxt on cur.table_name = nxt.table_name
)

select
    compared.table_name,
    compared.action,
    compared.detail,
    coalesce((
        select string_agg(distinct dn.nspname || '.' || dc.relname, ', ')
        from pg_depend as d
        inner join pg_rewrite as rw on d.objid = rw.oid
        inner join pg_class as dc on rw.ev_class = dc.oid
        inner join pg_namespace as dn on dc.relnamespace = dn.oid
        where d.refobjid = compared.current_oid and dc.oid <> d.refobjid
    ), '') as dependents
from compared
order by compared.table_name") -%}
    {%- set rows = [] -%}
    {%- for row in result.rows -%}
        {%- do rows.append({'table': row['table_name'], 'action': row['action'], 'detail': row['detail'],
                            'dependents': row['dependents']}) -%}
    {%- endfor -%}
    {%- do run_query("drop schema " ~ adapter.quote(scratch) ~ " cascade") -%}
    {{ return({'rows': rows, 'remote_missing': remote_missing}) }}
{% endmacro %}


{#- Statements applying a table comparison: drop what is gone or changed (refused when views
    depend on it, unless cascade), then import what is new or changed in one statement.
    Returns {statements: [{statement, change}], refused: [sentences]}. -#}
{% macro fdw_plan_tables(link, comparison, cascade) %}
    {%- set statements = [] -%}
    {%- set refused = [] -%}
    {%- set imported = [] -%}
    {%- for row in comparison.rows if row.action != 'keep' -%}
        {%- set qualified = link.local_schema ~ '.' ~ row.table -%}
        {%- set change = row.action ~ ' ' ~ qualified ~ (' (' ~ row.detail ~ ')' if row.detail else '') -%}
        {%- if row.action in ('remove', 'change') and row.dependents and not cascade -%}
            {%- do refused.append(qualified ~ ' must be ' ~ ('removed' if row.action == 'remove' else 're-imported')
                ~ ' but these objects depend on it: ' ~ row.dependents) -%}
            {%- do statements.append({'change': change, 'statement': none}) -%}
        {%- elif row.action in ('remove', 'change') -%}
            {%- do statements.append({'change': change,
                'statement': 'drop foreign table if exists ' ~ adapter.quote(link.local_schema) ~ '.'
                    ~ adapter.quote(row.table) ~ (' cascade' if cascade else '')}) -%}
        {%- endif -%}
        {%- if row.action in ('add', 'change') and not (row.dependents and not cascade and row.action == 'change') -%}
            {%- do imported.append(row.table) -%}
            {%- if row.action == 'add' -%}
                {%- do statements.append({'change': change, 'statement': none}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if imported -%}
        {%- set names = [] -%}
        {%- for table in imported -%}
            {%- do names.append(adapter.quote(table)) -%}
        {%- endfor -%}
        {%- do statements.append({'change': none,
            'statement': 'import foreign schema ' ~ adapter.quote(link.remote_schema) ~ ' limit to (' ~ (names | join(', '))
                ~ ') from server ' ~ adapter.quote(link.server) ~ ' into ' ~ adapter.quote(link.local_schema)}) -%}
    {%- endif -%}
    {{ return({'statements': statements, 'refused': refused}) }}
{% endmacro %}


{#- The whole plan of a link, inside a transaction opened by fdw_open: each part's statements
    are run as soon as planned, so the next part is planned on their result (the user mapping
    on the server just created, the tables through it). Returns
    {statements: [{statement, change}], refused: [...], remote_missing}. -#}
{% macro fdw_plan_and_run(link, cascade) %}
    {%- set statements = [] -%}
    {#- Each part is planned on the result of the previous ones (the user mapping of a server
        just created, the grants once the schema exists). -#}
    {%- for item in fdw_plan_server(link) -%}
        {%- do run_query(item.statement) -%}
        {%- do statements.append(item) -%}
    {%- endfor -%}
    {%- for item in fdw_plan_user_mapping(link) -%}
        {%- do run_query(item.statement) -%}
        {%- do statements.append(item) -%}
    {%- endfor -%}
    {%- for item in fdw_plan_schema(link) + fdw_plan_grants(link) -%}
        {%- do run_query(item.statement) -%}
        {%- do statements.append(item) -%}
    {%- endfor -%}
    {%- set comparison = fdw_compare_tables(link) -%}
    {%- set tables = fdw_plan_tables(link, comparison, cascade) -%}
    {%- if var('fdw_links')[link.target].tables_from_source and not comparison.remote_missing -%}
        {%- set found = comparison.rows | rejectattr('action', 'equalto', 'remove') | map(attribute='table') | list -%}
        {%- set missing = link.tables | reject('in', found) | list -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "source table(s) " ~ (missing | join(', ')) ~ " declared in the dbt sources are not in "
                ~ link.remote_schema ~ " on the remote, or not granted to " ~ link.remote_user
                ~ ": check the web app's migrations, then run `lacarte deploy` (it grants the webapp side first)") }}
        {%- endif -%}
    {%- endif -%}
    {%- if not tables.refused -%}
        {%- for item in tables.statements if item.statement -%}
            {%- do run_query(item.statement) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return({'statements': statements + tables.statements, 'refused': tables.refused,
               'remote_missing': comparison.remote_missing, 'tables': comparison.rows}) }}
{% endmacro %}
