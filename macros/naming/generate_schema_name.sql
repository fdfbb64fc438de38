{#- Models land in the schema their folder names (staging, marts, exposure…), not
    <target schema>_<custom>: analysts and the links rely on stable schema names. An
    incremental build (var slice) builds its models aside, in slice_<schema>; seeds stay. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set schema = (custom_schema_name or target.schema) | trim -%}
    {{ ('slice_' ~ schema) if node.resource_type == 'model' and slice_build() else schema }}
{%- endmacro %}
