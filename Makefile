# The two commands: `make demo` (everything, on local instances) and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
ACTEURS ?= 20000
SEED ?= 42

.PHONY: demo test install system-deps lint bench bench-quick down clean

demo: install
	$(PY) scripts/instances.py up
	$(PY) scripts/demo_data.py --acteurs $(ACTEURS) --seed $(SEED)
	$(PY) scripts/deploy.py
	$(PY) scripts/pipeline.py
	$(PY) scripts/build_sample.py
	$(PY) scripts/summary.py

test: install
	$(PY) -m pytest

install: system-deps $(VENV)/.installed

system-deps:
	@bash scripts/install_system_deps.sh

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

lint: install
	$(VENV)/bin/ruff check scripts tests dags bench

bench: install
	$(PY) bench/run.py

bench-quick: install
	$(PY) bench/run.py --quick

down: install
	$(PY) scripts/instances.py down

clean:
	rm -rf target logs
