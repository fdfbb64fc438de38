-- What qfdmo_vueacteur_labels receives.
select
    acteur_id::varchar(255) as vueacteur_id,
    labelqualite_id::integer as labelqualite_id
from {{ ref('admin_acteur_labels') }}
