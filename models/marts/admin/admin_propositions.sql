{{ config(indexes=[{'columns': ['id'], 'unique': true}, {'columns': ['acteur_id']}]) }}

-- The admin view's propositions: each actor's own (rule 2), with or without sub-categories,
-- with a stable id (rule 5).
select
    {{ proposition_id('acteur_id', 'action_id') }} as id,
    acteur_id,
    action_id
from {{ ref('int_acteur_propositions__own') }}
