{#- A uuid derived from a text key: the same key gives the same uuid on every run. -#}
{% macro stable_uuid(expression) -%}
    md5('lacarte:' || {{ expression }})::uuid::text
{%- endmacro %}
