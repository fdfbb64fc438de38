{{ config(indexes=[{'columns': ['acteur_id', 'action_id']}]) }}

-- A proposition is an (action, sub-category) pair here: merged by action and united
-- across a parent's children. Propositions without sub-categories give no row.
{% set acteur_side %}
    (
        select propositions.acteur_id, propositions.action_id, sous_categories.souscategorieobjet_id
        from {{ ref('stg_webapp__propositions_service') }} as propositions
        join {{ ref('stg_webapp__proposition_service_sous_categories') }} as sous_categories
            on sous_categories.propositionservice_id = propositions.id
    )
{% endset %}
{% set revision_side %}
    (
        select propositions.acteur_id, propositions.action_id, sous_categories.souscategorieobjet_id
        from {{ ref('stg_webapp__revision_propositions_service') }} as propositions
        join {{ ref('stg_webapp__revision_proposition_service_sous_categories') }} as sous_categories
            on sous_categories.revisionpropositionservice_id = propositions.id
    )
{% endset %}

{{ relation_of_acteurs(acteur_side, 'acteur_id', revision_side, 'acteur_id',
    ['action_id', 'souscategorieobjet_id']) }}
