with source as (
    select * from {{ source('webapp', 'qfdmo_action') }}
),

renamed as (
    select
        id,
        code,
        libelle,
        afficher,
        "order"
    from source
)

select * from renamed
