{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- The admin view's sources: as on the map, a parent lists its ACTIF children's (rule 3).
select
    acteur_id,
    source_id
from {{ ref('int_acteur_sources') }}
