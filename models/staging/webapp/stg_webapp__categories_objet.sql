with source as (
    select * from {{ source('webapp', 'qfdmo_categorieobjet') }}
),

renamed as (
    select
        id,
        code,
        libelle
    from source
)

select * from renamed
