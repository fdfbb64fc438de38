{#- The id of a published proposition: the same actor and action give the same id. -#}
{% macro proposition_id(acteur_expression, action_expression) -%}
    md5({{ acteur_expression }} || '|' || {{ action_expression }})
{%- endmacro %}
