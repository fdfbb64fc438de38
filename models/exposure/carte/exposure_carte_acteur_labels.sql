-- What qfdmo_displayedacteur_labels receives.
select
    acteur_id::varchar(255) as displayedacteur_id,
    labelqualite_id::integer as labelqualite_id
from {{ ref('carte_acteur_labels') }}
