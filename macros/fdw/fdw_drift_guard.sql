{#-
    on-run-start hook: stop `dbt build` / `run` / `test` at once when the webapp's schema no
    longer matches the foreign tables of webapp_public (a column added, dropped, renamed or
    retyped since the last refresh_fdw). The comparison imports into a scratch schema inside
    a block that is always rolled back, so it changes nothing.
-#}
{% macro fdw_drift_guard() %}
    {%- if execute and target.name == 'warehouse' and flags.WHICH in ('build', 'run', 'test') -%}
        {%- set link = fdw_link() -%}
        {%- set drift = fdw_drift(link) -%}
        {%- if drift -%}
            {{ exceptions.raise_compiler_error(
                "the webapp schema changed since the last link refresh: " ~ (drift | join('; '))
                ~ ". Run: dbt run-operation refresh_fdw --target warehouse") }}
        {%- endif -%}
    {%- endif -%}
    select 1
{% endmacro %}


{#- The differences between a link's foreign tables and the remote catalog, as sentences. -#}
{% macro fdw_drift(link) %}
    {%- set probe -%}
do $drift$
declare
    {{ fdw_plan_declarations(link) }}
begin
    begin
        {{ fdw_plan_statements() }}
        raise exception using errcode = 'LCDRY', message = 'probe only';
    exception when sqlstate 'LCDRY' then
        null;
    end;
    perform set_config('lacarte.fdw_plan', v_plan::text, false);
end
$drift$
    {%- endset -%}
    {%- do run_query(probe) -%}
    {%- set plan = fromjson(run_query("select current_setting('lacarte.fdw_plan')").columns[0].values()[0]) -%}
    {%- set sentences = [] -%}
    {%- for item in plan if item.action != 'keep' -%}
        {%- set what = {'add': 'not imported yet', 'remove': 'gone from the remote or no longer declared',
                        'change': item.detail}[item.action] -%}
        {%- do sentences.append(link.local_schema ~ "." ~ item.table ~ ": " ~ what) -%}
    {%- endfor -%}
    {%- do return(sentences) -%}
{% endmacro %}
