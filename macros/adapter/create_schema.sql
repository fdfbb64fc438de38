{#- dbt creates the schemas of a build before any hook runs: on a target other than the
    warehouse, refuse before the first one is created (nothing is left behind). -#}
{% macro postgres__create_schema(relation) -%}
    {%- do refuse_non_warehouse_target(flags.WHICH) -%}
    {%- call statement('create_schema') -%}
        create schema if not exists {{ relation.without_identifier().include(database=False) }}
    {%- endcall -%}
{% endmacro %}
