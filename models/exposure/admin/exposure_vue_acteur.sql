{{ config(indexes=[{'columns': ['parent_id']}]) }}

-- What qfdmo_vueacteur receives: every actor, for the web app's admin.
select
    identifiant_unique::varchar(255) as identifiant_unique,
    uuid::varchar(255) as uuid,
    {%- for column in acteur_text_columns() %}
    {{ column }}::text as {{ column }},
    {%- endfor %}
    acteur_type_id::integer as acteur_type_id,
    source_id::integer as source_id,
    action_principale_id::integer as action_principale_id,
    siret_is_closed::boolean as siret_is_closed,
    exclusivite_de_reprisereparation::boolean as exclusivite_de_reprisereparation,
    uniquement_sur_rdv::boolean as uniquement_sur_rdv,
    lieu_prestation::text as lieu_prestation,
    location,
    cree_le::timestamptz as cree_le,
    modifie_le::timestamptz as modifie_le,
    code_commune_insee::varchar(10) as code_commune_insee,
    epci_id::integer as epci_id,
    parent_id::varchar(255) as parent_id,
    liste_enfants::jsonb as liste_enfants,
    nombre_enfants::integer as nombre_enfants,
    est_dans_carte::boolean as est_dans_carte,
    est_dans_opendata::boolean as est_dans_opendata,
    est_parent::boolean as est_parent,
    revision_existe::boolean as revision_existe,
    latitude::double precision as latitude,
    longitude::double precision as longitude
from {{ ref('admin_acteurs') }}
