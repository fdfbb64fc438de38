{#- The actor columns by overlay rule (domain rule 1). -#}
{% macro acteur_text_columns() %}
    {%- do return([
        'nom', 'description', 'adresse', 'adresse_complement', 'code_postal', 'ville', 'url',
        'email', 'telephone', 'nom_commercial', 'nom_officiel', 'siren', 'siret',
        'identifiant_externe', 'statut', 'naf_principal', 'commentaires', 'horaires_osm',
        'horaires_description', 'public_accueilli', 'reprise', 'consignes_dacces',
    ]) -%}
{% endmacro %}

{% macro acteur_nullable_columns() %}
    {%- do return([
        'acteur_type_id', 'source_id', 'action_principale_id', 'siret_is_closed',
        'exclusivite_de_reprisereparation', 'uniquement_sur_rdv', 'lieu_prestation', 'location',
    ]) -%}
{% endmacro %}


{#- The columns every published actor table receives (qfdmo_displayedacteur, qfdmo_vueacteur),
    cast to the webapp's types, from a mart with the same column names. -#}
{% macro exposed_acteur_columns() %}
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
    epci_id::integer as epci_id
{%- endmacro %}
