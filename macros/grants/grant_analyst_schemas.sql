{#- on-run-end hook: analysts may enter the schemas whose tables dbt grants them (marts,
    exposures, reference data); never webapp_public, staging or intermediate. -#}
{% macro grant_analyst_schemas() %}
    {%- if target.name == 'warehouse' -%}
        {%- for schema in schemas if schema in ['marts', 'reference'] + var('exposure_schemas') -%}
            grant usage on schema {{ adapter.quote(schema) }} to analyst;
        {% endfor -%}
    {%- endif -%}
    select 1
{% endmacro %}
