{{ config(tags=['sample'], indexes=[{'columns': ['identifiant_unique'], 'unique': true}]) }}

-- The source-of-truth actors webapp_sample copies: the sample's actors, closed under
-- references (a sampled parent brings all its children, ACTIF or not).
with sampled as (
    select identifiant_unique from {{ ref('int_acteurs__in_sample') }}
),

children as (
    select acteurs.identifiant_unique
    from {{ ref('int_acteurs__overlaid') }} as acteurs
    join sampled on sampled.identifiant_unique = acteurs.parent_id
)

select identifiant_unique from sampled
union
select identifiant_unique from children
