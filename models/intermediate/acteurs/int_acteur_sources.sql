{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- Rule 3: the sources of each actor: its own, and for a parent those of its ACTIF children.
-- A child has no row of its own (its source_id says where it comes from), as production has
-- it in the admin view.
with acteurs as (
    select
        identifiant_unique,
        source_id
    from {{ ref('int_acteurs__overlaid') }}
    where source_id is not null
),

owners as (
    select
        source_acteur_id,
        acteur_id
    from {{ ref('int_acteurs__relation_owners') }}
)

select distinct
    owners.acteur_id,
    acteurs.source_id
from owners
inner join acteurs on owners.source_acteur_id = acteurs.identifiant_unique
