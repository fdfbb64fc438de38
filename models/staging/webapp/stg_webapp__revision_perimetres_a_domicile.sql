{{ config(indexes=[{'columns': ['acteur_id']}]) }}

with source as (
    select * from {{ source('webapp', 'qfdmo_revisionperimetreadomicile') }}
    {{ slice_filter('qfdmo_revisionperimetreadomicile') }}
),

renamed as (
    select
        id,
        acteur_id,
        type,
        valeur
    from source
)

select * from renamed
