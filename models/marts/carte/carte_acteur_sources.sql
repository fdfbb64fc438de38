{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- The sources of the actors La Carte shows.
{{ rows_of_shown_acteurs(ref('int_acteur_sources'), ['source_id']) }}
