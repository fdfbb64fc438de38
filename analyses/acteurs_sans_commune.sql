-- Shown actors whose postal code and city name match no commune of the seed (territory unknown).
select
    code_postal,
    ville,
    count(*) as acteurs
from {{ ref('carte_acteurs') }}
where code_commune_insee is null and location is not null
group by 1, 2
order by 3 desc
limit 100
