"""The conventions of the ecosystem: linters clean, the documentation site renders every page in
a real browser, and the package installs and runs from a fresh virtualenv."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from lacarte import macro_lint
from lacarte.dbt import target_path
from lacarte.ports import free_port
from tests.platform_pair import PROJECT, Pair

BIN = Path(sys.executable).parent
HARNESS = """<html><body><iframe id="site" src="index.html#!/overview" style="width:1200px;height:900px"></iframe>
<pre id="out">pending</pre>
<script>
const pages = PAGES;
const sleep = ms => new Promise(done => setTimeout(done, ms));
async function until(check, ms) {
  for (let waited = 0; waited < ms; waited += 50) { if (check()) return true; await sleep(50); }
  return false;
}
const site = document.getElementById('site');
site.onload = async () => {
  const w = site.contentWindow, errors = [], results = {};
  w.addEventListener('error', e => errors.push(String(e.message)));
  const title = () => { const t = w.document.querySelector('.app-title'); return t ? t.innerText.trim() : ''; };
  await until(() => w.document.querySelector('.app-title') !== null, 30000);
  for (const page of pages) {
    w.location.hash = page.route;
    const shown = await until(() => title() === page.title, 5000);
    const details = w.document.querySelector('.app-details');
    results[page.route] = {shown, title: title(), text: details ? details.innerText : ''};
  }
  document.getElementById('out').textContent = JSON.stringify({results, errors});
};
</script></body></html>"""


def test_python_is_ruff_clean():
    result = subprocess.run([str(BIN / "ruff"), "check", "src", "tests", "dags", "bench"], cwd=PROJECT.root,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


# A statement that writes a table of lacarte_state, in the package or a macro.
STATE_WRITE = re.compile(r"(?:insert\s+into|update|delete\s+from|truncate)\s+(?:\{SCHEMA\}|lacarte_state)\.(\w+)",
                         re.IGNORECASE)


def test_each_state_table_has_one_writer():
    """One module writes each table of lacarte_state (dbt reads them as sources): a second
    writer is a second place where the pipeline's facts could disagree."""
    writers: dict[str, set[str]] = {}
    for path in [*(PROJECT.root / "src").rglob("*.py"), *(PROJECT.root / "macros").rglob("*.sql")]:
        for table in STATE_WRITE.findall(path.read_text()):
            writers.setdefault(table, set()).add(str(path.relative_to(PROJECT.root)))
    assert {"runs", "to_build", "to_publish", "status", "stream", "tracked", "job_lock", "follower"} <= set(writers)
    assert {table: sorted(found) for table, found in writers.items() if len(found) > 1} == {}


def test_sql_is_sqlfluff_clean(world: Pair):
    env = {**os.environ, **world.settings.dbt_environment(), "DBT_TARGET_PATH": str(world.root / "sqlfluff_target")}
    result = subprocess.run([str(BIN / "sqlfluff"), "lint", "models", "analyses", "--processes", "2"],
                            cwd=PROJECT.root, capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_the_macros_sql_is_sqlfluff_clean_and_every_plan_query_is_seen():
    result = subprocess.run([str(BIN / "lacarte"), "lint-macros"], cwd=PROJECT.root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    seen = {(fragment.path.name, fragment.where.split(":")[0])
            for path in macro_lint.macro_files(PROJECT.root) for fragment in macro_lint.fragments(path)}
    # the statements the link, the publication and the merge build are among what is linted
    for expected in [("fdw_plan.sql", "fdw_compare_tables"), ("fdw_plan.sql", "fdw_plan_grants"),
                     ("publish_exposures.sql", "publish_exposures"), ("merge_slice.sql", "merge_slice_statements"),
                     ("relations.sql", "macro own_relation"), ("unique_combination_of_columns.sql",
                                                               "test unique_combination_of_columns")]:
        assert expected in seen, expected


MACRO_WITH_FAULTS = """{% macro faulty(relation, columns) %}
    {%- do run_query("select a from " ~ adapter.quote(relation)
        ~ " WHERE a = " ~ sql_literal(columns)) -%}
    {%- set sql -%}
select b
from {{ relation }}
where b = 1 AND c = 2
    {%- endset -%}
    {%- do run_query("alter user mapping for current_user server x options (drop " ~ relation ~ ")") -%}
{% endmacro %}

{% macro faulty_body(columns) %}
SELECT {{ columns | join(', ') }} from {{ ref('a_model') }}
{% endmacro %}
"""


def test_the_macro_linter_finds_faults_in_strings_blocks_and_bodies_at_their_lines(tmp_path):
    path = tmp_path / "faulty.sql"
    path.write_text(MACRO_WITH_FAULTS)
    findings = {(finding.line, finding.code) for finding in macro_lint.lint([path], PROJECT.root)}
    assert (3, "CP01") in findings  # WHERE, in a string continued on the next Jinja line
    assert any(code == "CP01" for line, code in findings if 4 <= line <= 7)  # AND, in a set block
    assert any(code == "CP01" for line, code in findings if line >= 12)  # SELECT, in a macro's body
    assert not any(code == "PRS" for _, code in findings), findings  # `alter user mapping`: a dialect gap
    result = subprocess.run([str(BIN / "lacarte"), "lint-macros", str(path)], cwd=PROJECT.root,
                            capture_output=True, text=True)
    assert result.returncode == 1 and "CP01" in result.stdout


def test_the_documentation_site_renders_every_page_in_chromium(world: Pair, tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: make test installs it (scripts/install_system_deps.sh --test)"
    world.dbt("docs", "generate")
    site = target_path(world.settings, ["docs"])
    manifest = json.loads((site / "manifest.json").read_text())
    pages = [{"route": f"#!/model/{uid}", "title": f"{node['name']} table"}
             for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"]
    pages += [{"route": f"#!/macro/{uid}", "title": f"lacarte.{macro['name']} macro"}
              for uid, macro in manifest["macros"].items() if macro["package_name"] == "lacarte"]
    pages += [{"route": f"#!/exposure/{uid}", "title": f"{exposure['label']} exposure"}
              for uid, exposure in manifest["exposures"].items()]
    (site / "harness.html").write_text(HARNESS.replace("PAGES", json.dumps(pages)))
    port = free_port()
    env = {**os.environ, **world.settings.dbt_environment()}
    server = subprocess.Popen([str(BIN / "dbt"), "docs", "serve", "--port", str(port), "--no-browser",
                               "--target-path", str(site), "--project-dir", str(PROJECT.root),
                               "--profiles-dir", str(PROJECT.profiles_dir)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "dbt docs serve did not start"
            time.sleep(0.2)
        browser = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=120000", "--dump-dom",
             f"http://127.0.0.1:{port}/harness.html"],
            capture_output=True, text=True, timeout=300)
    finally:
        server.terminate()
        server.wait(timeout=30)
    dom = browser.stdout
    found = json.loads(dom[dom.index('<pre id="out">') + len('<pre id="out">'):dom.index("</pre>")].replace("&amp;", "&")
                       .replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&#39;", "'"))
    assert found["errors"] == []
    assert len(found["results"]) == len(pages) > 100
    broken = {route: result["title"] for route, result in found["results"].items() if not result["shown"]}
    assert broken == {}
    for uid, exposure in manifest["exposures"].items():
        shown = found["results"][f"#!/exposure/{uid}"]["text"]
        for model in exposure["depends_on"]["nodes"]:
            assert model.split(".")[-1] in shown, f"{exposure['name']} does not show {model}"


def test_the_package_installs_and_runs_from_a_fresh_virtualenv(tmp_path):
    source = tmp_path / "source"  # what `pip install .` reads, copied: its build leaves no file in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT.root / name, source / name)
    shutil.copytree(PROJECT.root / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                              "-c", str(PROJECT.root / "requirements.lock"), str(source)],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    shown = subprocess.run([str(venv / "bin" / "lacarte"), "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert shown.returncode == 0 and "usage: lacarte" in shown.stdout
    listed = subprocess.run([str(venv / "bin" / "lacarte"), "--project-dir", str(PROJECT.root), "run", "--list"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert listed.returncode == 0 and "publish" in listed.stdout
    # The web app's real schema and the demo data's SQL come with the package.
    sql = subprocess.run([str(venv / "bin" / "python"), "-c", "from lacarte.instances.webapp_schema import real_schema_sql; "
                          "print(real_schema_sql().count('CREATE TABLE public.'))"], capture_output=True, text=True, cwd=tmp_path)
    assert sql.returncode == 0 and int(sql.stdout) == 174
