-- What qfdmo_displayedacteur_sources receives.
select
    acteur_id::varchar(255) as displayedacteur_id,
    source_id::integer as source_id
from {{ ref('carte_acteur_sources') }}
