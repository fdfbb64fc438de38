{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- The relation after the revision and parent rules (see relation_of_acteurs).
{{ relation_of_acteurs(
    ref('stg_webapp__acteur_labels'), 'acteur_id',
    ref('stg_webapp__revision_acteur_labels'), 'revisionacteur_id',
    ['labelqualite_id']) }}
