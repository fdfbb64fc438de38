{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- The admin view's labels: each actor's own (rule 2; a parent's are its own, not absorbed).
select
    acteur_id,
    labelqualite_id
from {{ ref('int_acteur_labels__own') }}
