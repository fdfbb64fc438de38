{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- Rule 2: each actor's own home-service perimeters.
{{ own_relation(ref('stg_webapp__perimetres_a_domicile'), ref('stg_webapp__revision_perimetres_a_domicile'),
    ['type', 'valeur']) }}
