-- exposure_carte_propositionservice_sous_categories restricted to the sample's actors.
select sous_categories.*
from {{ ref('exposure_carte_propositionservice_sous_categories') }} as sous_categories
join {{ ref('exposure_sample_propositionservice') }} as propositions
    on propositions.id = sous_categories.displayedpropositionservice_id
