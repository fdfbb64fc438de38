-- exposure_carte_acteur_acteur_services restricted to the sample's actors.
{{ rows_in_sample(ref('exposure_carte_acteur_acteur_services'), 'displayedacteur_id') }}
