# The two commands: `make demo` (everything, on local instances) and `make test`.
VENV ?= .venv
AIRFLOW_VENV ?= .venv-airflow
PYTHON ?= python3
LACARTE := $(VENV)/bin/lacarte
PIP := --quiet --disable-pip-version-check
ACTEURS ?= 20000
SEED ?= 42

.PHONY: demo test install airflow system-deps lint docs bench bench-quick bench-incremental bench-follower down clean lock

demo: install
	$(LACARTE) instances up
	$(LACARTE) demo-data --acteurs $(ACTEURS) --seed $(SEED)
	$(LACARTE) deploy
	$(LACARTE) run
	$(LACARTE) opendata export
	$(LACARTE) sample build
	$(LACARTE) demo-edit --share 0.01
	$(LACARTE) run --incremental
	$(LACARTE) demo-follow
	$(LACARTE) status

test: install airflow
	@bash scripts/install_system_deps.sh --test
	$(VENV)/bin/pytest --numprocesses=2

install: system-deps $(VENV)/.installed

system-deps:
	@bash scripts/install_system_deps.sh

# Every version pinned by the lock files; the package itself installed editable, without deps.
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP) -r requirements.lock
	$(VENV)/bin/pip install $(PIP) --no-deps -e .
	touch $@

# Airflow in an environment of its own; its DAGs import lacarte.steps (no dependency) and
# run the `lacarte` command of the project's environment.
airflow: $(AIRFLOW_VENV)/.installed

$(AIRFLOW_VENV)/.installed: requirements-airflow.lock pyproject.toml
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install $(PIP) -r requirements-airflow.lock
	$(AIRFLOW_VENV)/bin/pip install $(PIP) --no-deps -e .
	touch $@

# sqlfluff's dbt templater compiles the models against the warehouse: the local instances
# are started first (a fresh clone gets them, with their TLS certificates and passwords).
# The macros' SQL is linted with the same rules, without a database (lacarte lint-macros).
lint: install
	$(VENV)/bin/ruff check src tests dags bench
	$(LACARTE) lint-macros
	$(LACARTE) instances up > /dev/null
	eval "$$($(LACARTE) instances env)" && $(VENV)/bin/sqlfluff lint models analyses --processes 2

docs: install
	$(LACARTE) instances up
	$(VENV)/bin/dbt docs generate --project-dir . --profiles-dir profiles
	@echo "serve it with: $(VENV)/bin/dbt docs serve --project-dir . --profiles-dir profiles"

bench: install
	$(VENV)/bin/python -m bench.run

bench-quick: install
	$(VENV)/bin/python -m bench.run --quick

bench-incremental: install
	$(VENV)/bin/python -m bench.incremental

bench-follower: install
	$(VENV)/bin/python -m bench.follower

down: install
	$(LACARTE) instances down

# Regenerate the lock files after changing pyproject.toml or requirements-airflow.in.
lock: install
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11
	$(VENV)/bin/uv pip compile requirements-airflow.in -o requirements-airflow.lock --python-version 3.11

clean:
	rm -rf target logs
