with source as (
    select * from {{ source('webapp', 'qfdmo_acteurtype') }}
),

renamed as (
    select
        id,
        code,
        libelle
    from source
)

select * from renamed
