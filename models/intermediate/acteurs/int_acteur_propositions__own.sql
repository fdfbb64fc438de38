{{ config(indexes=[{'columns': ['acteur_id', 'action_id']}]) }}

-- Rule 2: each actor's own propositions (an action it offers), with or without sub-categories.
{{ own_relation(ref('stg_webapp__propositions_service'), ref('stg_webapp__revision_propositions_service'),
    ['action_id']) }}
