{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- Open data: each actor's home-service perimeters; a parent's include only its open children's.
{{ absorbed_relation(ref('int_acteur_perimetres__own'), ['type', 'valeur'], ref('opendata_relation_owners')) }}
