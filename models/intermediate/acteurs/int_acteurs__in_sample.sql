{{ config(tags=['sample'], indexes=[{'columns': ['identifiant_unique'], 'unique': true}]) }}

-- The actors of the sample: those of the sample territories (seed sample_territories,
-- or --vars '{sample_epci: [...]}') and every digital actor.
{%- set chosen_epci = var('sample_epci', none) %}
with acteurs as (
    select identifiant_unique, acteur_type_id from {{ ref('int_acteurs__resolved') }}
),

communes as (
    select identifiant_unique, code_epci from {{ ref('int_acteurs__communes') }}
),

territories as (
    {%- if chosen_epci %}
    select unnest({{ fdw_text_array(chosen_epci) }}) as code_epci
    {%- else %}
    select code_epci::text as code_epci from {{ ref('sample_territories') }}
    {%- endif %}
),

digital_types as (
    select id from {{ ref('stg_webapp__acteur_types') }} where code = 'acteur_digital'
)

select acteurs.identifiant_unique
from acteurs
left join communes on communes.identifiant_unique = acteurs.identifiant_unique
where communes.code_epci in (select code_epci from territories)
    or acteurs.acteur_type_id in (select id from digital_types)
