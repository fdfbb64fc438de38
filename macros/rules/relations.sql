{#-
    Rule 2: the rows of one relation (labels, services, perimeters…) that each actor owns:
    from the revision tables when the actor has a revision row, from the actor tables
    otherwise, never a mix. Both sides name the actor `acteur_id` (staging renames Django's
    keys); `columns` are the relation's value columns.
-#}
{% macro own_relation(acteur_side, revision_side, columns) %}
with revised_acteurs as (
    select identifiant_unique from {{ ref('stg_webapp__revision_acteurs') }}
),

from_revisions as (
    select
        relation.acteur_id{% for column in columns %},
        relation.{{ column }}{% endfor %}
    from {{ revision_side }} as relation
),

from_acteurs as (
    select
        relation.acteur_id{% for column in columns %},
        relation.{{ column }}{% endfor %}
    from {{ acteur_side }} as relation
    where
        not exists (
            select from revised_acteurs
            where revised_acteurs.identifiant_unique = relation.acteur_id
        )
)

select
    acteur_id{% for column in columns %},
    {{ column }}{% endfor %}
from from_revisions
union
select
    acteur_id{% for column in columns %},
    {{ column }}{% endfor %}
from from_acteurs
{% endmacro %}


{#-
    Rule 3: the rows of a relation as the map shows them: an actor keeps its own rows, a
    parent also absorbs those of its ACTIF children, without duplicates
    (int_acteurs__relation_owners says whose rows go where; open data gives its own owners).
-#}
{% macro absorbed_relation(own_model, columns, owners_model=none) %}
with own as (
    select * from {{ own_model }}
),

owners as (
    select
        source_acteur_id,
        acteur_id
    from {{ owners_model or ref('int_acteurs__relation_owners') }}
)

select distinct
    owners.acteur_id{% for column in columns %},
    own.{{ column }}{% endfor %}
from own
inner join owners on own.acteur_id = owners.source_acteur_id
{% endmacro %}
