-- Reference rows of the demo webapp (fixed ids: the same on every run).
insert into qfdmo_acteurtype (id, code, libelle) values
    (1, 'commerce', 'Commerce'), (2, 'artisan', 'Artisan, commerce indépendant'),
    (3, 'ess', 'Établissement de l''ESS'), (4, 'acteur_digital', 'Service en ligne'),
    (5, 'collectivite', 'Collectivité, établissement public'), (6, 'decheterie', 'Déchèterie'),
    (7, 'pav_public', 'Point d''apport volontaire public'), (8, 'association', 'Association');

insert into qfdmo_action (id, code, libelle, afficher, "order") values
    (1, 'reparer', 'réparer', true, 1), (2, 'donner', 'donner', true, 2),
    (3, 'trier', 'trier', true, 3), (4, 'echanger', 'échanger', true, 4),
    (5, 'revendre', 'revendre', true, 5), (6, 'acheter', 'acheter de seconde main', true, 6),
    (7, 'louer', 'louer', true, 7), (8, 'emprunter', 'emprunter', true, 8),
    (9, 'preter', 'prêter', true, 9), (10, 'rapporter', 'rapporter', true, 10);

insert into qfdmo_acteurservice (id, code, libelle) values
    (1, 'service_de_reparation', 'Service de réparation'), (2, 'atelier_pour_reparer_soi_meme', 'Atelier d''autoréparation'),
    (3, 'achat_revente_professionnel', 'Achat, revente par un professionnel'),
    (4, 'depot_vente', 'Dépôt-vente'), (5, 'collecte_par_une_structure_specialisee', 'Collecte par une structure spécialisée'),
    (6, 'location_par_un_professionnel', 'Location par un professionnel'),
    (7, 'pret_entre_particuliers', 'Prêt entre particuliers'), (8, 'tri_selectif', 'Tri sélectif');

insert into qfdmo_labelqualite (id, code, libelle, afficher) values
    (1, 'reparacteur', 'Répar''Acteurs', true), (2, 'qualirepar', 'QualiRépar', true),
    (3, 'ess', 'Entreprise de l''ESS', true), (4, 'refashion', 'Refashion', true),
    (5, 'bonus_reparation', 'Bonus réparation', true), (6, 'label_interne', 'Label interne', false);

insert into qfdmo_categorieobjet (id, code, libelle) values
    (1, 'vetements_accessoires', 'Vêtements et accessoires'), (2, 'electromenager', 'Électroménager'),
    (3, 'mobilier', 'Mobilier et décoration'), (4, 'loisirs', 'Loisirs et sports'),
    (5, 'multimedia', 'Multimédia'), (6, 'bricolage_jardin', 'Bricolage et jardin'),
    (7, 'enfance', 'Puériculture et jouets'), (8, 'livres_medias', 'Livres et médias');

insert into qfdmo_souscategorieobjet (id, code, libelle, categorie_id, afficher) values
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
    (36, 'partition', 'Partition', 8, false);

insert into qfdmo_source (id, code, libelle, afficher, licence) values
    (1, 'ademe', 'ADEME', true, 'OPEN_LICENSE'), (2, 'refashion', 'Refashion', true, 'CC_BY_NC_SA'),
    (3, 'ecosystem', 'Ecosystem', true, 'NO_LICENSE'), (4, 'emmaus', 'Emmaüs', true, 'ODBL'),
    (5, 'ess_france', 'ESS France', true, 'OPEN_LICENSE'), (6, 'communautes', 'Réseaux locaux', true, 'ODBL');

-- EPCI rows: ids deliberately not in code order (the web app's admin refers to these ids).
insert into qfdmo_epci (id, code, nom)
select 100 + row_number() over (order by md5(code_epci)), code_epci, nom_epci
from (select distinct code_epci, nom_epci from demo_communes) as epci;

insert into qfdmo_carteconfig (id, nom) values
    (1, 'Carte AQTA'), (2, 'Carte Pays de Montbéliard'), (3, 'Carte nationale');
insert into qfdmo_carteconfig_epci (carteconfig_id, epci_id)
select case code when '200043123' then 1 when '200065647' then 2 else 3 end, id
from qfdmo_epci;
