{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- The labels of the actors La Carte shows.
{{ rows_of_shown_acteurs(ref('int_acteur_labels'), ['labelqualite_id']) }}
