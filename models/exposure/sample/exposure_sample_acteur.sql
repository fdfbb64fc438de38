-- exposure_carte_acteur restricted to the sample's actors.
{{ rows_in_sample(ref('exposure_carte_acteur'), 'identifiant_unique') }}
