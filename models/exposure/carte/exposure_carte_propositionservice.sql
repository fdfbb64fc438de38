{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- What qfdmo_displayedpropositionservice receives.
select
    id::varchar(255) as id,
    acteur_id::varchar(255) as acteur_id,
    action_id::integer as action_id
from {{ ref('carte_propositions') }}
