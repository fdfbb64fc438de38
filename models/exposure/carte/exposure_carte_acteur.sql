{{ config(indexes=[{'columns': ['location'], 'type': 'gist'}, {'columns': ['epci_id']}]) }}

-- What qfdmo_displayedacteur receives: the actors La Carte shows.
select
    {{ exposed_acteur_columns() }}
from {{ ref('carte_acteurs') }}
