{{ config(indexes=[{'columns': ['id'], 'unique': true}, {'columns': ['acteur_id']}]) }}

-- The propositions of the actors La Carte shows, one per (actor, action) with at least one
-- sub-category, with a stable id (rule 5).
with propositions as (
    select distinct
        acteur_id,
        action_id
    from {{ ref('int_acteur_proposition_sous_categories') }}
),

acteurs as (
    select identifiant_unique from {{ ref('carte_acteurs') }}
)

select
    {{ proposition_id('propositions.acteur_id', 'propositions.action_id') }} as id,
    propositions.acteur_id,
    propositions.action_id
from propositions
inner join acteurs on propositions.acteur_id = acteurs.identifiant_unique
