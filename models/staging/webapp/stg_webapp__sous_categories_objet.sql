with source as (
    select * from {{ source('webapp', 'qfdmo_souscategorieobjet') }}
),

renamed as (
    select
        id,
        code,
        libelle,
        categorie_id,
        afficher
    from source
)

select * from renamed
