{{ config(indexes=[{'columns': ['proposition_id']}]) }}

with source as (
    select * from {{ source('webapp', 'qfdmo_revisionpropositionservice_sous_categories') }}
    {{ slice_filter('qfdmo_revisionpropositionservice_sous_categories') }}
),

renamed as (
    select
        id,
        revisionpropositionservice_id as proposition_id,
        souscategorieobjet_id
    from source
)

select * from renamed
