{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- The home-service perimeters of the actors La Carte shows.
{{ rows_of_shown_acteurs(ref('int_acteur_perimetres'), ['type', 'valeur']) }}
