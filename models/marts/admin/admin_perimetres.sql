{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- The admin view's home-service perimeters: each actor's own (rule 2).
select
    acteur_id,
    type,
    valeur
from {{ ref('int_acteur_perimetres__own') }}
