{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- Open data: each actor's services; a parent's include only its open children's.
{{ absorbed_relation(ref('int_acteur_services__own'), ['acteurservice_id'], ref('opendata_relation_owners')) }}
