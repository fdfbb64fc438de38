{{ config(indexes=[
    {'columns': ['identifiant_unique'], 'unique': true},
    {'columns': ['location'], 'type': 'gist'},
]) }}

-- Rule 4: the actors La Carte shows, with their public uuid (rule 5) and territory (rule 6).
with acteurs as (
    select * from {{ ref('int_acteurs__resolved') }}
),

propositions as (
    select distinct acteur_id from {{ ref('int_acteur_proposition_sous_categories') }}
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

shown as (
    select acteurs.*
    from acteurs
    where not acteurs.is_child
        and acteurs.statut = 'ACTIF'
        and (acteurs.parent_id is null or acteurs.parent_statut = 'ACTIF')
        and lower(acteurs.public_accueilli) not in ('aucun', 'professionnels')
        and acteurs.lieu_prestation_resolved <> 'A_DOMICILE'
        and exists (
            select from propositions
            where propositions.acteur_id = acteurs.identifiant_unique
        )
)

select
    shown.identifiant_unique,
    public_ids.uuid,
    {%- for column in acteur_text_columns() %}
    shown.{{ column }},
    {%- endfor %}
    shown.acteur_type_id,
    shown.source_id,
    shown.action_principale_id,
    shown.siret_is_closed,
    shown.exclusivite_de_reprisereparation,
    shown.uniquement_sur_rdv,
    shown.lieu_prestation_resolved as lieu_prestation,
    shown.location,
    shown.cree_le,
    shown.modifie_le,
    coalesce(communes.code_commune_insee, '') as code_commune_insee,
    communes.code_epci,
    epcis.id as epci_id
from shown
inner join public_ids on shown.identifiant_unique = public_ids.identifiant_unique
left join communes on shown.identifiant_unique = communes.identifiant_unique
left join epcis on communes.code_epci = epcis.code
