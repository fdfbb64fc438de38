{#- Models land in the schema their folder names (staging, marts, exposure…), not
    <target schema>_<custom>: analysts and the links rely on stable schema names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
