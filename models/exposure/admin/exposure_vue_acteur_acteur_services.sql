-- What qfdmo_vueacteur_acteur_services receives.
select
    acteur_id::varchar(255) as vueacteur_id,
    acteurservice_id::integer as acteurservice_id
from {{ ref('admin_acteur_services') }}
