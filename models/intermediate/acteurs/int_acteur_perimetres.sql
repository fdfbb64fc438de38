{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- Rule 3: the perimeters as the map shows them (parents absorb their ACTIF children's).
{{ absorbed_relation(ref('int_acteur_perimetres__own'), ['type', 'valeur']) }}
