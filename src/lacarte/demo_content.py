"""Demo content of the CMS and of L'Assistant in the web app's real schema: a small site whose
pages, revisions, translations, menus, images, documents, workflows, comments and logs refer to
users in every way the real tables do (nullable references, NOT NULL ones, references without a
foreign key), so that the sample's copy rules meet every shape of reference to a person.

Rows name their columns; a NOT NULL column without a database default that a row leaves out
gets a neutral value of its type read from the live catalog (what Django would fill in), so the
content follows the real schema rather than a copy of it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

Row = dict[str, Any]
DEMO_TIME = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
NAMESPACE = uuid.UUID("1b671a64-40d5-491e-99b0-da01ff1f3341")

COLUMNS_SQL = """
    select c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
        a.attnotnull and a.attidentity = '' and a.attgenerated = ''
            and not exists (select from pg_attrdef as d where d.adrelid = c.oid and d.adnum = a.attnum)
    from pg_class as c
    join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'"""


def stable_uuid(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts))


def neutral_value(table: str, column: str, column_type: str, index: int) -> Any:
    """What a NOT NULL column gets when a row leaves it out."""
    if column_type.endswith("[]"):
        return []
    if column_type == "boolean":
        return False
    if column_type in ("integer", "bigint", "smallint", "double precision", "real") or column_type.startswith("numeric"):
        return 0
    if column_type in ("jsonb", "json"):
        return Jsonb({})
    if column_type == "uuid":
        return stable_uuid(table, column, index)
    if column_type.startswith("timestamp"):
        return DEMO_TIME
    if column_type == "date":
        return DEMO_TIME.date()
    return ""


class ContentWriter:
    """Inserts rows by column name into the live schema, filling what Django would fill."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.types: dict[str, dict[str, str]] = {}
        self.required: dict[str, dict[str, str]] = {}
        for table, column, column_type, required in conn.execute(COLUMNS_SQL):
            self.types.setdefault(table, {})[column] = column_type
            if required:
                self.required.setdefault(table, {})[column] = column_type
        self.content_types = {(app, model): id_ for id_, app, model in
                              conn.execute("select id, app_label, model from django_content_type")}

    def content_type(self, label: str) -> int:
        app, model = label.split(".")
        return self.content_types[(app, model)]

    def insert(self, table: str, rows: Iterable[Row]) -> None:
        rows = list(rows)
        if not rows:
            return
        required = self.required.get(table, {})
        json_columns = {c for c, t in self.types[table].items() if t in ("json", "jsonb")}
        full_rows = []
        for index, row in enumerate(rows):
            filled = {column: neutral_value(table, column, column_type, index)
                      for column, column_type in required.items() if column not in row}
            given = {k: Jsonb(v) if k in json_columns and v is not None and not isinstance(v, Jsonb) else v
                     for k, v in row.items()}
            full_rows.append({**filled, **given})
        columns = list(dict.fromkeys(column for row in full_rows for column in row))  # every row's, in order
        query = sql.SQL("insert into {} ({}) values ({})").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)))
        with self.conn.cursor() as cursor:
            cursor.executemany(query, [[row.get(column) for column in columns] for row in full_rows])


class PageTree:
    """Wagtail's materialised-path tree (path, depth, numchild, url_path) built page by page."""

    def __init__(self) -> None:
        self.pages: dict[int, Row] = {}

    def add(self, page_id: int, parent: int | None, title: str, slug: str, content_type: int,
            locale: int = 1, translation_of: int | None = None, **fields: Any) -> int:
        if parent is None:
            path, depth, url_path = "0001" if not self.pages else f"{len(self._roots()) + 1:04d}", 1, "/"
        else:
            parent_row = self.pages[parent]
            parent_row["numchild"] += 1
            path = parent_row["path"] + f"{parent_row['numchild']:04d}"
            depth = parent_row["depth"] + 1
            url_path = parent_row["url_path"] + slug + "/"
        key = self.pages[translation_of]["translation_key"] if translation_of else stable_uuid("page", page_id)
        self.pages[page_id] = {
            "id": page_id, "path": path, "depth": depth, "numchild": 0, "title": title, "draft_title": title,
            "slug": slug, "url_path": url_path, "live": True, "content_type_id": content_type, "locale_id": locale,
            "translation_key": key, "first_published_at": DEMO_TIME, "last_published_at": DEMO_TIME, **fields,
        }
        return page_id

    def _roots(self) -> list[Row]:
        return [p for p in self.pages.values() if p["depth"] == 1]


def write_content(conn: psycopg.Connection, users: int = 50) -> None:
    """The CMS, L'Assistant's content and the operational tables, on top of the users and the
    content types that demo_actors.sql wrote."""
    w = ContentWriter(conn)
    ct = w.content_type
    user = [None, *range(1, users + 1)]  # user[i] is the id of user i

    w.insert("wagtailcore_locale", [{"id": 1, "language_code": "fr"}, {"id": 2, "language_code": "en"}])
    w.insert("wagtailcore_collection", [
        {"id": 1, "path": "0001", "depth": 1, "numchild": 1, "name": "Root"},
        {"id": 2, "path": "00010001", "depth": 2, "numchild": 0, "name": "Illustrations"}])
    w.insert("wagtailimages_image", [
        {"id": i, "title": f"Illustration {i}", "file": f"original_images/illustration_{i}.png", "width": 800,
         "height": 600, "created_at": DEMO_TIME, "collection_id": 2, "file_size": 20_000 + i,
         "file_hash": f"{i:040x}", "description": f"Illustration {i}",
         "uploaded_by_user_id": user[1 + i % 3] if i % 4 else None} for i in range(1, 9)])
    w.insert("wagtailimages_rendition", [
        {"image_id": i, "file": f"images/illustration_{i}.fill-300x200.png", "width": 300, "height": 200,
         "focal_point_key": "", "filter_spec": "fill-300x200"} for i in range(1, 9)])
    w.insert("wagtaildocs_document", [
        {"id": d, "title": f"Guide {d}", "file": f"documents/guide_{d}.pdf", "created_at": DEMO_TIME,
         "collection_id": 2, "file_size": 120_000, "file_hash": f"{100 + d:040x}",
         "uploaded_by_user_id": user[2] if d == 1 else None} for d in (1, 2)])

    # The page tree: a French site and its English translation.
    tree = PageTree()
    tree.add(1, None, "Root", "root", ct("wagtailcore.page"))
    home = tree.add(2, 1, "Que faire de mes objets", "accueil", ct("qfdmd.homepage"), owner_id=user[1])
    home_en = tree.add(3, 1, "What to do with my things", "home", ct("qfdmd.homepage"), locale=2, translation_of=2)
    produits = tree.add(4, home, "Produits", "produits", ct("qfdmd.produitindexpage"), owner_id=user[2])
    blog = tree.add(5, home, "Actualités", "actualites", ct("blog.blogindexpage"), owner_id=user[3])
    form = tree.add(6, home, "Nous contacter", "contact", ct("forms.formpage"))
    legal = tree.add(7, home, "Mentions légales", "mentions-legales", ct("content_manager.contentpage"))
    produit_pages = [tree.add(p, produits, f"Produit {p - 7}", f"produit-{p - 7}", ct("qfdmd.produitpage"),
                              owner_id=user[1 + p % 5] if p % 3 else None, locked=p == 9,
                              locked_by_id=user[4] if p == 9 else None, locked_at=DEMO_TIME if p == 9 else None,
                              has_unpublished_changes=p % 4 == 0)
                     for p in range(8, 28)]
    entries = [tree.add(p, blog, f"Article {p - 27}", f"article-{p - 27}", ct("blog.blogentrypage"), owner_id=user[3])
               for p in range(28, 31)]
    tree.add(31, home_en, "Legal notice", "legal-notice", ct("content_manager.contentpage"), locale=2, translation_of=7)
    events = tree.add(32, home, "Événements", "evenements", ct("events.eventsindexpage"))
    event = tree.add(33, events, "Repair café", "repair-cafe", ct("events.evententrypage"), owner_id=user[5])
    legacy = tree.add(34, home, "Anciens produits", "anciens-produits", ct("qfdmd.legacyproduitindexpage"))
    catalog = tree.add(35, home, "Catalogue", "catalogue", ct("content_manager.catalogindexpage"))
    w.insert("wagtailcore_page", tree.pages.values())

    # Two revisions a page, written by users or by nobody (imports), the last one live.
    revisions = []
    for page in tree.pages.values():
        if page["id"] == 1:
            continue
        for n in (1, 2):
            revisions.append({
                "id": page["id"] * 2 + n - 2, "created_at": DEMO_TIME + dt.timedelta(days=n), "object_id": str(page["id"]),
                "content": {"title": page["title"], "slug": page["slug"]}, "content_type_id": page["content_type_id"],
                "base_content_type_id": ct("wagtailcore.page"), "object_str": page["title"],
                "user_id": user[1 + (page["id"] + n) % 6] if (page["id"] + n) % 3 else None})
    w.insert("wagtailcore_revision", revisions)
    conn.execute("update wagtailcore_page set live_revision_id = id * 2, latest_revision_id = id * 2, "
                 "latest_revision_created_at = %s where id > 1", [DEMO_TIME])
    w.insert("wagtailcore_site", [
        {"id": 1, "hostname": "localhost", "port": 80, "is_default_site": True, "root_page_id": home,
         "site_name": "Que faire de mes objets"},
        {"id": 2, "hostname": "en.localhost", "port": 80, "is_default_site": False, "root_page_id": home_en,
         "site_name": "What to do with my things"}])

    # Page models (multi-table inheritance: one row per level of the model).
    content_pages = [home, home_en, legal, 31]
    w.insert("sites_conformes_content_manager_contentpage", [
        {"page_ptr_id": p, "body": [{"type": "paragraph", "value": "<p>Bienvenue</p>", "id": str(stable_uuid("b", p))}],
         "hero": [], "header_image_id": 1 if p == home else None, "preview_image_id": 2 if p == home else None}
        for p in content_pages])
    w.insert("qfdmd_homepage", [{"contentpage_ptr_id": p, "hero_subtitle": "Trouvez où réparer, donner, revendre",
                                 "hero_search_label": "Rechercher un objet", "icons": []} for p in (home, home_en)])
    w.insert("qfdmd_produitindexpage", [{"page_ptr_id": produits, "hero": [], "body": [], "header_image_id": 3}])
    w.insert("qfdmd_legacyproduitindexpage", [{"page_ptr_id": legacy, "body": []}])
    w.insert("sites_conformes_content_manager_catalogindexpage", [
        {"page_ptr_id": catalog, "body": [], "hero": [], "entries_per_page": 10, "filter_selection": "tags",
         "multiple_filter_operator": "or"}])
    w.insert("sites_conformes_blog_blogindexpage", [{"page_ptr_id": blog, "body": [], "hero": [], "posts_per_page": 10,
                                                        "feed_posts_limit": 20}])
    w.insert("sites_conformes_blog_blogentrypage", [
        {"page_ptr_id": p, "body": [], "hero": [], "date": DEMO_TIME, "header_image_id": 4} for p in entries])
    w.insert("sites_conformes_events_eventsindexpage", [{"page_ptr_id": events, "body": [], "hero": [], "posts_per_page": 10}])
    w.insert("sites_conformes_events_evententrypage", [
        {"page_ptr_id": event, "body": [], "hero": [], "date": DEMO_TIME, "event_date_start": DEMO_TIME,
         "event_date_end": DEMO_TIME + dt.timedelta(hours=3), "location": "Auray"}])
    w.insert("sites_conformes_forms_formpage", [{"page_ptr_id": form, "intro": "<p>Écrivez-nous</p>",
                                                "thank_you_text": "<p>Merci</p>"}])
    w.insert("sites_conformes_forms_formfield", [
        {"page_id": form, "sort_order": n, "clean_name": name, "label": name.capitalize(), "field_type": kind,
         "required": True, "locale_id": 1, "translation_key": stable_uuid("field", n)}
        for n, (name, kind) in enumerate([("email", "email"), ("message", "multiline")])])
    w.insert("wagtailforms_formsubmission", [
        {"form_data": {"email": f"visiteur{s}@example.org", "message": "Bonjour"}, "submit_time": DEMO_TIME, "page_id": form}
        for s in range(1, 4)])
    w.insert("qfdmd_formpagevalidationsettings", [{"form_page_id": form}])
    w.insert("qfdmd_embedsettings", [{"backlink_assistant": "https://example.org/assistant",
                                      "backlink_carte": "https://example.org/carte",
                                      "backlink_formulaire": "https://example.org/formulaire"}])

    # L'Assistant: products, synonyms (search terms), links, product pages.
    sous_categories = [row[0] for row in conn.execute("select id from qfdmo_souscategorieobjet order by id")]
    w.insert("qfdmd_produit", [
        {"id": sc, "nom": f"Produit {sc}", "synonymes_existants": "", "code": f"P{sc}", "bdd": "demo",
         "qu_est_ce_que_j_en_fais": "Le donner, le faire réparer ou le déposer.", "slug": f"produit-{sc}",
         "infotri": [], "modifie_le": DEMO_TIME} for sc in sous_categories])
    w.insert("qfdmo_souscategorieobjet_qfdmd_produits", [{"souscategorieobjet_id": sc, "produit_id": sc}
                                                         for sc in sous_categories])
    terms = len(sous_categories) + 2 * len(produit_pages)
    w.insert("search_searchterm", [{"id": t, "search_variants": "", "disabled": False} for t in range(1, terms + 1)])
    w.insert("qfdmd_synonyme", [
        {"searchterm_ptr_id": n, "nom": f"Produit {sc} usagé", "slug": f"produit-{sc}-usage", "produit_id": sc,
         "pin_on_homepage": n <= 6, "modifie_le": DEMO_TIME} for n, sc in enumerate(sous_categories, 1)])
    first_tag = len(sous_categories) + 1
    w.insert("qfdmd_searchtag", [
        {"searchterm_ptr_id": first_tag + i, "name": f"recherche {i}", "slug": f"recherche-{i}",
         "legacy_existing_synonyme_id": 1 + i if i < 3 else None} for i in range(len(produit_pages))])
    w.insert("qfdmd_produitpage", [
        {"page_ptr_id": p, "body": [], "infotri": [], "genre": "m", "titre_phrase": f"produit {p - 7}", "nombre": 1}
        for p in produit_pages])
    w.insert("qfdmd_produitpage_sous_categorie_objet", [
        {"produitpage_id": p, "souscategorieobjet_id": sous_categories[i % len(sous_categories)]}
        for i, p in enumerate(produit_pages)])
    w.insert("qfdmd_produitpagesearchterm", [
        {"searchterm_ptr_id": first_tag + len(produit_pages) + i, "searchable_title": f"produit {p - 7}",
         "produit_page_id": p} for i, p in enumerate(produit_pages)])
    w.insert("qfdmd_taggedsearchtag", [{"content_object_id": p, "tag_id": first_tag + i} for i, p in enumerate(produit_pages)])
    w.insert("qfdmd_lien", [{"id": 1, "titre_du_lien": "Le bonus réparation", "url": "https://example.org/bonus",
                             "description": "Faire réparer moins cher"},
                            {"id": 2, "titre_du_lien": "Donner ses vêtements", "url": "https://example.org/textile",
                             "description": ""}])
    w.insert("qfdmd_produitlien", [{"poids": 1, "lien_id": 1 + sc % 2, "produit_id": sc} for sc in sous_categories])
    w.insert("qfdmd_legacyintermediateproduitpage", [{"page_id": p, "produit_id": sous_categories[i]}
                                                     for i, p in enumerate(produit_pages[:5])])
    w.insert("qfdmd_legacyintermediatesynonymepage", [{"page_id": produit_pages[0], "synonyme_id": 2}])
    w.insert("qfdmd_legacyintermediateproduitpagesynonymeexclusion", [{"page_id": produit_pages[1], "synonyme_id": 3}])

    # Tags, menus, settings.
    w.insert("taggit_tag", [{"id": 1, "name": "électroménager", "slug": "electromenager"},
                            {"id": 2, "name": "textile", "slug": "textile"}, {"id": 3, "name": "vélo", "slug": "velo"}])
    w.insert("taggit_taggeditem", [{"object_id": p, "content_type_id": ct("qfdmd.produitpage"), "tag_id": 1 + p % 3}
                                   for p in produit_pages])
    w.insert("qfdmd_produitpagetag", [{"content_object_id": p, "tag_id": 1 + p % 3} for p in produit_pages[:6]])
    w.insert("sites_conformes_content_manager_tagcontentpage", [{"content_object_id": legal, "tag_id": 1}])
    w.insert("sites_conformes_blog_tagentrypage", [{"content_object_id": p, "tag_id": 2} for p in entries])
    w.insert("sites_conformes_events_tagevententrypage", [{"content_object_id": event, "tag_id": 3}])
    w.insert("sites_conformes_blog_category", [{"id": 1, "name": "Réparation", "slug": "reparation", "locale_id": 1,
                                                "translation_key": stable_uuid("category", 1), "colophon": []}])
    w.insert("sites_conformes_blog_categoryentrypage", [{"page_id": p, "category_id": 1} for p in entries])
    w.insert("sites_conformes_events_categoryevententrypage", [{"page_id": event, "category_id": 1}])
    w.insert("sites_conformes_blog_organization", [{"id": 1, "name": "ADEME", "slug": "ademe"}])
    w.insert("sites_conformes_blog_person", [{"id": 1, "name": "Équipe éditoriale", "role": "Rédaction",
                                              "organization_id": 1, "image_id": 5}])
    w.insert("sites_conformes_blog_blogentrypage_authors", [{"blogentrypage_id": p, "person_id": 1} for p in entries])
    w.insert("sites_conformes_events_evententrypage_authors", [{"evententrypage_id": event, "person_id": 1}])
    w.insert("wagtailmenus_mainmenu", [{"id": 1, "site_id": 1, "max_levels": 2}])
    w.insert("wagtailmenus_mainmenuitem", [
        {"id": n, "sort_order": n, "link_page_id": page, "menu_id": 1, "link_text": "", "url_append": "",
         "allow_subnav": True, "handle": ""} for n, page in enumerate((produits, blog, events), 1)])
    w.insert("wagtailmenus_flatmenu", [{"id": 1, "title": "Pied de page", "handle": "footer", "heading": "",
                                        "site_id": 1, "max_levels": 1}])
    w.insert("wagtailmenus_flatmenuitem", [
        {"sort_order": 1, "link_page_id": legal, "menu_id": 1, "link_text": "", "url_append": "", "handle": ""},
        {"sort_order": 2, "link_url": "https://example.org", "menu_id": 1, "link_text": "ADEME", "url_append": "",
         "handle": ""}])
    w.insert("sites_conformes_content_manager_megamenu", [{"id": 1, "name": "Produits", "description": "",
                                                           "parent_menu_item_id": 1}])
    w.insert("sites_conformes_content_manager_megamenucategory", [{"sort_order": 1, "category_id": 1, "mega_menu_id": 1}])
    for menu in ("mainmenu", "topmenu", "footerbottommenu"):
        w.insert(f"sites_conformes_menus_{menu}", [
            {"translation_key": stable_uuid(menu, site), "items": [], "locale_id": site, "site_id": site} for site in (1, 2)])
    w.insert("sites_conformes_content_manager_cmsdsfrconfig", [
        {"id": 1, "site_id": 1, "site_title": "Que faire de mes objets", "site_tagline": "et déchets",
         "header_brand": "République française", "header_brand_html": "République<br>française",
         "operator_logo_file_id": 6, "notice_type": "info"}])
    w.insert("sites_conformes_content_manager_socialmediaitem", [
        {"sort_order": 1, "title": "Mastodon", "url": "https://example.org/@ademe", "icon_class": "fr-btn--mastodon",
         "site_config_id": 1}])
    w.insert("sites_conformes_content_manager_languageselectoritem", [
        {"sort_order": 1, "language_code": "en", "language_name": "English", "link_type": "page", "page_id": home_en,
         "site_config_id": 1}])
    w.insert("sites_conformes_content_manager_customscriptssettings", [{"site_id": 1, "use_tarteaucitron": True}])
    w.insert("dsfr_dsfrconfig", [{"id": 1, "header_brand": "République française", "site_title": "Que faire",
                                  "language": "fr", "accessibility_status": "NOT", "notice_type": "info"}])
    w.insert("dsfr_dsfrsocialmedia", [{"title": "Mastodon", "url": "https://example.org/@ademe",
                                       "icon_class": "fr-btn--mastodon", "site_config_id": 1}])
    w.insert("wagtailredirects_redirect", [{"old_path": "/ancien-produit-1", "is_permanent": True, "redirect_link": "",
                                            "redirect_page_id": produit_pages[0], "site_id": 1,
                                            "redirect_page_route_path": ""}])
    w.insert("wagtailembeds_embed", [{"url": "https://example.org/video", "type": "video", "html": "<iframe></iframe>",
                                      "title": "Réparer son vélo", "author_name": "ADEME", "provider_name": "Vidéo",
                                      "thumbnail_url": "", "last_updated": DEMO_TIME, "hash": "0" * 32}])
    w.insert("wagtailcore_referenceindex", [
        {"object_id": str(home), "to_object_id": "1", "model_path": "header_image", "content_path": "header_image",
         "content_path_hash": stable_uuid("ref", home), "base_content_type_id": ct("wagtailcore.page"),
         "content_type_id": ct("qfdmd.homepage"), "to_content_type_id": ct("wagtailimages.image")}])
    w.insert("modelsearch_indexentry", [
        {"object_id": str(p), "title_norm": 1.0, "content_type_id": ct("qfdmd.produitpage"), "title_text": f"Produit {p - 7}",
         "body_text": f"Que faire de mon produit {p - 7}"} for p in produit_pages])

    # Permissions, workflows and restrictions (groups, not people).
    permission = conn.execute("select id from auth_permission order by id limit 1").fetchone()[0]
    w.insert("wagtailcore_grouppagepermission", [{"group_id": 2, "page_id": home, "permission_id": permission}])
    w.insert("wagtailcore_groupcollectionpermission", [{"group_id": 2, "collection_id": 1, "permission_id": permission}])
    w.insert("wagtailcore_groupsitepermission", [{"group_id": 1, "site_id": 1, "permission_id": permission}])
    w.insert("wagtailcore_pageviewrestriction", [{"id": 1, "page_id": catalog, "restriction_type": "groups", "password": ""}])
    w.insert("wagtailcore_pageviewrestriction_groups", [{"pageviewrestriction_id": 1, "group_id": 2}])
    w.insert("wagtailcore_collectionviewrestriction", [{"id": 1, "collection_id": 2, "restriction_type": "login",
                                                        "password": ""}])
    w.insert("wagtailcore_collectionviewrestriction_groups", [{"collectionviewrestriction_id": 1, "group_id": 1}])
    w.insert("wagtailcore_workflow", [{"id": 1, "name": "Relecture", "active": True}])
    w.insert("wagtailcore_task", [{"id": 1, "name": "Relecture par un éditeur", "active": True,
                                   "content_type_id": ct("wagtailcore.groupapprovaltask")}])
    w.insert("wagtailcore_groupapprovaltask", [{"task_ptr_id": 1}])
    w.insert("wagtailcore_groupapprovaltask_groups", [{"groupapprovaltask_id": 1, "group_id": 2}])
    w.insert("wagtailcore_workflowtask", [{"sort_order": 0, "task_id": 1, "workflow_id": 1}])
    w.insert("wagtailcore_workflowpage", [{"page_id": produits, "workflow_id": 1}])
    w.insert("wagtailcore_workflowcontenttype", [{"content_type_id": ct("qfdmd.produit"), "workflow_id": 1}])

    # Who did what: the people's own rows and the records of their actions.
    w.insert("wagtailusers_userprofile", [
        {"user_id": user[u], "preferred_language": "fr", "current_time_zone": "Europe/Paris", "theme": "system",
         "density": "default", "contrast": "system", "submitted_notifications": True} for u in range(1, 6)])
    w.insert("wagtailcore_workflowstate", [{"id": 1, "status": "in_progress", "created_at": DEMO_TIME,
                                            "object_id": str(produit_pages[2]), "requested_by_id": user[3],
                                            "workflow_id": 1, "content_type_id": ct("qfdmd.produitpage"),
                                            "base_content_type_id": ct("wagtailcore.page")}])
    w.insert("wagtailcore_taskstate", [{"id": 1, "status": "approved", "started_at": DEMO_TIME, "finished_at": DEMO_TIME,
                                        "content_type_id": ct("wagtailcore.groupapprovaltask"),
                                        "revision_id": produit_pages[2] * 2, "task_id": 1, "workflow_state_id": 1,
                                        "finished_by_id": user[2], "comment": "Relu"}])
    conn.execute("update wagtailcore_workflowstate set current_task_state_id = 1")
    w.insert("wagtailcore_pagelogentry", [
        {"label": r["object_str"], "action": "wagtail.publish", "data": {}, "timestamp": r["created_at"],
         "content_changed": True, "content_type_id": r["content_type_id"], "page_id": int(r["object_id"]),
         "revision_id": r["id"], "user_id": r["user_id"], "uuid": stable_uuid("log", r["id"])} for r in revisions])
    w.insert("wagtailcore_modellogentry", [
        {"label": "Carte AQTA", "action": "wagtail.edit", "data": {}, "timestamp": DEMO_TIME, "object_id": "1",
         "content_type_id": ct("qfdmo.carteconfig"), "user_id": user[1 + n]} for n in range(3)])
    w.insert("wagtailcore_comment", [
        {"id": n, "text": "À relire", "contentpath": "body", "position": "", "created_at": DEMO_TIME,
         "updated_at": DEMO_TIME, "page_id": produit_pages[n], "user_id": user[2],
         "resolved_by_id": user[3] if n == 1 else None, "resolved_at": DEMO_TIME if n == 1 else None,
         "revision_created_id": produit_pages[n] * 2} for n in (1, 2)])
    w.insert("wagtailcore_commentreply", [{"text": "C'est fait", "created_at": DEMO_TIME, "updated_at": DEMO_TIME,
                                           "comment_id": 1, "user_id": user[4]}])
    w.insert("wagtailcore_pagesubscription", [{"comment_notifications": True, "page_id": produit_pages[1],
                                               "user_id": user[2]}])
    w.insert("wagtailadmin_editingsession", [{"object_id": str(produit_pages[0]), "last_seen_at": DEMO_TIME,
                                              "content_type_id": ct("qfdmd.produitpage"), "user_id": user[1],
                                              "is_editing": True}])
    w.insert("wagtailadmin_formstate", [{"data": "{}", "object_id": str(produit_pages[0]), "parent_object_id": "",
                                         "last_updated_at": DEMO_TIME, "content_type_id": ct("qfdmd.produitpage"),
                                         "user_id": user[1]}])
    w.insert("wagtailcore_uploadedfile", [{"file": "uploads/tmp.png", "uploaded_by_user_id": user[2],
                                           "for_content_type_id": ct("wagtailimages.image")}])

    # Translations (wagtail_localize): the legal notice translated into English.
    source_key = tree.pages[legal]["translation_key"]
    w.insert("wagtail_localize_translatableobject", [{"translation_key": source_key,
                                                      "content_type_id": ct("wagtailcore.page")}])
    w.insert("wagtail_localize_translationsource", [
        {"id": 1, "object_repr": "Mentions légales", "content_json": "{}", "created_at": DEMO_TIME, "locale_id": 1,
         "object_id": source_key, "specific_content_type_id": ct("content_manager.contentpage"),
         "last_updated_at": DEMO_TIME, "schema_version": "0001"}])
    w.insert("wagtail_localize_translationcontext", [{"id": 1, "path_id": stable_uuid("ctx", 1), "path": "title",
                                                      "object_id": source_key, "field_path": "title"}])
    w.insert("wagtail_localize_string", [{"id": 1, "data_hash": stable_uuid("string", 1), "data": "Mentions légales",
                                          "locale_id": 1}])
    w.insert("wagtail_localize_stringsegment", [{"order": 0, "attrs": "{}", "context_id": 1, "source_id": 1,
                                                 "string_id": 1}])
    w.insert("wagtail_localize_stringtranslation", [
        {"data": "Legal notice", "created_at": DEMO_TIME, "updated_at": DEMO_TIME, "context_id": 1, "locale_id": 2,
         "translation_of_id": 1, "tool_name": "", "translation_type": "manual", "last_translated_by_id": user[2]}])
    w.insert("wagtail_localize_segmentoverride", [
        {"created_at": DEMO_TIME, "updated_at": DEMO_TIME, "data_json": "\"Legal\"", "context_id": 1, "locale_id": 2,
         "last_translated_by_id": user[3]}])
    w.insert("wagtail_localize_overridablesegment", [{"order": 1, "data_json": "\"\"", "context_id": 1, "source_id": 1}])
    w.insert("wagtail_localize_relatedobjectsegment", [{"order": 2, "context_id": 1, "object_id": source_key,
                                                        "source_id": 1}])
    w.insert("wagtail_localize_template", [{"id": 1, "uuid": stable_uuid("template", 1), "template": "<p></p>",
                                            "template_format": "html", "string_count": 1}])
    w.insert("wagtail_localize_templatesegment", [{"order": 3, "context_id": 1, "source_id": 1, "template_id": 1}])
    w.insert("wagtail_localize_translation", [{"uuid": stable_uuid("translation", 1), "created_at": DEMO_TIME,
                                               "enabled": True, "source_id": 1, "target_locale_id": 2}])
    w.insert("wagtail_localize_translationlog", [{"created_at": DEMO_TIME, "locale_id": 2, "revision_id": 62,
                                                  "source_id": 1}])
    w.insert("wagtail_localize_localesynchronization", [{"locale_id": 2, "sync_from_id": 1}])


def write_operational(conn: psycopg.Connection, acteur_ids: list[str]) -> None:
    """Suggestions, caches and tasks: large in production, never copied nor linked."""
    w = ContentWriter(conn)
    w.insert("data_suggestioncohorte", [
        {"id": c, "identifiant_action": f"dag_{c}", "identifiant_execution": f"run_{c}", "type_action": "SOURCE_MODIFICATION",
         "statut": "AVALIDER", "metadata": {}, "cree_le": DEMO_TIME, "modifie_le": DEMO_TIME} for c in range(1, 11)])
    w.insert("data_suggestion", [
        {"statut": "AVALIDER", "contexte": {"acteur": acteur_ids[s % len(acteur_ids)]},
         "suggestion": {"champ": "telephone", "valeur": f"01{s:08d}"}, "cree_le": DEMO_TIME, "modifie_le": DEMO_TIME,
         "suggestion_cohorte_id": 1 + s % 10} for s in range(100)])
    w.insert("data_suggestiongroupe", [{"id": g, "suggestion_cohorte_id": g, "statut": "AVALIDER", "acteur_id": acteur_ids[g]}
                                       for g in range(1, 6)])
    w.insert("data_suggestionunitaire", [
        {"id": s, "suggestion_modele": "RevisionActeur", "acteur_id": acteur_ids[s % len(acteur_ids)],
         "revision_acteur_id": acteur_ids[s % len(acteur_ids)], "champs": ["telephone"], "valeurs": ["0102030405"],
         "statut": "AVALIDER", "suggestion_groupe_id": 1 + s % 5, "parametres": {}}
        for s in range(1, 21)])
    w.insert("data_suggestionlog", [{"suggestion_cohorte_id": 1, "suggestion_groupe_id": 1, "suggestion_unitaire_id": 1,
                                     "identifiant_unique": acteur_ids[0], "niveau_de_log": "INFO", "message": "créée"}])
    w.insert("data_bancache", [{"adresse": "1 rue de la Gare", "code_postal": "56400", "ville": "Auray",
                                "ban_returned": {"score": 0.9}, "modifie_le": DEMO_TIME} for _ in range(20)])
    w.insert("django_tasks_database_dbtaskresult", [
        {"id": stable_uuid("task", t), "status": "SUCCEEDED", "enqueued_at": DEMO_TIME, "run_after": DEMO_TIME,
         "task_path": "qfdmo.tasks.refresh", "queue_name": "default", "backend_name": "default", "worker_ids": []}
        for t in range(5)])
