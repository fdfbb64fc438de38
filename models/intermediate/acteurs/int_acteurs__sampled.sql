{{ config(indexes=[{'columns': ['identifiant_unique'], 'unique': true}]) }}

-- The sample's actors: those of the sample territories (seed sample_territories, or
-- --vars '{sample_epci: [...]}') and every digital actor, closed under references: a sampled
-- parent brings all its children, an actor the row its parent_id points at (parents are one
-- level deep).
{%- set chosen_epci = var('sample_epci', none) %}
with acteurs as (
    select
        identifiant_unique,
        acteur_type_id,
        parent_id,
        is_child
    from {{ ref('int_acteurs__resolved') }}
),

communes as (
    select
        identifiant_unique,
        code_epci
    from {{ ref('int_acteurs__communes') }}
),

territories as (
    {%- if chosen_epci %}
    select unnest({{ sql_text_array(chosen_epci) }}) as code_epci
    {%- else %}
    select code_epci::text as code_epci from {{ ref('sample_territories') }}
    {%- endif %}
),

digital_types as (
    select id from {{ ref('stg_webapp__acteur_types') }}
    where code = 'acteur_digital'
),

sampled as (
    select acteurs.identifiant_unique
    from acteurs
    left join communes on acteurs.identifiant_unique = communes.identifiant_unique
    where not acteurs.is_child
        and (
            communes.code_epci in (select territories.code_epci from territories)
            or acteurs.acteur_type_id in (select digital_types.id from digital_types)
        )
),

children as (
    select acteurs.identifiant_unique
    from acteurs
    inner join sampled on acteurs.parent_id = sampled.identifiant_unique
),

parents as (
    select acteurs.parent_id as identifiant_unique
    from acteurs
    inner join sampled on acteurs.identifiant_unique = sampled.identifiant_unique
    where acteurs.parent_id is not null
)

select identifiant_unique from sampled
union
select identifiant_unique from children
union
select identifiant_unique from parents
