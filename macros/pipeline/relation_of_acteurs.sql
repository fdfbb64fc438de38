{#-
    The rows of one relation (labels, services, propositions…) for every actor after the
    revision rules: all-or-nothing (rule 2), an actor with a revision row takes the revision
    side only; then parents absorb the rows of their ACTIF children (rule 3), deduplicated.
    `columns` are the relation's value columns, named alike on both sides.
-#}
{% macro relation_of_acteurs(acteur_side, acteur_key, revision_side, revision_key, columns) %}
with revised_acteurs as (
    select identifiant_unique from {{ ref('stg_webapp__revision_acteurs') }}
),

from_revisions as (
    select {{ revision_key }} as source_acteur_id, {{ columns | join(', ') }}
    from {{ revision_side }} as relation
),

from_acteurs as (
    select {{ acteur_key }} as source_acteur_id, {{ columns | join(', ') }}
    from {{ acteur_side }} as relation
    where not exists (
        select from revised_acteurs where revised_acteurs.identifiant_unique = relation.{{ acteur_key }}
    )
),

chosen as (
    select * from from_revisions
    union all
    select * from from_acteurs
),

owners as (
    select source_acteur_id, acteur_id from {{ ref('int_acteurs__relation_owners') }}
)

select distinct owners.acteur_id, {% for column in columns %}chosen.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
from chosen
join owners on owners.source_acteur_id = chosen.source_acteur_id
{% endmacro %}
