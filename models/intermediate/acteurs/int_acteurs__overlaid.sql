{{ config(indexes=[{'columns': ['identifiant_unique'], 'unique': true}, {'columns': ['parent_id']}]) }}

-- Rule 1: every actor, imported or revised, with the revision laid over the import.
with acteurs as (
    select * from {{ ref('stg_webapp__acteurs') }}
),

revisions as (
    select * from {{ ref('stg_webapp__revision_acteurs') }}
),

overlaid as (
    select
        coalesce(revisions.identifiant_unique, acteurs.identifiant_unique) as identifiant_unique,
        {%- for column in acteur_text_columns() %}
        case
            when revisions.{{ column }} = '__empty__' then ''
            when revisions.{{ column }} <> '' then revisions.{{ column }}
            else coalesce(acteurs.{{ column }}, '')
        end as {{ column }},
        {%- endfor %}
        {%- for column in acteur_nullable_columns() %}
        coalesce(revisions.{{ column }}, acteurs.{{ column }}) as {{ column }},
        {%- endfor %}
        coalesce(acteurs.cree_le, revisions.cree_le) as cree_le,
        coalesce(revisions.modifie_le, acteurs.modifie_le) as modifie_le,
        revisions.parent_id,
        revisions.identifiant_unique is not null as has_revision,
        acteurs.identifiant_unique is null as is_revision_only
    from acteurs
    full outer join revisions on acteurs.identifiant_unique = revisions.identifiant_unique
)

select * from overlaid
