{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- The relation after the revision and parent rules (see relation_of_acteurs).
{{ relation_of_acteurs(
    ref('stg_webapp__perimetres_a_domicile'), 'acteur_id',
    ref('stg_webapp__revision_perimetres_a_domicile'), 'acteur_id',
    ['type', 'valeur']) }}
