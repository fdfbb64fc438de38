{{ config(indexes=[{'columns': ['acteur_id']}]) }}

{{ relation_of_acteurs(
    ref('stg_webapp__acteur_labels'), 'acteur_id',
    ref('stg_webapp__revision_acteur_labels'), 'revisionacteur_id',
    ['labelqualite_id']) }}
