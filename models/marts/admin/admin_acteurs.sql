{{ config(indexes=[{'columns': ['identifiant_unique'], 'unique': true}]) }}

-- The admin's exhaustive view: every actor of the overlay (rule 1), whatever its status,
-- with its family (rule 3), its territory (rule 6) and where it is published.
with acteurs as (
    select * from {{ ref('int_acteurs__resolved') }}
),

children as (
    select
        parent_id as identifiant_unique,
        jsonb_agg(identifiant_unique order by identifiant_unique) as liste_enfants,
        count(*) as nombre_enfants
    from acteurs
    where parent_id is not null
    group by parent_id
),

communes as (
    select * from {{ ref('int_acteurs__communes') }}
),

public_ids as (
    select
        identifiant_unique,
        uuid
    from {{ ref('int_acteurs__public_ids') }}
),

epcis as (
    select
        id,
        code
    from {{ ref('stg_webapp__epcis') }}
),

on_the_map as (
    select identifiant_unique from {{ ref('carte_acteurs') }}
),

in_open_data as (
    select identifiant_unique from {{ ref('opendata_acteurs') }}
)

select
    acteurs.identifiant_unique,
    public_ids.uuid,
    {%- for column in acteur_text_columns() %}
    acteurs.{{ column }},
    {%- endfor %}
    acteurs.acteur_type_id,
    acteurs.source_id,
    acteurs.action_principale_id,
    acteurs.siret_is_closed,
    acteurs.exclusivite_de_reprisereparation,
    acteurs.uniquement_sur_rdv,
    acteurs.lieu_prestation_resolved as lieu_prestation,
    acteurs.location,
    acteurs.cree_le,
    acteurs.modifie_le,
    coalesce(communes.code_commune_insee, '') as code_commune_insee,
    communes.code_epci,
    epcis.id as epci_id,
    acteurs.parent_id,
    coalesce(children.liste_enfants, '[]'::jsonb) as liste_enfants,
    coalesce(children.nombre_enfants, 0)::integer as nombre_enfants,
    exists(
        select from on_the_map
        where on_the_map.identifiant_unique = acteurs.identifiant_unique
    ) as est_dans_carte,
    exists(
        select from in_open_data
        where in_open_data.identifiant_unique = acteurs.identifiant_unique)
        as est_dans_opendata,
    children.identifiant_unique is not null as est_parent,
    acteurs.has_revision as revision_existe,
    st_y(acteurs.location::geometry) as latitude,
    st_x(acteurs.location::geometry) as longitude
from acteurs
left join children on acteurs.identifiant_unique = children.identifiant_unique
inner join public_ids on acteurs.identifiant_unique = public_ids.identifiant_unique
left join communes on acteurs.identifiant_unique = communes.identifiant_unique
left join epcis on communes.code_epci = epcis.code
