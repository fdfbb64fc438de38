{{ config(indexes=[{'columns': ['identifiant'], 'unique': true}]) }}

-- The open-data file, exactly as production publishes it: its 44 columns in the order of
-- production's model (exposure_opendata_acteur of incubateur-ademe/quefairedemesobjets), its
-- formats (codes joined with |, JSON arrays, dates as YYYY-MM-DD) and NULL where production
-- writes nothing. `lacarte opendata export` writes it as CSV, ordered by identifiant.
with acteurs as (
    select * from {{ ref('opendata_acteurs') }}
),

acteur_types as (
    select
        id,
        code
    from {{ ref('stg_webapp__acteur_types') }}
),

labels as (
    select
        open_labels.acteur_id,
        string_agg(distinct labels.code, '|' order by labels.code) as codes
    from {{ ref('opendata_acteur_labels') }} as open_labels
    inner join {{ ref('stg_webapp__labels') }} as labels on open_labels.labelqualite_id = labels.id
    group by open_labels.acteur_id
),

services as (
    select
        open_services.acteur_id,
        string_agg(distinct services.code, '|' order by services.code) as codes
    from {{ ref('opendata_acteur_services') }} as open_services
    inner join {{ ref('stg_webapp__acteur_services') }} as services
        on open_services.acteurservice_id = services.id
    group by open_services.acteur_id
),

perimetres as (
    select
        acteur_id,
        jsonb_agg(jsonb_build_object('type', type, 'valeur', valeur) order by type, valeur) as perimetres
    from {{ ref('opendata_perimetres') }}
    group by acteur_id
),

offers as (
    -- each actor's sub-category codes per action code
    select
        pairs.acteur_id,
        actions.code as action_code,
        array_agg(distinct sous_categories.code order by sous_categories.code) as sous_categories
    from {{ ref('opendata_proposition_sous_categories') }} as pairs
    inner join {{ ref('stg_webapp__actions') }} as actions on pairs.action_id = actions.id
    inner join {{ ref('stg_webapp__sous_categories_objet') }} as sous_categories
        on pairs.souscategorieobjet_id = sous_categories.id
    group by pairs.acteur_id, actions.code
),

propositions as (
    select
        acteur_id,
        {%- for action in opendata_action_columns() %}
        array_to_string(
            max(sous_categories) filter (where action_code = {{ sql_literal(action) }}), '|'
        ) as {{ action }},
        {%- endfor %}
        jsonb_agg(
            jsonb_build_object('action', action_code, 'sous_categories', to_jsonb(sous_categories))
            order by action_code
        ) as propositions
    from offers
    group by acteur_id
)

select
    acteurs.uuid::text as identifiant,
    acteurs.paternite::text as paternite,
    acteurs.identifiants_des_contributeurs::jsonb as identifiants_des_contributeurs,
    acteurs.nom::text as nom,
    acteurs.nom_commercial::text as nom_commercial,
    acteurs.siren::text as siren,
    acteurs.siret::text as siret,
    acteurs.description::text as description,
    acteur_types.code::text as type_dacteur,
    acteurs.url::text as site_web,
    acteurs.telephone::text as telephone,
    acteurs.adresse::text as adresse,
    acteurs.adresse_complement::text as complement_dadresse,
    acteurs.code_postal::text as code_postal,
    acteurs.ville::text as ville,
    acteurs.code_commune_insee::text as code_commune,
    acteurs.code_epci::text as code_epci,
    acteurs.nom_epci::text as nom_epci,
    acteurs.latitude::double precision as latitude,
    acteurs.longitude::double precision as longitude,
    labels.codes::text as qualites_et_labels,
    acteurs.public_accueilli::text as public_accueilli,
    acteurs.reprise::text as reprise,
    acteurs.exclusivite_de_reprisereparation::boolean as exclusivite_de_reprisereparation,
    acteurs.uniquement_sur_rdv::boolean as uniquement_sur_rdv,
    services.codes::text as type_de_services,
    acteurs.consignes_dacces::text as consignes_dacces,
    acteurs.horaires_description::text as horaires_description,
    acteurs.horaires_osm::text as horaires_osm,
    acteurs.lieu_prestation::text as lieu_prestation,
    perimetres.perimetres::jsonb as perimetreadomicile,
    propositions.propositions::text as propositions_de_services,
    {%- for action in opendata_action_columns() %}
    propositions.{{ action }}::text as {{ action }},
    {%- endfor %}
    to_char(acteurs.modifie_le at time zone 'UTC', 'YYYY-MM-DD')::text as date_de_derniere_modification
from acteurs
left join acteur_types on acteurs.acteur_type_id = acteur_types.id
left join labels on acteurs.identifiant_unique = labels.acteur_id
left join services on acteurs.identifiant_unique = services.acteur_id
left join perimetres on acteurs.identifiant_unique = perimetres.acteur_id
left join propositions on acteurs.identifiant_unique = propositions.acteur_id
