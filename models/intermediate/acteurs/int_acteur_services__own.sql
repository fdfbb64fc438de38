{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- Rule 2: each actor's own services.
{{ own_relation(ref('stg_webapp__acteur_acteur_services'), ref('stg_webapp__revision_acteur_acteur_services'),
    ['acteurservice_id']) }}
