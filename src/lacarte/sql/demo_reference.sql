-- Reference rows of the demo webapp (fixed ids: the same on every run).
insert into qfdmo_acteurtype (id, code, libelle) values
    (1, 'commerce', 'Commerce'), (2, 'artisan', 'Artisan, commerce indépendant'),
    (3, 'ess', 'Établissement de l''ESS'), (4, 'acteur_digital', 'Service en ligne'),
    (5, 'collectivite', 'Collectivité, établissement public'), (6, 'decheterie', 'Déchèterie'),
    (7, 'pav_public', 'Point d''apport volontaire public'), (8, 'association', 'Association');

insert into qfdmo_groupeaction (id, code, afficher, description, "order", couleur, couleur_claire, fill, icon) values
    (1, 'reparer', true, 'Réparer', 1, 'green-menthe', 'green-menthe-light', true, 'fr-icon-tools-fill'),
    (2, 'donner_echanger_rapporter', true, 'Donner, échanger, rapporter', 2, 'yellow-tournesol', 'yellow-tournesol-light',
        true, 'fr-icon-gift-fill'),
    (3, 'louer_emprunter', true, 'Louer, emprunter', 3, 'purple-glycine', null, false, 'fr-icon-key-fill'),
    (4, 'acheter_revendre', true, 'Acheter, revendre', 4, 'blue-cumulus', null, false, 'fr-icon-shopping-cart-fill'),
    (5, 'trier', true, 'Trier', 5, 'brown-cafe-creme', null, false, 'fr-icon-recycle-fill');

insert into qfdmo_actiondirection (id, code, libelle, "order") values
    (1, 'jai', 'J''ai un objet', 1), (2, 'jecherche', 'Je cherche un objet', 2);

insert into qfdmo_action (id, code, libelle, afficher, "order", libelle_groupe, description, couleur, icon, groupe_action_id) values
    (1, 'reparer', 'réparer', true, 1, 'réparer', 'Faire réparer un objet', 'green-menthe', 'fr-icon-tools-fill', 1),
    (2, 'donner', 'donner', true, 2, 'donner', null, 'yellow-tournesol', null, 2),
    (3, 'trier', 'trier', true, 3, 'trier', null, null, null, 5),
    (4, 'echanger', 'échanger', true, 4, 'échanger', null, null, null, 2),
    (5, 'revendre', 'revendre', true, 5, 'revendre', null, null, null, 4),
    (6, 'acheter', 'acheter de seconde main', true, 6, 'acheter', null, null, null, 4),
    (7, 'louer', 'louer', true, 7, 'louer', null, null, null, 3),
    (8, 'emprunter', 'emprunter', true, 8, 'emprunter', null, null, null, 3),
    (9, 'preter', 'prêter', true, 9, 'prêter', null, null, null, 3),
    (10, 'rapporter', 'rapporter', true, 10, 'rapporter', null, null, null, 2);

insert into qfdmo_action_directions (action_id, actiondirection_id)
select id, case when code in ('acheter', 'louer', 'emprunter') then 2 else 1 end from qfdmo_action
union all select id, 2 from qfdmo_action where code = 'reparer'
order by 1, 2;

insert into qfdmo_acteurservice (id, code, libelle) values
    (1, 'service_de_reparation', 'Service de réparation'), (2, 'atelier_pour_reparer_soi_meme', 'Atelier d''autoréparation'),
    (3, 'achat_revente_professionnel', 'Achat, revente par un professionnel'),
    (4, 'depot_vente', 'Dépôt-vente'), (5, 'collecte_par_une_structure_specialisee', 'Collecte par une structure spécialisée'),
    (6, 'location_par_un_professionnel', 'Location par un professionnel'),
    (7, 'pret_entre_particuliers', 'Prêt entre particuliers'), (8, 'tri_selectif', 'Tri sélectif');

insert into qfdmo_acteurservice_actions (acteurservice_id, action_id) values
    (1, 1), (2, 1), (3, 5), (3, 6), (4, 5), (5, 2), (5, 10), (6, 7), (7, 8), (7, 9), (8, 3);

insert into qfdmo_labelqualite (
    id, code, libelle, afficher, bonus, type_enseigne, url, logo_file, filtre, filtre_label,
    filtre_texte_d_aide, logo_filtre, "order"
) values
    (1, 'reparacteur', 'Répar''Acteurs', true, false, false, 'https://www.artisanat.fr', null, true,
        'Répar''Acteurs', 'Artisans engagés dans la réparation', null, 1),
    (2, 'qualirepar', 'QualiRépar', true, true, false, null, 'logos/qualirepar.png', true, 'Bonus réparation',
        'Réparateurs labellisés ouvrant droit au bonus', 'logos/qualirepar_filtre.png', 2),
    (3, 'ess', 'Entreprise de l''ESS', true, false, true, null, null, false, '', '', null, 3),
    (4, 'refashion', 'Refashion', true, true, false, null, null, false, '', '', null, 4),
    (5, 'bonus_reparation', 'Bonus réparation', true, true, false, null, null, false, '', '', null, 5),
    (6, 'label_interne', 'Label interne', false, false, false, null, null, false, '', '', null, 6);

insert into qfdmo_categorieobjet (id, code, libelle) values
    (1, 'vetements_accessoires', 'Vêtements et accessoires'), (2, 'electromenager', 'Électroménager'),
    (3, 'mobilier', 'Mobilier et décoration'), (4, 'loisirs', 'Loisirs et sports'),
    (5, 'multimedia', 'Multimédia'), (6, 'bricolage_jardin', 'Bricolage et jardin'),
    (7, 'enfance', 'Puériculture et jouets'), (8, 'livres_medias', 'Livres et médias');

insert into qfdmo_souscategorieobjet (id, code, libelle, categorie_id, afficher, afficher_carte, reemploi_possible)
select id, code, libelle, categorie_id, afficher, afficher, id % 7 <> 0
from (values
    (1, 'vetement', 'Vêtement', 1, true), (2, 'chaussures', 'Chaussures', 1, true),
    (3, 'maroquinerie', 'Maroquinerie', 1, true), (4, 'bijou', 'Bijou, montre', 1, true),
    (5, 'linge_de_maison', 'Linge de maison', 1, true), (6, 'gros_electromenager_froid', 'Gros électroménager (froid)', 2, true),
    (7, 'gros_electromenager_hors_froid', 'Gros électroménager (hors froid)', 2, true),
    (8, 'petit_electromenager', 'Petit électroménager', 2, true), (9, 'aspirateur', 'Aspirateur', 2, true),
    (10, 'machine_a_cafe', 'Machine à café', 2, true), (11, 'meuble', 'Meuble', 3, true),
    (12, 'luminaire', 'Luminaire', 3, true), (13, 'vaisselle', 'Vaisselle', 3, true),
    (14, 'decoration', 'Décoration', 3, true), (15, 'literie', 'Literie', 3, true),
    (16, 'velo', 'Vélo', 4, true), (17, 'article_de_sport', 'Article de sport', 4, true),
    (18, 'jeux_video', 'Jeux vidéo', 4, true), (19, 'instrument_de_musique', 'Instrument de musique', 4, true),
    (20, 'camping', 'Matériel de camping', 4, true), (21, 'smartphone', 'Smartphone, tablette', 5, true),
    (22, 'ordinateur', 'Ordinateur', 5, true), (23, 'ecran', 'Écran, télévision', 5, true),
    (24, 'hifi', 'Matériel hi-fi', 5, true), (25, 'appareil_photo', 'Appareil photo', 5, true),
    (26, 'outil_de_bricolage', 'Outil de bricolage', 6, true), (27, 'outillage_jardin', 'Outillage de jardin', 6, true),
    (28, 'tondeuse', 'Tondeuse', 6, true), (29, 'materiaux', 'Matériaux de construction', 6, true),
    (30, 'puericulture', 'Puériculture', 7, true), (31, 'jouet', 'Jouet', 7, true),
    (32, 'poussette', 'Poussette', 7, true), (33, 'livre', 'Livre', 8, true),
    (34, 'cd_dvd', 'CD, DVD', 8, true), (35, 'bande_dessinee', 'Bande dessinée', 8, true),
    (36, 'partition', 'Partition', 8, false)
) as sous_categories (id, code, libelle, categorie_id, afficher);

insert into qfdmo_objet (id, code, libelle, sous_categorie_id, identifiant_qfdmod)
select 100 + id, code || '_type', 'Exemple de ' || lower(libelle), id, 1000 + id
from qfdmo_souscategorieobjet;

insert into qfdmo_source (id, code, libelle, afficher, url, logo_file, licence) values
    (1, 'ademe', 'ADEME', true, 'https://www.ademe.fr', 'logos/ademe.png', 'OPEN_LICENSE'),
    (2, 'refashion', 'Refashion', true, 'https://refashion.fr', null, 'CC_BY_NC_SA'),
    (3, 'ecosystem', 'Ecosystem', true, null, null, 'NO_LICENSE'),
    (4, 'emmaus', 'Emmaüs', true, null, null, 'ODBL'),
    (5, 'ess_france', 'ESS France', true, null, null, 'OPEN_LICENSE'),
    (6, 'communautes', 'Réseaux locaux', true, null, null, 'ODBL');

-- EPCI rows: ids deliberately not in code order (the web app's admin refers to these ids).
insert into qfdmo_epci (id, code, nom)
select 100 + row_number() over (order by md5(code_epci)), code_epci, nom_epci
from (select distinct code_epci, nom_epci from demo_communes) as epci;

insert into qfdmo_carteconfig (
    id, nom, slug, cacher_legende, supprimer_branding, titre_previsualisation, contenu_previsualisation,
    mode_affichage, "SOLUTION_TEMPORAIRE_A_SUPPRIMER_DES_QUE_POSSIBLE_parametres_url", nombre_d_acteurs_affiches,
    bounding_box, bonus_reparation, cacher_filtre_objet, test
) values
    (1, 'Carte AQTA', 'carte-aqta', false, false, 'Réparer à Auray', 'Les réparateurs du territoire', 'carte',
        '?epci=200043123', 50, null, true, false, false),
    (2, 'Carte Pays de Montbéliard', 'carte-pma', true, false, 'Pays de Montbéliard', 'Réemploi et réparation',
        'liste', '', null, null, false, true, false),
    (3, 'Carte nationale', 'carte-nationale', false, true, 'La Carte', '', 'carte', '', null,
        st_geomfromtext('POLYGON((-5 41, 10 41, 10 51.5, -5 51.5, -5 41))', 4326), false, false, true);
insert into qfdmo_carteconfig_epci (carteconfig_id, epci_id)
select case code when '200043123' then 1 when '200065647' then 2 else 3 end, id
from qfdmo_epci;
insert into qfdmo_carteconfig_acteur_type (carteconfig_id, acteurtype_id) values (1, 1), (1, 2), (2, 3);
insert into qfdmo_carteconfig_action (carteconfig_id, action_id) values (1, 1), (2, 1), (2, 2);
insert into qfdmo_carteconfig_direction (carteconfig_id, actiondirection_id) values (1, 1), (3, 2);
insert into qfdmo_carteconfig_groupe_action (carteconfig_id, groupeaction_id) values (1, 1), (3, 4);
insert into qfdmo_carteconfig_label_qualite (carteconfig_id, labelqualite_id) values (1, 2);
insert into qfdmo_carteconfig_source (carteconfig_id, source_id) values (2, 1), (2, 5);
insert into qfdmo_carteconfig_sous_categorie_objet (carteconfig_id, souscategorieobjet_id) values (1, 16), (2, 33);
insert into qfdmo_groupeactionconfig (carte_config_id, groupe_action_id, acteur_type_id, icon) values
    (1, 1, null, 'icons/reparer.svg'), (2, null, 2, 'icons/artisan.svg');
