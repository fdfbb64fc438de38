{{ config(indexes=[
    {'columns': ['identifiant_unique'], 'unique': true},
    {'columns': ['uuid'], 'unique': true},
]) }}

-- The actors of the open-data file: one row per actor of the map's rules 1-4 (home-only
-- actors included) whose source is under OPEN_LICENSE, or a parent of such ACTIF children,
-- built from those open children only, with its contributors and territory. What the file
-- must not share is NULL here: mobile numbers (and every number of a source production
-- withholds), the street address of home-only actors.
with resolved as (
    select * from {{ ref('int_acteurs__resolved') }}
),

offered as (
    select distinct acteur_id from {{ ref('opendata_proposition_sous_categories') }}
),

acteurs as (
    -- rules 1-4 but for home-only actors, on the open relations
    select
        resolved.*,
        public_ids.uuid
    from resolved
    inner join {{ ref('int_acteurs__public_ids') }} as public_ids
        on resolved.identifiant_unique = public_ids.identifiant_unique
    where not resolved.is_child
        and resolved.statut = 'ACTIF'
        and (resolved.parent_id is null or resolved.parent_statut = 'ACTIF')
        and lower(resolved.public_accueilli) not in ('aucun', 'professionnels')
        and exists (
            select from offered
            where offered.acteur_id = resolved.identifiant_unique
        )
),

sources as (
    select
        id,
        code,
        libelle,
        licence
    from {{ ref('stg_webapp__sources') }}
),

owners as (
    select
        source_acteur_id,
        acteur_id
    from {{ ref('opendata_relation_owners') }}
),

contributions as (
    -- each actor's contributing rows: its own, or a parent's open ACTIF children's
    select distinct
        owners.acteur_id,
        overlaid.source_id,
        overlaid.identifiant_externe
    from owners
    inner join {{ ref('int_acteurs__overlaid') }} as overlaid on owners.source_acteur_id = overlaid.identifiant_unique
    inner join sources on overlaid.source_id = sources.id
    where sources.licence = 'OPEN_LICENSE'
),

contributors as (
    select
        contributions.acteur_id,
        string_agg(distinct sources.libelle, '|' order by sources.libelle) as libelles,
        -- one object per (source, id), in a stable order (production's format)
        jsonb_agg(
            jsonb_build_object(sources.libelle, contributions.identifiant_externe)
            order by sources.libelle, contributions.identifiant_externe
        ) as identifiants,
        bool_or(sources.code in (
            {%- for code in var('opendata_telephone_withheld_sources') %}
            {{ sql_literal(code) }}{{ ',' if not loop.last }}
            {%- endfor %}
        )) as withholds_telephone
    from contributions
    inner join sources on contributions.source_id = sources.id
    group by contributions.acteur_id
),

communes as (
    select * from {{ ref('int_acteurs__communes') }}
),

epcis as (
    select distinct
        code_epci,
        nom_epci
    from {{ ref('communes') }}
)

select
    acteurs.identifiant_unique,
    acteurs.uuid,
    'Que faire de mes objets et déchets|ADEME|' || contributors.libelles as paternite,
    contributors.identifiants as identifiants_des_contributeurs,
    acteurs.nom,
    acteurs.nom_commercial,
    acteurs.siren,
    acteurs.siret,
    acteurs.description,
    acteurs.acteur_type_id,
    acteurs.url,
    case
        when acteurs.telephone ~ '^(0[67]|\+33 ?[67])' or contributors.withholds_telephone then null
        else acteurs.telephone
    end as telephone,
    case when acteurs.lieu_prestation_resolved = 'A_DOMICILE' then null else acteurs.adresse end as adresse,
    case when acteurs.lieu_prestation_resolved = 'A_DOMICILE' then null else acteurs.adresse_complement end
        as adresse_complement,
    acteurs.code_postal,
    acteurs.ville,
    coalesce(communes.code_commune_insee, '') as code_commune_insee,
    communes.code_epci,
    epcis.nom_epci,
    st_y(acteurs.location::geometry) as latitude,
    st_x(acteurs.location::geometry) as longitude,
    acteurs.public_accueilli,
    acteurs.reprise,
    acteurs.exclusivite_de_reprisereparation,
    acteurs.uniquement_sur_rdv,
    acteurs.consignes_dacces,
    acteurs.horaires_description,
    acteurs.horaires_osm,
    acteurs.lieu_prestation_resolved as lieu_prestation,
    acteurs.modifie_le
from acteurs
inner join contributors on acteurs.identifiant_unique = contributors.acteur_id
left join communes on acteurs.identifiant_unique = communes.identifiant_unique
left join epcis on communes.code_epci = epcis.code_epci
