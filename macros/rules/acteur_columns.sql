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
