with source as (
    select * from {{ source('webapp', 'qfdmo_labelqualite') }}
),

renamed as (
    select
        id,
        code,
        libelle,
        afficher
    from source
)

select * from renamed
