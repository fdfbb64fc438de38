{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- Rule 2: each actor's own quality labels.
{{ own_relation(ref('stg_webapp__acteur_labels'), ref('stg_webapp__revision_acteur_labels'), ['labelqualite_id']) }}
