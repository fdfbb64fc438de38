{#- A uuid derived from a text key: the same key gives the same uuid on every run. -#}
{% macro stable_uuid(expression) -%}
    md5('lacarte:' || {{ expression }})::uuid::text
{%- endmacro %}


{#- The id of a published proposition: the same actor and action give the same id. -#}
{% macro proposition_id(acteur_expression, action_expression) -%}
    md5({{ acteur_expression }} || '|' || {{ action_expression }})
{%- endmacro %}
