-- Actors shown on the map per EPCI and action (analysts: run with `dbt compile`, then psql).
select
    coalesce(acteurs.code_epci, '(sans EPCI)') as code_epci,
    actions.code as action,
    count(distinct acteurs.identifiant_unique) as acteurs
from {{ ref('carte_acteurs') }} as acteurs
inner join {{ ref('carte_propositions') }} as propositions on acteurs.identifiant_unique = propositions.acteur_id
inner join {{ ref('stg_webapp__actions') }} as actions on propositions.action_id = actions.id
group by 1, 2
order by 1, 3 desc
