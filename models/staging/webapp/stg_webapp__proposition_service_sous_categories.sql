{{ config(indexes=[{'columns': ['propositionservice_id']}]) }}

with source as (
    select * from {{ source('webapp', 'qfdmo_propositionservice_sous_categories') }}
),

renamed as (
    select
        id,
        propositionservice_id,
        souscategorieobjet_id
    from source
)

select * from renamed
