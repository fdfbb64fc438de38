{{ config(indexes=[{'columns': ['identifiant_unique'], 'unique': true}]) }}

-- Rule 5: every actor's public id, computed once for the map, the admin view and open data.
with acteurs as (
    select identifiant_unique from {{ ref('int_acteurs__overlaid') }}
)

select
    identifiant_unique,
    {{ public_uuid('identifiant_unique') }} as uuid
from acteurs
