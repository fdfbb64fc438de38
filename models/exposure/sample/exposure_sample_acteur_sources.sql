-- exposure_carte_acteur_sources restricted to the sample's actors.
{{ rows_in_sample(ref('exposure_carte_acteur_sources'), 'displayedacteur_id') }}
