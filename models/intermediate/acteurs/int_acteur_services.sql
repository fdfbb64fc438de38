{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- Rule 3: the services as the map shows them (parents absorb their ACTIF children's).
{{ absorbed_relation(ref('int_acteur_services__own'), ['acteurservice_id']) }}
