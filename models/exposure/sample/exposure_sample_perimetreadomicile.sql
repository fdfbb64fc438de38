-- exposure_carte_perimetreadomicile restricted to the sample's actors.
{{ rows_in_sample(ref('exposure_carte_perimetreadomicile'), 'acteur_id') }}
