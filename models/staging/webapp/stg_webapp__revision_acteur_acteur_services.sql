{{ config(indexes=[{'columns': ['revisionacteur_id']}]) }}

with source as (
    select * from {{ source('webapp', 'qfdmo_revisionacteur_acteur_services') }}
),

renamed as (
    select
        id,
        revisionacteur_id,
        acteurservice_id
    from source
)

select * from renamed
