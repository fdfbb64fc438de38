{{ config(indexes=[{'columns': ['acteur_id', 'action_id']}]) }}

-- Open data: each actor's (action, sub-category) pairs; a parent's merged by action with its
-- open children's only.
{{ absorbed_relation(
    ref('int_acteur_proposition_sous_categories__own'),
    ['action_id', 'souscategorieobjet_id'],
    ref('opendata_relation_owners')
) }}
