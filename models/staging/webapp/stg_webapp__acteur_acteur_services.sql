{{ config(indexes=[{'columns': ['acteur_id']}]) }}

with source as (
    select * from {{ source('webapp', 'qfdmo_acteur_acteur_services') }}
    {{ slice_filter('qfdmo_acteur_acteur_services') }}
),

renamed as (
    select
        id,
        acteur_id,
        acteurservice_id
    from source
)

select * from renamed
