-- Coverage of sub-categories: how many shown actors offer something for each sub-category.
select
    categories.libelle as categorie,
    sous_categories.libelle as sous_categorie,
    count(distinct propositions.acteur_id) as acteurs
from {{ ref('stg_webapp__sous_categories_objet') }} as sous_categories
join {{ ref('stg_webapp__categories_objet') }} as categories on categories.id = sous_categories.categorie_id
left join {{ ref('carte_proposition_sous_categories') }} as links
    on links.souscategorieobjet_id = sous_categories.id
left join {{ ref('carte_propositions') }} as propositions on propositions.id = links.proposition_id
group by 1, 2
order by 3, 1, 2
