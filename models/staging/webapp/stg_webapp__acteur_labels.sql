{{ config(indexes=[{'columns': ['acteur_id']}]) }}

with source as (
    select * from {{ source('webapp', 'qfdmo_acteur_labels') }}
    {{ slice_filter('qfdmo_acteur_labels') }}
),

renamed as (
    select
        id,
        acteur_id,
        labelqualite_id
    from source
)

select * from renamed
