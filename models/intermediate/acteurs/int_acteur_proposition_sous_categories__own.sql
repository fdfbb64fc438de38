{{ config(indexes=[{'columns': ['acteur_id', 'action_id']}]) }}

-- Rule 2: each actor's own (action, sub-category) pairs.
{% set acteur_side %}
    (
        select propositions.acteur_id, propositions.action_id, sous_categories.souscategorieobjet_id
        from {{ ref('stg_webapp__propositions_service') }} as propositions
        join {{ ref('stg_webapp__proposition_service_sous_categories') }} as sous_categories
            on sous_categories.proposition_id = propositions.id
    )
{% endset %}
{% set revision_side %}
    (
        select propositions.acteur_id, propositions.action_id, sous_categories.souscategorieobjet_id
        from {{ ref('stg_webapp__revision_propositions_service') }} as propositions
        join {{ ref('stg_webapp__revision_proposition_service_sous_categories') }} as sous_categories
            on sous_categories.proposition_id = propositions.id
    )
{% endset %}

{{ own_relation(acteur_side, revision_side, ['action_id', 'souscategorieobjet_id']) }}
