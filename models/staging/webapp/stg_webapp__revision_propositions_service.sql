{{ config(indexes=[{'columns': ['id'], 'unique': true}, {'columns': ['acteur_id']}]) }}

with source as (
    select * from {{ source('webapp', 'qfdmo_revisionpropositionservice') }}
    {{ slice_filter('qfdmo_revisionpropositionservice') }}
),

renamed as (
    select
        id,
        acteur_id,
        action_id
    from source
)

select * from renamed
