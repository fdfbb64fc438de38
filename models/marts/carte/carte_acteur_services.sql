{{ config(indexes=[{'columns': ['acteur_id']}]) }}

-- The services of the actors La Carte shows.
{{ rows_of_shown_acteurs(ref('int_acteur_services'), ['acteurservice_id']) }}
