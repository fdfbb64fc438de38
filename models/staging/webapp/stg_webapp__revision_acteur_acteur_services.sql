{{ config(indexes=[{'columns': ['acteur_id']}]) }}

with source as (
    select * from {{ source('webapp', 'qfdmo_revisionacteur_acteur_services') }}
    {{ slice_filter('qfdmo_revisionacteur_acteur_services') }}
),

renamed as (
    select
        id,
        revisionacteur_id as acteur_id,
        acteurservice_id
    from source
)

select * from renamed
