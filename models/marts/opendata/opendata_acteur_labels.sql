{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- Open data: each actor's labels; a parent's include only its open children's.
{{ absorbed_relation(ref('int_acteur_labels__own'), ['labelqualite_id'], ref('opendata_relation_owners')) }}
