{#- The rows of a relation model that belong to an actor La Carte shows (no orphans). -#}
{% macro rows_of_shown_acteurs(relation_model, columns) %}
with relation as (
    select * from {{ relation_model }}
),

acteurs as (
    select identifiant_unique from {{ ref('carte_acteurs') }}
)

select
    relation.acteur_id{% for column in columns %},
    relation.{{ column }}{% endfor %}
from relation
inner join acteurs on relation.acteur_id = acteurs.identifiant_unique
{% endmacro %}
