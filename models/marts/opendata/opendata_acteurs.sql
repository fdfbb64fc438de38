{{ config(indexes=[{'columns': ['identifiant_unique'], 'unique': true}]) }}

-- The open-data export: one row per actor of the map's rules 1-4 (home-only actors included)
-- whose source is under OPEN_LICENSE, or a parent of such ACTIF children, built from those
-- open children only; with its contributors, labels, services and, per action, the codes of
-- its sub-categories. Mobile numbers and the addresses of home-only actors are left out.
{#- One column per action of the webapp (none in a unit test, whose inputs are not tables). -#}
{%- set action_codes = [] %}
{%- set actions_table = ref('stg_webapp__actions') %}
{%- if execute and actions_table.schema %}
{%- set action_codes = run_query(
    "select code from " ~ actions_table ~ " order by \"order\", code"
).columns[0].values() %}
{%- endif %}

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
    -- each actor's contributing rows: its own, or a parent's ACTIF children's
    select
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
        -- one id per source: the smallest, whatever order the rows come in (the last key wins)
        jsonb_object_agg(
            sources.libelle, contributions.identifiant_externe order by contributions.identifiant_externe desc
        ) as identifiants
    from contributions
    inner join sources on contributions.source_id = sources.id
    group by contributions.acteur_id
),

labels as (
    select
        open_labels.acteur_id,
        string_agg(l.code, '|' order by l.code) as codes
    from {{ ref('opendata_acteur_labels') }} as open_labels
    inner join {{ ref('stg_webapp__labels') }} as l on open_labels.labelqualite_id = l.id
    group by open_labels.acteur_id
),

services as (
    select
        open_services.acteur_id,
        string_agg(s.code, '|' order by s.code) as codes
    from {{ ref('opendata_acteur_services') }} as open_services
    inner join {{ ref('stg_webapp__acteur_services') }} as s on open_services.acteurservice_id = s.id
    group by open_services.acteur_id
),

offers as (
    select
        pairs.acteur_id,
        actions.code as action_code,
        string_agg(sous_categories.code, '|' order by sous_categories.code) as codes
    from {{ ref('opendata_proposition_sous_categories') }} as pairs
    inner join {{ ref('stg_webapp__actions') }} as actions on pairs.action_id = actions.id
    inner join {{ ref('stg_webapp__sous_categories_objet') }} as sous_categories
        on pairs.souscategorieobjet_id = sous_categories.id
    group by pairs.acteur_id, actions.code
),

offers_by_action as (
    select
        {%- for code in action_codes %}
        max(codes) filter (where action_code = {{ sql_literal(code) }}) as {{ adapter.quote(code) }},
        {%- endfor %}
        acteur_id
    from offers
    group by acteur_id
)

select
    acteurs.identifiant_unique,
    acteurs.uuid,
    acteurs.nom,
    acteurs.nom_commercial,
    acteurs.nom_officiel,
    case when acteurs.lieu_prestation_resolved = 'A_DOMICILE' then '' else acteurs.adresse end as adresse,
    case when acteurs.lieu_prestation_resolved = 'A_DOMICILE' then '' else acteurs.adresse_complement end
        as adresse_complement,
    case when acteurs.lieu_prestation_resolved = 'A_DOMICILE' then '' else acteurs.code_postal end as code_postal,
    case when acteurs.lieu_prestation_resolved = 'A_DOMICILE' then '' else acteurs.ville end as ville,
    acteurs.url,
    acteurs.email,
    case when acteurs.telephone ~ '^(0[67]|\+33 ?[67])' then '' else acteurs.telephone end as telephone,
    st_y(acteurs.location::geometry) as latitude,
    st_x(acteurs.location::geometry) as longitude,
    'Que faire de mes objets et déchets|ADEME|' || contributors.libelles as paternite,
    contributors.identifiants as identifiants_des_contributeurs,
    coalesce(labels.codes, '') as labels,
    {%- for code in action_codes %}
    coalesce(offers_by_action.{{ adapter.quote(code) }}, '') as {{ adapter.quote(code) }},
    {%- endfor %}
    coalesce(services.codes, '') as services
from acteurs
inner join contributors on acteurs.identifiant_unique = contributors.acteur_id
left join labels on acteurs.identifiant_unique = labels.acteur_id
left join services on acteurs.identifiant_unique = services.acteur_id
left join offers_by_action on acteurs.identifiant_unique = offers_by_action.acteur_id
