{#- on-run-end hook: analysts may enter the schemas whose tables dbt grants them (marts,
    exposures, reference data), the warehouse's reader role the exposure schema; never
    webapp_public, staging or intermediate. -#}
{% macro grant_reader_schemas() %}
    {%- if target.name == 'warehouse' -%}
        {%- for schema in schemas if schema in ['marts', 'reference', 'exposure'] -%}
            grant usage on schema {{ adapter.quote(schema) }} to analyst
            {%- if schema == 'exposure' %}, {{ adapter.quote(var('fdw_links')['webapp'].remote_user) }}{% endif %};
        {% endfor -%}
    {%- endif -%}
    select 1
{% endmacro %}
