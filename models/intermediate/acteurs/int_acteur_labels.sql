{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- Rule 3: the quality labels as the map shows them (parents absorb their ACTIF children's).
{{ absorbed_relation(ref('int_acteur_labels__own'), ['labelqualite_id']) }}
