-- exposure_carte_propositionservice restricted to the sample's actors.
{{ rows_in_sample(ref('exposure_carte_propositionservice'), 'acteur_id') }}
