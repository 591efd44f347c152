# The two set-up commands: `make demo` and `make test`. Both create .venv on first use.
# `make test` runs the fast tiers (unit, admin, engine); each slow tier has its own target and
# `make test-all` runs every tier, with coverage.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-browser test-servers test-services test-floods test-properties test-all lint docs versions versions-ci wheel screenshots clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,docs]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/python manage.py rundemo

SLOW_TIERS := browser or servers or services or flood or properties

test: install
	$(BIN)/python -m pytest -m "not ($(SLOW_TIERS))" $(PYTEST_ARGS)

test-browser: install
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

test-servers: install
	$(BIN)/python -m pytest -m servers $(PYTEST_ARGS)

test-services: install
	$(BIN)/python -m pytest -m services $(PYTEST_ARGS)

test-floods: install
	$(BIN)/python -m pytest -m flood $(PYTEST_ARGS)

test-properties: install
	$(BIN)/python -m pytest -m properties $(PYTEST_ARGS)

test-all: install
	$(BIN)/python -m pytest --cov --cov-report=term $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy django_preflight
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check --fail-level WARNING

docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

versions: install
	$(BIN)/nox

versions-ci: install
	$(BIN)/nox -t ci

wheel: install
	bash scripts/check_wheel.sh

screenshots: install
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .coverage db.sqlite3 site .nox
