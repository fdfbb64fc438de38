{{ config(indexes=[{'columns': ['identifiant_unique'], 'unique': true}, {'columns': ['parent_id']}]) }}

with source as (
    select * from {{ source('webapp', 'qfdmo_revisionacteur') }}
    {{ slice_filter('qfdmo_revisionacteur') }}
),

renamed as (
    select
        identifiant_unique,
        nom,
        description,
        acteur_type_id,
        adresse,
        adresse_complement,
        code_postal,
        ville,
        url,
        email,
        telephone,
        nom_commercial,
        nom_officiel,
        siren,
        siret,
        siret_is_closed,
        source_id,
        identifiant_externe,
        statut,
        naf_principal,
        commentaires,
        horaires_osm,
        horaires_description,
        public_accueilli,
        reprise,
        exclusivite_de_reprisereparation,
        uniquement_sur_rdv,
        consignes_dacces,
        action_principale_id,
        lieu_prestation,
        location,
        cree_le,
        modifie_le,
        parent_id,
        parent_reason
    from source
)

select * from renamed
