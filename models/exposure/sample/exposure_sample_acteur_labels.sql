-- exposure_carte_acteur_labels restricted to the sample's actors.
{{ rows_in_sample(ref('exposure_carte_acteur_labels'), 'displayedacteur_id') }}
