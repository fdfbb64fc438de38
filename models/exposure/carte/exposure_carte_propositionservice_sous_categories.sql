-- What qfdmo_displayedpropositionservice_sous_categories receives.
select
    proposition_id::varchar(255) as displayedpropositionservice_id,
    souscategorieobjet_id::integer as souscategorieobjet_id
from {{ ref('carte_proposition_sous_categories') }}
