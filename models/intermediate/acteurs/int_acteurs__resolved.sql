{{ config(indexes=[{'columns': ['identifiant_unique'], 'unique': true}]) }}

-- Rule 3 for every actor of the overlay: whether it is a parent or a child, its parent's
-- status, and a parent's lieu_prestation following its ACTIF children.
with acteurs as (
    select * from {{ ref('int_acteurs__overlaid') }}
),

owners as (
    select
        source_acteur_id,
        acteur_id
    from {{ ref('int_acteurs__relation_owners') }}
),

parents as (
    select
        identifiant_unique,
        statut
    from acteurs
),

children_places as (
    select
        owners.acteur_id,
        bool_or(children.lieu_prestation = 'SUR_PLACE_OU_A_DOMICILE') as any_both,
        bool_or(children.lieu_prestation = 'SUR_PLACE') as any_sur_place,
        bool_or(children.lieu_prestation = 'A_DOMICILE') as any_a_domicile,
        min(children.lieu_prestation) as only_place
    from owners
    inner join acteurs as children on owners.source_acteur_id = children.identifiant_unique
    where owners.source_acteur_id <> owners.acteur_id
    group by owners.acteur_id
),

resolved as (
    select
        acteurs.*,
        case
            when children_places.any_both or (children_places.any_sur_place and children_places.any_a_domicile)
                then 'SUR_PLACE_OU_A_DOMICILE'
            when children_places.only_place is not null then children_places.only_place
            else coalesce(acteurs.lieu_prestation, 'SUR_PLACE')
        end as lieu_prestation_resolved,
        children_places.acteur_id is not null as is_parent,
        not exists (
            select from owners
            where owners.source_acteur_id = acteurs.identifiant_unique and owners.acteur_id = acteurs.identifiant_unique
        ) as is_child,
        parents.statut as parent_statut
    from acteurs
    left join children_places on acteurs.identifiant_unique = children_places.acteur_id
    left join parents on acteurs.parent_id = parents.identifiant_unique
)

select * from resolved
