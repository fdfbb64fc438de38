{{ config(indexes=[{'columns': ['proposition_id']}]) }}

with source as (
    select * from {{ source('webapp', 'qfdmo_propositionservice_sous_categories') }}
    {{ slice_filter('qfdmo_propositionservice_sous_categories') }}
),

renamed as (
    select
        id,
        propositionservice_id as proposition_id,
        souscategorieobjet_id
    from source
)

select * from renamed
