-- What qfdmo_vueacteur_sources receives.
select
    acteur_id::varchar(255) as vueacteur_id,
    source_id::integer as source_id
from {{ ref('admin_acteur_sources') }}
