{{ config(indexes=[{'columns': ['source_acteur_id']}]) }}

-- Rule 3: whose relations an actor's relation rows become. An actor owns its own rows;
-- an ACTIF child hands its rows to its parent; other children hand them to nobody.
with acteurs as (
    select
        identifiant_unique,
        parent_id,
        statut
    from {{ ref('int_acteurs__overlaid') }}
),

parents as (
    select identifiant_unique from {{ ref('int_acteurs__overlaid') }}
    where is_revision_only
),

children as (
    select
        acteurs.identifiant_unique,
        acteurs.parent_id,
        acteurs.statut
    from acteurs
    inner join parents on acteurs.parent_id = parents.identifiant_unique
)

select
    identifiant_unique as source_acteur_id,
    identifiant_unique as acteur_id
from acteurs
where not exists (
        select from children
        where children.identifiant_unique = acteurs.identifiant_unique
    )

union all

select
    identifiant_unique as source_acteur_id,
    parent_id as acteur_id
from children
where statut = 'ACTIF'
