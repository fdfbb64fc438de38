-- Demo actors, generated server-side and deterministically from {seed} for {n} actors.
-- Every pseudo-random choice is pg_temp.h(i, stream, modulo): a hash of (i, stream, seed).
-- Blocks of 50 consecutive actors carry the rule cases: 1-3 children of a parent (3 INACTIF),
-- 10-16 revisions (10 renamed and "__empty__", 11 INACTIF, 12 moved, 13 relations blanked,
-- 14 home-only, 15 relations corrected, 16 telephone blanked / public "Aucun").
-- Places: 5 % of the first 50,000 in the two sample territories, most others in the 30 cities
-- of the seed, 3 % in hamlets that match no commune (their territory stays NULL).

-- step: helper functions
create function pg_temp.h(i bigint, k int, m int) returns int
language sql immutable parallel safe
as $$ select (abs(hashint8extended(i * 1000 + k, {seed})) % m)::int $$;

create function pg_temp.acteur_id(i bigint) returns varchar
language sql immutable parallel safe
as $$ select (array['ademe', 'refashion', 'ecosystem', 'emmaus', 'ess_france', 'communautes'])
    [pg_temp.h(i, 3, 6) + 1] || '_ext' || lpad(i::text, 8, '0') $$;

create function pg_temp.parent_id(block bigint) returns varchar
language sql immutable parallel safe
as $$ select md5('parent-' || block || '-' || {seed})::uuid::text $$;

create temp table demo_places as
select 'S' || (row_number() over (order by code_insee) - 1) as place_key, *
from demo_communes where code_epci in ('200043123', '200065647')
union all
select 'C' || (row_number() over (order by code_insee) - 1), *
from demo_communes where code_epci not in ('200043123', '200065647');

-- step: actors
insert into qfdmo_acteur (
    identifiant_unique, nom, description, acteur_type_id, adresse, adresse_complement, code_postal,
    ville, url, email, telephone, nom_commercial, nom_officiel, siren, siret, siret_is_closed,
    source_id, identifiant_externe, statut, naf_principal, commentaires, horaires_osm,
    horaires_description, public_accueilli, reprise, exclusivite_de_reprisereparation,
    uniquement_sur_rdv, consignes_dacces, action_principale_id, lieu_prestation, location,
    cree_le, modifie_le
)
select
    pg_temp.acteur_id(a.i),
    case when a.digital then (array['Réparer en ligne', 'Don en ligne', 'Seconde main en ligne',
        'Location en ligne'])[pg_temp.h(a.i, 4, 4) + 1] || ' ' || a.i
    else (array['Repair Café', 'Ressourcerie', 'Atelier vélo', 'Cordonnerie', 'Boutique solidaire',
        'Recyclerie', 'Emmaüs', 'Retouches couture', 'Réparation électroménager', 'Friperie'])
        [pg_temp.h(a.i, 5, 10) + 1] || ' ' || coalesce(p.nom_commune, 'de ' || a.hamlet) end,
    case when pg_temp.h(a.i, 6, 3) = 0 then 'Réparation, réemploi et conseils.' else '' end,
    case when a.digital then 4 else (array[1, 2, 3, 5, 6, 7, 8])[pg_temp.h(a.i, 7, 7) + 1] end,
    case when a.digital then '' else (pg_temp.h(a.i, 8, 180) + 1) || ' ' || (array['rue de la République',
        'avenue Jean Jaurès', 'rue Victor Hugo', 'place de la Mairie', 'rue du Général de Gaulle',
        'boulevard Pasteur', 'rue des Écoles', 'chemin du Moulin'])[pg_temp.h(a.i, 9, 8) + 1] end,
    case when pg_temp.h(a.i, 10, 10) = 0 then 'Bâtiment B' else '' end,
    case when a.digital then '' else coalesce(p.code_postal, a.hamlet_postal_code) end,
    case when a.digital then ''
        when p.nom_commune is null then a.hamlet
        -- the same city written as people write it: upper case, no accents, spaces for hyphens
        else (array[p.nom_commune, p.nom_commune, upper(unaccent(p.nom_commune)),
            replace(p.nom_commune, '-', ' ')])[pg_temp.h(a.i, 11, 4) + 1] end,
    case when a.digital or pg_temp.h(a.i, 12, 4) = 0 then 'https://example.org/acteur/' || a.i else '' end,
    case when pg_temp.h(a.i, 13, 3) = 0 then 'contact' || a.i || '@example.org' else '' end,
    case when pg_temp.h(a.i, 14, 2) = 0 then '0' || (1 + pg_temp.h(a.i, 15, 7)) || lpad(pg_temp.h(a.i, 16, 100000000)::text, 8, '0') else '' end,
    '', '',
    lpad(pg_temp.h(a.i, 17, 1000000000)::text, 9, '0'),
    lpad(pg_temp.h(a.i, 17, 1000000000)::text, 9, '0') || lpad(pg_temp.h(a.i, 18, 100000)::text, 5, '0'),
    case pg_temp.h(a.i, 19, 20) when 0 then true when 1 then false end,
    pg_temp.h(a.i, 3, 6) + 1,
    'ext' || lpad(a.i::text, 8, '0'),
    case when pg_temp.h(a.i, 20, 100) < 90 then 'ACTIF' when pg_temp.h(a.i, 20, 100) < 96 then 'INACTIF' else 'SUPPRIME' end,
    '', '',
    case when pg_temp.h(a.i, 21, 3) = 0 then 'Mo-Fr 09:00-18:00; Sa 10:00-17:00' else '' end,
    '',
    case when pg_temp.h(a.i, 22, 100) < 40 then 'Particuliers'
        when pg_temp.h(a.i, 22, 100) < 80 then 'Particuliers et professionnels'
        when pg_temp.h(a.i, 22, 100) < 93 then ''
        when pg_temp.h(a.i, 22, 100) < 96 then 'Professionnels'
        when pg_temp.h(a.i, 22, 100) < 97 then 'professionnels'
        when pg_temp.h(a.i, 22, 100) < 99 then 'Aucun'
        else 'AUCUN' end,
    '', null,
    case when pg_temp.h(a.i, 23, 4) = 0 then true end,
    '',
    case when pg_temp.h(a.i, 24, 3) > 0 then pg_temp.h(a.i, 25, 10) + 1 end,
    case when a.digital or pg_temp.h(a.i, 26, 100) < 85 then 'SUR_PLACE'
        when pg_temp.h(a.i, 26, 100) < 93 then 'A_DOMICILE' else 'SUR_PLACE_OU_A_DOMICILE' end,
    case when not a.digital then st_setsrid(st_makepoint(
        coalesce(p.longitude, -1.2 + pg_temp.h(a.i, 27, 800) / 100.0) + (pg_temp.h(a.i, 28, 2001) - 1000) / 50000.0,
        coalesce(p.latitude, 43.5 + pg_temp.h(a.i, 29, 600) / 100.0) + (pg_temp.h(a.i, 30, 2001) - 1000) / 50000.0
    ), 4326)::geography end,
    timestamptz '2023-01-01 00:00+00' + pg_temp.h(a.i, 31, 700) * interval '1 day',
    timestamptz '2023-01-01 00:00+00' + (pg_temp.h(a.i, 31, 700) + pg_temp.h(a.i, 32, 300)) * interval '1 day'
from (
    select
        i,
        -- Digital actors and the sample territories' actors come from the first 50,000 only:
        -- like real territories, their number does not grow with the rest of the country.
        -- Blocks' parent children are never digital, so that parents have a place.
        i <= 50000 and pg_temp.h(i, 2, 100) < 3 and i % 50 not in (1, 2, 3) as digital,
        case when i <= 50000 and pg_temp.h(i, 1, 100) < 5
                then 'S' || pg_temp.h(i, 33, (select count(*) from demo_places where place_key like 'S%')::int)
             when pg_temp.h(i, 1, 100) < 97 then 'C' || pg_temp.h(i, 33, (select count(*) from demo_places where place_key like 'C%')::int)
        end as place_key,
        'Hameau-' || pg_temp.h(i, 34, 5000) as hamlet,
        lpad((1000 + pg_temp.h(i, 35, 94000))::text, 5, '0') as hamlet_postal_code
    from generate_series(1, {n}) as i
) as a
left join demo_places as p on p.place_key = a.place_key;

-- step: propositions
insert into qfdmo_propositionservice (id, acteur_id, action_id)
select i * 4 + k, pg_temp.acteur_id(i), (pg_temp.h(i, 40, 10) + k * 3) % 10 + 1
from generate_series(1, {n}) as i
cross join lateral generate_series(0, case when pg_temp.h(i, 41, 5) = 0 then 1 else 0 end) as k;

-- step: proposition sub-categories
insert into qfdmo_propositionservice_sous_categories (propositionservice_id, souscategorieobjet_id)
select ps.id, (pg_temp.h(ps.id, 42, 36) + j * 7) % 36 + 1
from qfdmo_propositionservice as ps
cross join lateral generate_series(1, case when pg_temp.h(ps.id, 43, 50) = 0 then 0
    else 1 + pg_temp.h(ps.id, 44, 5) end) as j
order by 1, 2;

-- step: labels, services and perimeters
insert into qfdmo_acteur_labels (acteur_id, labelqualite_id)
select pg_temp.acteur_id(i), pg_temp.h(i, 45, 6) + 1
from generate_series(1, {n}) as i where pg_temp.h(i, 46, 5) = 0
order by 1, 2;

insert into qfdmo_acteur_acteur_services (acteur_id, acteurservice_id)
select pg_temp.acteur_id(i), (pg_temp.h(i, 47, 8) + j * 3) % 8 + 1
from generate_series(1, {n}) as i
cross join lateral generate_series(0, pg_temp.h(i, 48, 2)) as j
where pg_temp.h(i, 49, 5) < 2
order by 1, 2;

insert into qfdmo_perimetreadomicile (acteur_id, type, valeur)
select identifiant_unique,
    case when pg_temp.h(length(identifiant_unique) + ascii(right(identifiant_unique, 1)), 50, 3) = 0
        then 'DEPARTEMENTAL' else 'KILOMETRIQUE' end,
    case when pg_temp.h(length(identifiant_unique) + ascii(right(identifiant_unique, 1)), 50, 3) = 0
        then left(code_postal, 2) else '15' end
from qfdmo_acteur where lieu_prestation <> 'SUR_PLACE'
order by 1, 2, 3;

-- step: parents and revisions
insert into qfdmo_revisionacteur (
    identifiant_unique, nom, acteur_type_id, adresse, code_postal, ville, statut, public_accueilli, reprise,
    location, lieu_prestation, cree_le, modifie_le
)
select pg_temp.parent_id(i / 50), 'Groupe ' || a.nom, 3, a.adresse, a.code_postal, a.ville,
    case when (i / 50) % 10 = 0 then 'INACTIF' else 'ACTIF' end, 'Particuliers', '', a.location, null,
    a.cree_le, a.modifie_le
from (select *, substring(identifiant_unique from '_ext(\d+)$')::bigint as i from qfdmo_acteur) as a
where i % 50 = 1 and i + 1 <= {n};

insert into qfdmo_revisionacteur (
    identifiant_unique, nom, description, telephone, acteur_type_id, adresse, statut,
    public_accueilli, reprise, lieu_prestation, location, cree_le, modifie_le, parent_id, parent_reason
)
select a.identifiant_unique,
    case when i % 50 = 10 then 'Nom corrigé ' || i else '' end,
    case when i % 50 = 10 then '__empty__' else '' end,
    case when i % 50 = 16 then '__empty__' else '' end,
    case when i % 50 = 12 then 2 end,
    case when i % 50 = 12 then '1 place du Marché' else '' end,
    case when i % 50 = 11 or i % 50 = 3 then 'INACTIF' else '' end,
    case when i % 100 = 16 then 'Aucun' else '' end,
    '',
    case when i % 50 = 14 then 'A_DOMICILE' end,
    case when i % 50 = 12 and a.location is not null
        then st_project(a.location, 300, radians(45)) end,
    a.cree_le,
    a.modifie_le + interval '30 days',
    case when i % 50 in (1, 2, 3) and (i / 50) * 50 + 2 <= {n} then pg_temp.parent_id(i / 50) end,
    case when i % 50 in (1, 2, 3) and (i / 50) * 50 + 2 <= {n} then 'doublon' else '' end
from (select *, substring(identifiant_unique from '_ext(\d+)$')::bigint as i from qfdmo_acteur) as a
where i % 50 in (1, 2, 3, 10, 11, 12, 13, 14, 15, 16);

-- step: relations of revisions
insert into qfdmo_revisionpropositionservice (id, acteur_id, action_id)
select ps.id, ps.acteur_id, ps.action_id
from qfdmo_propositionservice as ps
join qfdmo_revisionacteur as r on r.identifiant_unique = ps.acteur_id
where (substring(r.identifiant_unique from '_ext(\d+)$'))::bigint % 50 <> 13;

insert into qfdmo_revisionpropositionservice_sous_categories (revisionpropositionservice_id, souscategorieobjet_id)
select psc.propositionservice_id, psc.souscategorieobjet_id
from qfdmo_propositionservice_sous_categories as psc
join qfdmo_revisionpropositionservice as rps on rps.id = psc.propositionservice_id
union
select rps.id, 16
from qfdmo_revisionpropositionservice as rps
where (substring(rps.acteur_id from '_ext(\d+)$'))::bigint % 50 = 15
order by 1, 2;

insert into qfdmo_revisionacteur_labels (revisionacteur_id, labelqualite_id)
select l.acteur_id, l.labelqualite_id
from qfdmo_acteur_labels as l
join qfdmo_revisionacteur as r on r.identifiant_unique = l.acteur_id
where (substring(r.identifiant_unique from '_ext(\d+)$'))::bigint % 50 <> 13
union
-- a parent's own label, often the same as a child's (duplicates must not show)
select pg_temp.parent_id(i / 50), pg_temp.h(i, 45, 6) + 1
from generate_series(1, {n}) as i
where i % 50 = 1 and i + 1 <= {n}
order by 1, 2;

insert into qfdmo_revisionacteur_acteur_services (revisionacteur_id, acteurservice_id)
select s.acteur_id, s.acteurservice_id
from qfdmo_acteur_acteur_services as s
join qfdmo_revisionacteur as r on r.identifiant_unique = s.acteur_id
where (substring(r.identifiant_unique from '_ext(\d+)$'))::bigint % 50 <> 13
order by 1, 2;

insert into qfdmo_revisionperimetreadomicile (acteur_id, type, valeur)
select p.acteur_id, p.type, p.valeur
from qfdmo_perimetreadomicile as p
join qfdmo_revisionacteur as r on r.identifiant_unique = p.acteur_id
union all
select r.identifiant_unique, 'KILOMETRIQUE', '25'
from qfdmo_revisionacteur as r
where r.lieu_prestation = 'A_DOMICILE'
order by 1, 2, 3;

-- step: Django's bookkeeping and the users (the CMS and L'Assistant: lacarte.demo_content)
insert into django_migrations (app, name, applied)
select app, lpad(n::text, 4, '0') || '_' || app || '_migration', timestamptz '2023-01-01 00:00+00' + (ord * 1000 + n) * interval '1 hour'
from (values ('contenttypes', 2, 1), ('auth', 12, 2), ('admin', 3, 3), ('sessions', 1, 4), ('taggit', 6, 5),
    ('wagtailcore', 95, 6), ('wagtailusers', 14, 7), ('wagtailadmin', 5, 8), ('wagtailimages', 27, 9),
    ('wagtaildocs', 14, 10), ('wagtailembeds', 9, 11), ('wagtailforms', 5, 12), ('wagtailredirects', 8, 13),
    ('wagtail_localize', 17, 14), ('wagtailmenus', 24, 15), ('modelsearch', 3, 16), ('dsfr', 10, 17),
    ('content_manager', 30, 18), ('blog', 20, 19), ('events', 8, 20), ('forms', 3, 21), ('menus', 3, 22),
    ('core', 8, 23), ('qfdmo', 30, 24), ('qfdmd', 25, 25), ('data', 20, 26), ('django_tasks_database', 1, 27)) as apps (app, migrations, ord)
cross join lateral generate_series(1, migrations) as n
order by ord, n;

insert into django_content_type (app_label, model)
select split_part(m, '.', 1), split_part(m, '.', 2)
from unnest(array['admin.logentry', 'auth.permission', 'auth.group', 'auth.user', 'contenttypes.contenttype',
    'sessions.session', 'wagtailcore.page', 'wagtailcore.revision', 'wagtailcore.collection', 'wagtailcore.task',
    'wagtailcore.groupapprovaltask', 'wagtailcore.workflow', 'wagtailimages.image', 'wagtaildocs.document',
    'wagtailmenus.mainmenu', 'wagtailmenus.flatmenu', 'content_manager.contentpage', 'content_manager.catalogindexpage',
    'blog.blogindexpage', 'blog.blogentrypage', 'events.eventsindexpage', 'events.evententrypage', 'forms.formpage',
    'qfdmo.acteur', 'qfdmo.revisionacteur', 'qfdmo.displayedacteur', 'qfdmo.carteconfig', 'qfdmd.produit',
    'qfdmd.synonyme', 'qfdmd.homepage', 'qfdmd.produitindexpage', 'qfdmd.produitpage', 'qfdmd.legacyproduitindexpage',
    'data.suggestion', 'taggit.tag']) with ordinality as t (m, o)
order by o;

insert into auth_permission (name, content_type_id, codename)
select 'Can ' || verb || ' ' || ct.model, ct.id, verb || '_' || ct.model
from django_content_type as ct
cross join unnest(array['add', 'change', 'delete', 'view']) as verb
order by ct.id, verb;

insert into auth_group (name) values ('Administrateurs'), ('Éditeurs'), ('Modérateurs');
insert into auth_group_permissions (group_id, permission_id)
select g.id, p.id from auth_group as g join auth_permission as p
    on g.name = 'Administrateurs' or (g.name = 'Éditeurs' and p.codename like 'change_%')
order by 1, 2;

insert into auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff,
    is_active, date_joined)
select 'pbkdf2_sha256$600000$demo$' || md5('pw' || u || {seed}), null, u = 1, 'utilisateur' || u,
    'Prénom' || u, 'Nom' || u, 'utilisateur' || u || '@example.org', u <= 5, true,
    timestamptz '2024-01-01 00:00+00' + u * interval '1 day'
from generate_series(1, 50) as u;
insert into auth_user_groups (user_id, group_id) select u, 1 + u % 3 from generate_series(1, 10) as u;
insert into auth_user_user_permissions (user_id, permission_id) select u, u from generate_series(2, 6) as u;

insert into django_admin_log (action_time, object_id, object_repr, action_flag, change_message, content_type_id, user_id)
select timestamptz '2025-01-01 00:00+00' + l * interval '1 hour', pg_temp.acteur_id(1 + pg_temp.h(l, 63, {n})),
    'Acteur ' || l, 2, '[{{"changed": {{"fields": ["Nom"]}}}}]',
    (select id from django_content_type where model = 'acteur'), 1 + l % 5
from generate_series(1, 40) as l;

insert into django_session (session_key, session_data, expire_date)
select md5('session' || s || {seed}), 'e30:' || md5(s::text), timestamptz '2027-01-01 00:00+00'
from generate_series(1, 200) as s;
