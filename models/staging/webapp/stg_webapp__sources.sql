with source as (
    select * from {{ source('webapp', 'qfdmo_source') }}
),

renamed as (
    select
        id,
        code,
        libelle,
        afficher,
        licence
    from source
)

select * from renamed
