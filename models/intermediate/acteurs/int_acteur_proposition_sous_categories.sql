{{ config(indexes=[{'columns': ['acteur_id', 'action_id']}]) }}

-- Rule 3: the (action, sub-category) pairs as the map shows them: a parent's propositions
-- merged by action with its ACTIF children's, sub-categories united.
{{ absorbed_relation(ref('int_acteur_proposition_sous_categories__own'), ['action_id', 'souscategorieobjet_id']) }}
