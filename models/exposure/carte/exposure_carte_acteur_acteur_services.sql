-- What qfdmo_displayedacteur_acteur_services receives.
select
    acteur_id::varchar(255) as displayedacteur_id,
    acteurservice_id::integer as acteurservice_id
from {{ ref('carte_acteur_services') }}
