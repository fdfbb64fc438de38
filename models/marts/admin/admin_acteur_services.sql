{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- The admin view's services: each actor's own (rule 2).
select
    acteur_id,
    acteurservice_id
from {{ ref('int_acteur_services__own') }}
