-- Coverage of sub-categories: how many shown actors offer something for each sub-category.
select
    categories.libelle as categorie,
    sous_categories.libelle as sous_categorie,
    count(distinct propositions.acteur_id) as acteurs
from {{ ref('stg_webapp__sous_categories_objet') }} as sous_categories
inner join {{ ref('stg_webapp__categories_objet') }} as categories on sous_categories.categorie_id = categories.id
left join {{ ref('carte_proposition_sous_categories') }} as links
    on sous_categories.id = links.souscategorieobjet_id
left join {{ ref('carte_propositions') }} as propositions on links.proposition_id = propositions.id
group by 1, 2
order by 3, 1, 2
