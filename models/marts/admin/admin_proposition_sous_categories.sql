{{ config(indexes=[{'columns': ['proposition_id']}]) }}

-- The sub-categories of the admin view's propositions.
with sous_categories as (
    select * from {{ ref('int_acteur_proposition_sous_categories__own') }}
),

propositions as (
    select
        id,
        acteur_id,
        action_id
    from {{ ref('admin_propositions') }}
)

select
    propositions.id as proposition_id,
    sous_categories.souscategorieobjet_id
from sous_categories
inner join propositions
    on sous_categories.acteur_id = propositions.acteur_id
        and sous_categories.action_id = propositions.action_id
