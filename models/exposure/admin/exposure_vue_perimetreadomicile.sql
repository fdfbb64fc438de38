-- What qfdmo_vueperimetreadomicile receives.
select
    acteur_id::varchar(255) as acteur_id,
    type::varchar(255) as type,
    valeur::varchar(255) as valeur
from {{ ref('admin_perimetres') }}
