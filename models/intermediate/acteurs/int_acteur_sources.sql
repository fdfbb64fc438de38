{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- Rule 3: the sources of an actor: its own, or for a parent those of its ACTIF children.
with owners as (
    select * from {{ ref('int_acteurs__relation_owners') }}
),

acteurs as (
    select identifiant_unique, source_id, identifiant_externe from {{ ref('int_acteurs__overlaid') }}
)

select distinct owners.acteur_id, acteurs.source_id
from owners
join acteurs on acteurs.identifiant_unique = owners.source_acteur_id
where acteurs.source_id is not null
