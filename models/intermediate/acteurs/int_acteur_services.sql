{{ config(indexes=[{'columns': ['acteur_id']}]) }}

{{ relation_of_acteurs(
    ref('stg_webapp__acteur_acteur_services'), 'acteur_id',
    ref('stg_webapp__revision_acteur_acteur_services'), 'revisionacteur_id',
    ['acteurservice_id']) }}
