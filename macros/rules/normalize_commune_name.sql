{#- A city name reduced to lower-case letters and digits: tolerant of case, accents,
    hyphens, apostrophes and spaces ("SAINTE ANNE D'AURAY" = "Sainte-Anne-d'Auray"). -#}
{% macro normalize_commune_name(expression) -%}
    regexp_replace(lower(public.unaccent({{ expression }})), '[^a-z0-9]+', '', 'g')
{%- endmacro %}
