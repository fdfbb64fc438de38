{{ config(indexes=[{'columns': ['identifiant_unique'], 'unique': true}]) }}

-- Rule 6: the commune of each actor, from its postal code and its city name (the name
-- decides between communes sharing a postal code). No match, or two: no row.
with acteurs as (
    select
        identifiant_unique,
        code_postal,
        {{ normalize_commune_name('ville') }} as ville_normalisee
    from {{ ref('int_acteurs__overlaid') }}
    where code_postal <> ''
),

communes as (
    select
        code_insee,
        code_epci,
        code_postal,
        {{ normalize_commune_name('nom_commune') }} as nom_normalise
    from {{ ref('communes') }}
),

matched as (
    select
        acteurs.identifiant_unique,
        communes.code_insee as code_commune_insee,
        communes.code_epci,
        count(*) over (partition by acteurs.identifiant_unique) as candidates
    from acteurs
    inner join communes
        on acteurs.code_postal = communes.code_postal
            and acteurs.ville_normalisee = communes.nom_normalise
)

select
    identifiant_unique,
    code_commune_insee,
    code_epci
from matched
where candidates = 1
