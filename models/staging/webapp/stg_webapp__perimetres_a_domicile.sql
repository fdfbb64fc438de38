{{ config(indexes=[{'columns': ['acteur_id']}]) }}

with source as (
    select * from {{ source('webapp', 'qfdmo_perimetreadomicile') }}
    {{ slice_filter('qfdmo_perimetreadomicile') }}
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
