{{ config(indexes=[{'columns': ['source_acteur_id']}]) }}

-- Open data: whose relation rows an actor's rows become, as rule 3 says, except that a parent
-- absorbs only its ACTIF children whose source is under OPEN_LICENSE (nothing from a source
-- under another licence reaches the file).
with owners as (
    select
        source_acteur_id,
        acteur_id
    from {{ ref('int_acteurs__relation_owners') }}
),

acteurs as (
    select
        identifiant_unique,
        source_id
    from {{ ref('int_acteurs__overlaid') }}
),

open_sources as (
    select id from {{ ref('stg_webapp__sources') }}
    where licence = 'OPEN_LICENSE'
)

select
    owners.source_acteur_id,
    owners.acteur_id
from owners
inner join acteurs on owners.source_acteur_id = acteurs.identifiant_unique
where owners.source_acteur_id = owners.acteur_id
    or acteurs.source_id in (select open_sources.id from open_sources)
