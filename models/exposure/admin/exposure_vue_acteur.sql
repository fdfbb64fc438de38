{{ config(indexes=[{'columns': ['parent_id']}]) }}

-- What qfdmo_vueacteur receives: every actor, for the web app's admin.
select
    {{ exposed_acteur_columns() }},
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
