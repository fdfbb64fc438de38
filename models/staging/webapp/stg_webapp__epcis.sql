with source as (
    select * from {{ source('webapp', 'qfdmo_epci') }}
),

renamed as (
    select
        id,
        code,
        nom
    from source
)

select * from renamed
