"""The weekly open-data file: production's columns and rules, validated against its Table
Schema, written aside and swapped in (a folder, or an S3-compatible bucket served locally),
refused when it shrinks, never partial under the stable name."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from lacarte.errors import StepFailure, UserError
from lacarte.opendata.export import export_open_data
from lacarte.ports import free_port
from tests.platform_pair import Pair
from tests.scenario_world import PARENT

# Production's file (model exposure_opendata_acteur of incubateur-ademe/quefairedemesobjets).
PRODUCTION_HEADER = [
    "identifiant", "paternite", "identifiants_des_contributeurs", "nom", "nom_commercial", "siren", "siret",
    "description", "type_dacteur", "site_web", "telephone", "adresse", "complement_dadresse", "code_postal", "ville",
    "code_commune", "code_epci", "nom_epci", "latitude", "longitude", "qualites_et_labels", "public_accueilli",
    "reprise", "exclusivite_de_reprisereparation", "uniquement_sur_rdv", "type_de_services", "consignes_dacces",
    "horaires_description", "horaires_osm", "lieu_prestation", "perimetreadomicile", "propositions_de_services",
    "emprunter", "preter", "louer", "mettreenlocation", "reparer", "donner", "trier", "echanger", "revendre",
    "acheter", "rapporter", "date_de_derniere_modification",
]
FRICTIONLESS = str(Path(sys.executable).with_name("frictionless"))


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def uuid_of(pair: Pair, identifiant_unique: str) -> str:
    return pair.query("warehouse", "select uuid from intermediate.int_acteurs__public_ids "
                                   "where identifiant_unique = %s", [identifiant_unique])[0][0]


@pytest.fixture(scope="module")
def exported(world: Pair, tmp_path_factory) -> tuple[Pair, Path]:
    folder = tmp_path_factory.mktemp("opendata")
    export_open_data(world.settings, to=str(folder))
    return world, folder


def test_the_file_is_productions_and_valid_against_its_descriptor(exported):
    pair, folder = exported
    data = (folder / "acteurs.csv").read_bytes()
    header = next(csv.reader(io.StringIO(data.decode())))
    assert header == PRODUCTION_HEADER
    rows = read_csv(data)
    assert len(rows) == pair.query("warehouse", "select count(*) from exposure.exposure_opendata_acteur")[0][0] > 100
    identifiants = [row["identifiant"] for row in rows]
    assert identifiants == [r[0] for r in pair.query(
        "warehouse", "select identifiant from exposure.exposure_opendata_acteur order by identifiant")]
    copies = [p for p in folder.iterdir() if p.name[:14].isdigit()]
    assert len(copies) == 1 and copies[0].read_bytes() == data
    descriptor = json.loads((folder / "datapackage.json").read_text())
    assert descriptor["lacarte"]["rows"] == len(rows)
    assert [f["name"] for f in descriptor["resources"][0]["schema"]["fields"]] == PRODUCTION_HEADER
    # What a re-user runs: frictionless validates the file against the published descriptor.
    check = subprocess.run([FRICTIONLESS, "validate", "datapackage.json"], cwd=folder, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-2000:]
    assert "VALID" in check.stdout


def test_the_file_keeps_closed_licences_and_private_fields_out(exported):
    pair, folder = exported
    rows = {row["identifiant"]: row for row in read_csv((folder / "acteurs.csv").read_bytes())}
    # PARENT's ACTIF children: scn_child_a (ADEME, OPEN_LICENSE) and scn_child_b (Emmaüs, ODBL).
    parent = rows[uuid_of(pair, PARENT)]
    assert json.loads(parent["identifiants_des_contributeurs"]) == [{"ADEME": "scn_child_a"}]
    assert parent["paternite"] == "Que faire de mes objets et déchets|ADEME|ADEME"
    assert parent["reparer"] == "chaussures|vetement" and parent["donner"] == ""
    assert parent["qualites_et_labels"] == "ess"
    assert json.loads(parent["perimetreadomicile"]) == [{"type": "KILOMETRIQUE", "valeur": "10"}]
    assert json.loads(parent["propositions_de_services"]) == [
        {"action": "reparer", "sous_categories": ["chaussures", "vetement"]}]
    assert uuid_of(pair, "scn_renamed") not in rows  # Refashion: CC_BY_NC_SA
    home = rows[uuid_of(pair, "scn_domicile")]  # home-only: not on the map, in the file, without its address
    assert (home["adresse"], home["complement_dadresse"], home["lieu_prestation"]) == ("", "", "A_DOMICILE")
    assert home["code_postal"] == "56400"
    plain = rows[uuid_of(pair, "scn_plain")]
    assert plain["adresse"] == "1 rue de la Gare" and plain["telephone"] == "0102030405"
    assert plain["latitude"] and plain["date_de_derniere_modification"] == "2025-06-01"
    mobiles = pair.query("warehouse", """select count(*) from marts.opendata_acteurs as o
        join intermediate.int_acteurs__overlaid as a using (identifiant_unique)
        where a.telephone ~ '^(0[67]|\\+33 ?[67])'""")[0][0]
    assert mobiles > 0, "the demo data should give open actors mobile numbers"
    assert not [row for row in rows.values() if row["telephone"].startswith(("06", "07", "+336", "+337"))]


def test_a_failure_mid_write_leaves_the_previous_file(exported):
    pair, folder = exported
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def fail(written: int) -> None:
        raise RuntimeError("disk full (injected)")

    with pytest.raises(RuntimeError, match="injected"):
        export_open_data(pair.settings, to=str(folder), on_progress=fail)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_shrinking_file_is_refused_and_changes_nothing(exported):
    pair, folder = exported
    descriptor = json.loads((folder / "datapackage.json").read_text())
    descriptor["lacarte"]["rows"] *= 3  # the published file was three times larger
    (folder / "datapackage.json").write_text(json.dumps(descriptor))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(StepFailure, match="publish_min_ratio"):
        export_open_data(pair.settings, to=str(folder))
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    try:
        (folder / "datapackage.json").unlink()  # without a descriptor the published file itself is counted
        header, body = before["acteurs.csv"].split(b"\n", 1)
        (folder / "acteurs.csv").write_bytes(header + b"\n" + body * 3)
        with pytest.raises(StepFailure, match="publish_min_ratio"):
            export_open_data(pair.settings, to=str(folder))
    finally:
        descriptor["lacarte"]["rows"] //= 3
        (folder / "datapackage.json").write_text(json.dumps(descriptor))
        (folder / "acteurs.csv").write_bytes(before["acteurs.csv"])


def test_old_copies_beyond_the_retention_are_removed(world: Pair, tmp_path):
    for _ in range(3):
        export_open_data(world.settings, to=str(tmp_path), keep=2)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len([n for n in names if n[:14].isdigit()]) <= 2
    assert {"acteurs.csv", "datapackage.json"} <= set(names)
    assert not [n for n in names if n.startswith(".")]


@pytest.mark.parametrize("to, keep, message", [
    ("ftp://example.org/x", None, "unknown destination scheme"),
    ("   ", None, "destination is empty"),
    (None, 0, "--keep"),
    (None, "3", "--keep"),
    (None, True, "--keep"),
])
def test_bad_input_is_refused_before_anything(world: Pair, tmp_path, to, keep, message):
    with pytest.raises(UserError, match=message):
        export_open_data(world.settings, to=str(tmp_path) if to is None else to, keep=keep)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ratio", ["0,5", True, 2, None])
def test_the_threshold_is_typed(world: Pair, tmp_path, monkeypatch, ratio):
    monkeypatch.setitem(world.settings.project.dbt_vars, "publish_min_ratio", ratio)
    with pytest.raises(UserError, match="publish_min_ratio"):
        export_open_data(world.settings, to=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("environment", ["production", " Production "])
def test_production_refuses_a_local_folder(world: Pair, tmp_path, environment):
    with pytest.raises(UserError, match="local folder is refused"):
        export_open_data(world.settings.with_values(LACARTE_ENVIRONMENT=environment), to=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_an_unfinished_full_build_is_never_exported(world: Pair, tmp_path):
    world.execute("warehouse", "update lacarte_state.status set needs_full_build = true")
    try:
        with pytest.raises(StepFailure, match="did not complete"):
            export_open_data(world.settings, to=str(tmp_path))
    finally:
        world.execute("warehouse", "update lacarte_state.status set needs_full_build = false")
    assert list(tmp_path.iterdir()) == []


# -- an S3-compatible bucket, served on loopback by moto's server --------------------------------------
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "lacarte-test-key-id", "AWS_SECRET_ACCESS_KEY": "lacarte-test-secret-9f2c",
               "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
    client.create_bucket(Bucket="lvao-opendata")
    yield endpoint, client
    server.stop()


def objects(client, prefix: str) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket="lvao-opendata", Prefix=prefix).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket="lvao-opendata", Key=o["Key"])["Body"].read() for o in listed}


def test_the_bucket_receives_the_file_and_a_failure_leaves_it(exported, s3_server, capsys):
    pair, folder = exported
    endpoint, client = s3_server
    settings = pair.settings.with_values(**CREDENTIALS, LACARTE_OPENDATA_S3_ENDPOINT=endpoint)
    result = export_open_data(settings, to="s3://lvao-opendata/acteurs")
    stored = objects(client, "acteurs/")
    assert set(stored) == {"acteurs/acteurs.csv", "acteurs/datapackage.json", f"acteurs/{result.timestamped}"}
    assert read_csv(stored["acteurs/acteurs.csv"]) == read_csv((folder / "acteurs.csv").read_bytes())
    assert stored[f"acteurs/{result.timestamped}"] == stored["acteurs/acteurs.csv"]
    assert json.loads(stored["acteurs/datapackage.json"])["lacarte"]["rows"] == result.rows

    def fail(written: int) -> None:
        raise RuntimeError("network down (injected)")

    with pytest.raises(RuntimeError, match="injected"):
        export_open_data(settings, to="s3://lvao-opendata/acteurs", on_progress=fail)
    assert objects(client, "acteurs/") == stored
    output = capsys.readouterr()
    for secret in CREDENTIALS.values():
        if "secret" in secret or "key" in secret:
            assert secret not in output.out + output.err


def test_the_bucket_command_never_shows_its_credentials(exported, s3_server):
    pair, _folder = exported
    endpoint, client = s3_server
    env = {**pair.settings.values, **CREDENTIALS, "LACARTE_OPENDATA_S3_ENDPOINT": endpoint}
    lacarte = str(Path(sys.executable).with_name("lacarte"))
    run = subprocess.run([lacarte, "--project-dir", str(pair.settings.project.root), "opendata", "export",
                          "--to", "s3://lvao-opendata/cli"], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "cli/acteurs.csv" in objects(client, "cli/")
    for secret in (CREDENTIALS["AWS_ACCESS_KEY_ID"], CREDENTIALS["AWS_SECRET_ACCESS_KEY"]):
        assert secret not in run.stdout + run.stderr


@pytest.mark.parametrize("case", ["no credentials", "unreachable endpoint", "no such bucket"])
def test_a_bucket_that_cannot_be_reached_is_an_error_that_changes_nothing(exported, s3_server, case):
    pair, _folder = exported
    endpoint, client = s3_server
    values = {**CREDENTIALS, "LACARTE_OPENDATA_S3_ENDPOINT": endpoint}
    bucket = "lvao-opendata"
    if case == "no credentials":
        values.update(AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="")
    elif case == "unreachable endpoint":
        values["LACARTE_OPENDATA_S3_ENDPOINT"] = f"http://127.0.0.1:{free_port()}"
    else:
        bucket = "no-such-bucket"
    before = objects(client, "")
    with pytest.raises(UserError) as refused:
        export_open_data(pair.settings.with_values(**values), to=f"s3://{bucket}/acteurs")
    assert CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in str(refused.value)
    assert objects(client, "") == before
