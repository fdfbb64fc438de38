-- What qfdmo_vuepropositionservice_sous_categories receives.
select
    proposition_id::varchar(255) as vuepropositionservice_id,
    souscategorieobjet_id::integer as souscategorieobjet_id
from {{ ref('admin_proposition_sous_categories') }}
