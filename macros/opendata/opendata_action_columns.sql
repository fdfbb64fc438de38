{#- The action codes that are columns of the open-data file, in the file's order (production's
    published schema: a column per action, its sub-category codes joined with |). -#}
{% macro opendata_action_columns() %}
    {%- do return([
        'emprunter', 'preter', 'louer', 'mettreenlocation', 'reparer', 'donner', 'trier',
        'echanger', 'revendre', 'acheter', 'rapporter',
    ]) -%}
{% endmacro %}
