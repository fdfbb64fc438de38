{{ config(indexes=[{'columns': ['acteur_id']}]) }}

with source as (
    select * from {{ source('webapp', 'qfdmo_revisionacteur_labels') }}
    {{ slice_filter('qfdmo_revisionacteur_labels') }}
),

renamed as (
    select
        id,
        revisionacteur_id as acteur_id,
        labelqualite_id
    from source
)

select * from renamed
