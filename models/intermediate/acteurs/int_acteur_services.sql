{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- The relation after the revision and parent rules (see relation_of_acteurs).
{{ relation_of_acteurs(
    ref('stg_webapp__acteur_acteur_services'), 'acteur_id',
    ref('stg_webapp__revision_acteur_acteur_services'), 'revisionacteur_id',
    ['acteurservice_id']) }}
