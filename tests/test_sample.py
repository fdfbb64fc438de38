"""webapp_sample: built aside and swapped in, consistent, usable by the web app's tests, with
no personal data, link or secret; safe on failure; commutes with the pipeline."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from lacarte.dbt import run_dbt
from lacarte.demo import generate
from lacarte.errors import UserError
from lacarte.instances import pgbin
from lacarte.manifest import published_tables
from lacarte.sample.build import SampleBuilder
from lacarte.sample.checks import validate_sample
from lacarte.sample.dump import dump_sample
from tests.platform_pair import PROJECT, Pair

SAMPLE = "webapp_sample"
LACARTE = str(Path(sys.executable).with_name("lacarte"))
PERSONAL = ["auth_user", "auth_user_groups", "auth_user_user_permissions", "django_session", "django_admin_log",
            "wagtailusers_userprofile", "wagtailadmin_editingsession", "wagtailadmin_formstate", "wagtailcore_comment",
            "wagtailcore_commentreply", "wagtailcore_pagesubscription", "wagtailcore_pagelogentry",
            "wagtailcore_modellogentry", "wagtailcore_workflowstate", "wagtailcore_taskstate", "wagtailcore_uploadedfile",
            "wagtailforms_formsubmission"]
EXCLUDED = ["data_suggestion", "data_suggestioncohorte", "data_suggestiongroupe", "data_suggestionunitaire",
            "data_suggestionlog", "data_bancache", "django_tasks_database_dbtaskresult"]
# Content the web app's pages need, copied whole (its references to people set to NULL).
CONTENT = ["wagtailcore_page", "wagtailcore_revision", "wagtailcore_site", "wagtailcore_locale", "wagtailimages_image",
           "wagtailimages_rendition", "wagtaildocs_document", "wagtailmenus_mainmenuitem", "wagtailmenus_flatmenuitem",
           "wagtail_localize_stringtranslation", "wagtail_localize_segmentoverride", "wagtail_localize_translationlog",
           "sites_conformes_content_manager_contentpage", "sites_conformes_blog_blogentrypage", "qfdmd_homepage",
           "qfdmd_produitpage", "qfdmd_synonyme", "search_searchterm", "taggit_taggeditem", "django_content_type",
           "auth_group", "auth_permission", "wagtailcore_grouppagepermission"]
# Every column of copied content that names a person.
PEOPLE = {"wagtailcore_page": ["owner_id", "locked_by_id"], "wagtailcore_revision": ["user_id"],
          "wagtailimages_image": ["uploaded_by_user_id"], "wagtaildocs_document": ["uploaded_by_user_id"],
          "wagtail_localize_stringtranslation": ["last_translated_by_id"],
          "wagtail_localize_segmentoverride": ["last_translated_by_id"]}
SAMPLE_CHECKSUM = """select md5(string_agg(t, '|' order by t)) from (
    select 'a' || md5(string_agg(a::text, ',' order by identifiant_unique)) t from qfdmo_acteur a
    union all select 'd' || md5(string_agg(d::text, ',' order by identifiant_unique)) from qfdmo_displayedacteur d
    union all select 'v' || md5(string_agg(v::text, ',' order by identifiant_unique)) from qfdmo_vueacteur v
    union all select 'p' || md5(string_agg(p::text, ',' order by id)) from qfdmo_propositionservice p) parts"""
WAREHOUSE_STATE = """select string_agg(c.relname || ':' || c.relfilenode, ',' order by c.relname) from pg_class c
    where c.relnamespace::regnamespace::text in ('staging', 'intermediate', 'marts', 'exposure', 'reference')"""


@pytest.fixture(scope="module")
def sampled(world: Pair) -> Pair:
    SampleBuilder(world.settings).run()
    return world


def databases(pair: Pair) -> set[str]:
    return {r[0] for r in pair.query("webapp", "select datname from pg_database")}


def checksum(pair: Pair) -> str:
    return pair.query("webapp", SAMPLE_CHECKSUM, dbname=SAMPLE)[0][0]


def count(pair: Pair, table: str, dbname: str) -> int:
    return pair.query("webapp", f'select count(*) from public."{table}"', dbname=dbname)[0][0]


def test_sample_holds_the_territories_and_no_personal_data(sampled: Pair):
    for table in PERSONAL + EXCLUDED:
        assert count(sampled, table, "webapp") > 0, f"the demo data should give {table} rows"
        assert count(sampled, table, SAMPLE) == 0, table
    for table in CONTENT:
        assert count(sampled, table, SAMPLE) == count(sampled, table, "webapp") > 0, table
    for table, columns in PEOPLE.items():
        named = " or ".join(f"{c} is not null" for c in columns)
        assert sampled.query("webapp", f"select count(*) from {table} where {named}")[0][0] > 0, table
        assert sampled.query("webapp", f"select count(*) from {table} where {named}", dbname=SAMPLE) == [(0,)], table
    migrations = "select * from django_migrations order by id"
    assert sampled.query("webapp", migrations, dbname=SAMPLE) == sampled.query("webapp", migrations)
    assert count(sampled, "qfdmd_produitpage_sous_categorie_objet", SAMPLE) > 0
    per_epci = dict(sampled.query("webapp", """select e.code, count(*) from qfdmo_displayedacteur a
        join qfdmo_epci e on e.id = a.epci_id group by 1""", dbname=SAMPLE))
    assert set(per_epci) == {"200043123", "200065647"}
    outside = sampled.query("webapp", """select count(*) from qfdmo_displayedacteur a join qfdmo_acteurtype t
        on t.id = a.acteur_type_id where a.epci_id is null and t.code <> 'acteur_digital'""", dbname=SAMPLE)
    assert outside == [(0,)]
    assert 0 < count(sampled, "qfdmo_vueacteur", SAMPLE) < count(sampled, "qfdmo_vueacteur", "webapp")
    assert "webapp_sample__next" not in databases(sampled)


def test_the_sample_holds_no_link_no_secret_and_only_public(sampled: Pair):
    database = sampled.settings.database("webapp", dbname=SAMPLE)
    assert validate_sample(database, ["200043123", "200065647"]) == []
    schemas = {r[0] for r in sampled.query("webapp", "select nspname from pg_namespace where nspname !~ '^pg_'",
                                           dbname=SAMPLE)}
    assert schemas == {"public", "information_schema"}
    bindir = pgbin.find_bindir(sampled.settings.values)
    admin = sampled.settings.database("webapp", user="admin")
    dump = subprocess.run([str(bindir / "pg_dump"), "-h", admin.host, "-p", str(admin.port), "-U", admin.user, SAMPLE],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PGPASSWORD": admin.password, "PGSSLMODE": "require"})
    for password in sampled.all_passwords():
        assert password not in dump.stdout
    assert "CREATE SERVER" not in dump.stdout and "USER MAPPING" not in dump.stdout
    assert sampled.query("webapp", "select count(*) from pg_database where datname = %s and has_database_privilege("
                         "'public', datname, 'connect')", [SAMPLE]) == [(0,)]


def test_an_ordinary_role_restores_the_sample_with_zero_errors(sampled: Pair, tmp_path):
    archive = dump_sample(sampled.settings, tmp_path / "sample.dump")
    with sampled.connect("webapp", user="admin") as admin:
        admin.execute("drop database if exists restored")
        admin.execute("drop role if exists webapp_tests")
        admin.execute("create role webapp_tests login password 'tests-password'")
        admin.execute("create database restored owner webapp_tests template template0")
    try:
        with sampled.connect("webapp", user="admin", dbname="restored") as admin:  # what a managed database provides
            for extension in ("postgis", "pg_trgm", "unaccent", "uuid-ossp", "postgres_fdw", "pg_stat_statements"):
                admin.execute(f'create extension "{extension}"')
        bindir = pgbin.find_bindir(sampled.settings.values)
        database = sampled.settings.database("webapp")
        restore = subprocess.run(
            [str(bindir / "pg_restore"), "--no-owner", "--no-acl", "-h", database.host, "-p", str(database.port),
             "-U", "webapp_tests", "-d", "restored", str(archive)],
            capture_output=True, text=True, env={**os.environ, "PGPASSWORD": "tests-password", "PGSSLMODE": "require"})
        assert restore.returncode == 0 and restore.stderr == "", restore.stderr
        migrations = "select app, name from django_migrations order by id"
        assert sampled.query("webapp", migrations, dbname="restored", user="admin") == sampled.query("webapp", migrations)
        restored = sampled.query("webapp", "select count(*) from qfdmo_displayedacteur", dbname="restored", user="admin")
        assert restored == [(count(sampled, "qfdmo_displayedacteur", SAMPLE),)]
    finally:
        with sampled.connect("webapp", user="admin") as admin:
            admin.execute("drop database if exists restored with (force)")
            admin.execute("drop role if exists webapp_tests")


def test_the_sample_s_exposures_are_the_map_s_restricted_to_its_actors(sampled: Pair):
    for published in published_tables(sampled.settings):
        columns = [r[0] for r in sampled.query("webapp", """select column_name from information_schema.columns
            where table_schema = 'public' and table_name = %s and is_identity = 'NO' order by 1""", [published.table])]
        select = f"select {', '.join(columns)} from public.{published.table} order by 1, 2"
        in_sample = {tuple(map(str, r)) for r in sampled.query("webapp", select, dbname=SAMPLE)}
        live = {tuple(map(str, r)) for r in sampled.query("webapp", select)}
        assert in_sample, published.table
        assert in_sample <= live, published.table
    acteurs = {r[0] for r in sampled.query("webapp", """select identifiant_unique from qfdmo_acteur
        union select identifiant_unique from qfdmo_revisionacteur""", dbname=SAMPLE)}
    live_displayed = {r[0] for r in sampled.query("webapp", "select identifiant_unique from qfdmo_displayedacteur")}
    sample_displayed = {r[0] for r in sampled.query("webapp", "select identifiant_unique from qfdmo_displayedacteur",
                                                    dbname=SAMPLE)}
    assert sample_displayed == live_displayed & acteurs


@pytest.mark.parametrize("ddl, message", [
    ("create table qfdmx_nouveau (id int)", "no copy rule for table.*qfdmx_nouveau.*var webapp_tables"),
    ("create table qfdmo_note (id int primary key, auteur_id int references auth_user (id))",
     "qfdmo_note.auteur_id refers to auth_user \\(personal\\): give qfdmo_note rule detach"),
    ("create table qfdmo_favori (id int primary key, acteur_id varchar(255) references qfdmo_acteur (identifiant_unique))",
     "qfdmo_favori.acteur_id refers to qfdmo_acteur \\(acteurs\\), which is filtered: give qfdmo_favori rule follow"),
])
def test_the_copy_rules_fail_closed(sampled: Pair, ddl: str, message: str):
    before = checksum(sampled)
    table = ddl.split()[2]
    sampled.execute("webapp", ddl)
    try:
        with pytest.raises(UserError, match=message):
            SampleBuilder(sampled.settings).run()
    finally:
        sampled.execute("webapp", f"drop table {table}")
    assert checksum(sampled) == before
    assert "webapp_sample__next" not in databases(sampled)


def kill_copies(pair: Pair, stop: threading.Event) -> None:
    """Terminate the sample's COPY connections on the webapp as soon as they appear."""
    with pair.connect("webapp", user="admin") as conn:
        while not stop.is_set():
            killed = conn.execute("""select count(pg_terminate_backend(pid)) from pg_stat_activity
                where query ilike 'copy%%' and pid <> pg_backend_pid()""").fetchone()[0]
            if killed:
                return
            time.sleep(0.01)


@pytest.mark.parametrize("fault_step, fault", [
    ("copy", "kill the webapp connection"),
    ("publish", "stop the warehouse"),
    ("swap", "crash"),
])
def test_failure_at_any_step_keeps_the_previous_sample_and_the_warehouse(sampled: Pair, fault_step: str, fault: str):
    before = checksum(sampled)
    warehouse_before = sampled.query("warehouse", WAREHOUSE_STATE)
    warehouse = sampled.instances.instances[1]
    stop = threading.Event()
    killer = None

    def on_step(step: str) -> None:
        nonlocal killer
        if step != fault_step:
            return
        if fault == "kill the webapp connection":
            killer = threading.Thread(target=kill_copies, args=(sampled, stop))
            killer.start()
        elif fault == "stop the warehouse":
            sampled.instances._pg_ctl(warehouse, "stop", "-w", "-m", "fast")
        else:
            raise RuntimeError("crash before the swap")

    try:
        with pytest.raises((UserError, RuntimeError)):
            SampleBuilder(sampled.settings).run(on_step=on_step)
    finally:
        stop.set()
        if killer:
            killer.join()
        sampled.up()
    assert checksum(sampled) == before
    assert "webapp_sample__next" not in databases(sampled)
    assert sampled.query("warehouse", WAREHOUSE_STATE) == warehouse_before


def cli(pair: Pair, *args: str, **values: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in pair.settings.values.items() if k.isupper()}
    env.update(PATH=os.environ["PATH"], LACARTE_PROJECT_DIR=str(PROJECT.root), **values)
    return subprocess.run([LACARTE, *args], capture_output=True, text=True, env=env, timeout=600)


def test_a_failed_build_ends_with_one_line(sampled: Pair):
    before = checksum(sampled)
    unknown = cli(sampled, "sample", "build", "--epci", "999999999")
    assert unknown.returncode == 2 and "unknown EPCI code(s) 999999999" in unknown.stderr
    sampled.execute("webapp", "create table zz_nouveau (id int)")
    try:
        unruled = cli(sampled, "sample", "build")
    finally:
        sampled.execute("webapp", "drop table zz_nouveau")
    assert unruled.returncode == 2 and "no copy rule for table(s) zz_nouveau" in unruled.stderr
    for failed in (unknown, unruled):
        assert len(failed.stderr.strip().splitlines()) == 1 and "Traceback" not in failed.stderr
    assert checksum(sampled) == before


@pytest.mark.parametrize("name", ["webapp", "Webapp", "warehouse", "postgres", " webapp_sample", "", "webapp__old"])
def test_the_sample_never_touches_another_database(sampled: Pair, name: str):
    client = sampled.connect("webapp")
    try:
        settings = sampled.settings.with_values(WEBAPP_SAMPLE_DB_NAME=name)
        if name == "webapp__old":
            settings = settings.with_values(WEBAPP_DB_NAME="webapp__old__next")
        with pytest.raises(UserError, match="WEBAPP_SAMPLE_DB_NAME"):
            SampleBuilder(settings).run()
        assert client.execute("select 1").fetchone() == (1,)  # nobody was disconnected
    finally:
        client.close()


@pytest.mark.parametrize("environment", ["production", "production ", " PRODUCTION", "Production"])
def test_production_is_refused_whatever_its_spelling(sampled: Pair, environment: str):
    with pytest.raises(UserError, match="production"):
        SampleBuilder(sampled.settings.with_values(LACARTE_ENVIRONMENT=environment)).run()


@pytest.mark.parametrize("environment", ["", "prod", "staging", "locale"])
def test_an_unknown_environment_is_an_error(sampled: Pair, environment: str):
    with pytest.raises(UserError, match="LACARTE_ENVIRONMENT=.* is not one of local, preprod, production"):
        SampleBuilder(sampled.settings.with_values(LACARTE_ENVIRONMENT=environment)).run()


def test_a_production_database_is_refused_whatever_the_environment_says(sampled: Pair):
    before = checksum(sampled)
    sampled.execute("webapp", "alter database webapp set lacarte.environment = ' Production'", user="admin")
    try:
        with pytest.raises(UserError, match="webapp .* is a production database"):
            SampleBuilder(sampled.settings.with_values(LACARTE_ENVIRONMENT="local")).run()
        with pytest.raises(UserError, match="is a production database"):
            generate(sampled.settings, acteurs=10, seed=1)
        assert sampled.query("webapp", "select count(*) from auth_user")[0][0] > 0
    finally:
        sampled.execute("webapp", "alter database webapp reset lacarte.environment", user="admin")
    assert checksum(sampled) == before


def test_a_database_not_built_as_a_sample_is_never_replaced(sampled: Pair):
    with sampled.connect("webapp") as conn:
        conn.execute("drop database if exists someone_elses")
        conn.execute("create database someone_elses")
    sampled.execute("webapp", "create table precious (id int)", dbname="someone_elses")
    try:
        with pytest.raises(UserError, match="someone_elses exists and was not built by `lacarte sample build`"):
            SampleBuilder(sampled.settings.with_values(WEBAPP_SAMPLE_DB_NAME="someone_elses")).run()
        assert sampled.query("webapp", "select count(*) from precious", dbname="someone_elses") == [(0,)]
    finally:
        with sampled.connect("webapp") as conn:
            conn.execute("drop database someone_elses with (force)")


def test_clients_of_every_role_are_disconnected_at_the_swap(sampled: Pair):
    with sampled.connect("webapp", user="admin") as admin:
        admin.execute("drop role if exists sample_client")
        admin.execute("create role sample_client login password 'client-password'")
        admin.execute(f"grant connect on database {SAMPLE} to sample_client")
    own = sampled.connect("webapp", dbname=SAMPLE)
    other = psycopg.connect(**sampled.settings.database("webapp", dbname=SAMPLE).conninfo(
        user="sample_client", password="client-password"), autocommit=True)
    try:
        assert own.execute("select 1").fetchone() == other.execute("select 1").fetchone() == (1,)
        SampleBuilder(sampled.settings).run()
        for client in (own, other):
            with pytest.raises(psycopg.OperationalError):
                client.execute("select 1")
        assert sampled.query("webapp", "select count(*) > 0 from qfdmo_acteur", dbname=SAMPLE) == [(True,)]
    finally:
        own.close()
        other.close()
        sampled.execute("webapp", "drop role if exists sample_client", user="admin")


def test_a_session_the_owner_cannot_end_keeps_the_previous_sample(sampled: Pair):
    before = checksum(sampled)
    superuser = sampled.connect("webapp", user="admin", dbname=SAMPLE)
    try:
        with pytest.raises(UserError, match="still in use by sessions this role may not end"):
            SampleBuilder(sampled.settings).run()
        assert superuser.execute("select 1").fetchone() == (1,)
    finally:
        superuser.close()
    assert checksum(sampled) == before
    assert sampled.query("webapp", "select datallowconn from pg_database where datname = %s", [SAMPLE]) == [(True,)]
    assert "webapp_sample__next" not in databases(sampled)


def test_pipeline_of_the_sample_equals_the_sample_of_the_pipeline(sampled: Pair):
    """The pipeline run on the sample computes exactly what the sample holds (runs last)."""
    sample_checksum = checksum(sampled)
    on_sample = sampled.settings.with_values(WEBAPP_FDW_DBNAME=SAMPLE)
    # What the deploy's grants give the link's reader role on a webapp database.
    sampled.execute("webapp", f"grant connect on database {SAMPLE} to webapp_reader; "
                              "grant select on all tables in schema public to webapp_reader", dbname=SAMPLE)
    try:
        run_dbt(on_sample, ["run-operation", "refresh_fdw", "--target", "warehouse"], quiet=True,
                link_password_for="warehouse")
        run_dbt(on_sample, ["run"], quiet=True)
        for p in published_tables(sampled.settings):
            columns = [r[0] for r in sampled.query("webapp", """select column_name from information_schema.columns
                where table_schema = 'public' and table_name = %s and is_identity = 'NO' order by 1""", [p.table])]
            select = f"select {', '.join(columns)} from {{}} order by 1, 2"
            published = sampled.query("webapp", select.format(f"public.{p.table}"), dbname=SAMPLE)
            computed = sampled.query("warehouse", select.format(f"exposure.{p.model}"))
            assert len(published) > 0, p.table
            assert sorted(tuple(map(str, r)) for r in computed) == sorted(tuple(map(str, r)) for r in published), p.table
    finally:
        sampled.execute("webapp", f"revoke all on all tables in schema public from webapp_reader; "
                                  f"revoke connect on database {SAMPLE} from webapp_reader", dbname=SAMPLE)
        # The link points back at the webapp; the warehouse keeps what it computed from the
        # sample (this is the module's last test, and no later module reads the exposures).
        run_dbt(sampled.settings, ["run-operation", "refresh_fdw", "--target", "warehouse"], quiet=True,
                link_password_for="warehouse")
    assert checksum(sampled) == sample_checksum
