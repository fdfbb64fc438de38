{{ config(indexes=[{'columns': ['id'], 'unique': true}, {'columns': ['acteur_id']}]) }}

-- The propositions of the actors La Carte shows, one per (actor, action), with a stable id.
with propositions as (
    select distinct acteur_id, action_id from {{ ref('int_acteur_propositions') }}
),

acteurs as (
    select identifiant_unique from {{ ref('carte_acteurs') }}
)

select
    md5(propositions.acteur_id || '|' || propositions.action_id) as id,
    propositions.acteur_id,
    propositions.action_id
from propositions
join acteurs on acteurs.identifiant_unique = propositions.acteur_id
