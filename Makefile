# The two set-up commands: `make demo` and `make test`. Both create .venv on first use.
# `make test` runs the fast tiers (unit, admin, engine); each slow tier has its own target and
# `make test-all` runs every tier, with coverage.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-browser test-servers test-services test-floods test-properties test-all lint docs docs-serve versions versions-ci wheel screenshots clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,docs]'
	touch $@

install: $(VENV)/.installed

# The demo needs only the package, Django REST framework and the relay's HTTP client: no test,
# lint or docs tools.
$(VENV)/.demo-installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "== installing django-preflight-cors (editable) with its drf and relay extras into $(VENV)"
	$(BIN)/python -m pip install --progress-bar on -e '.[drf,relay]'
	touch $@

demo: $(VENV)/.demo-installed
	$(BIN)/python manage.py rundemo $(DEMO_ARGS)

SLOW_TIERS := browser or servers or services or flood or properties or packaging

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

# Coverage roughly doubles the CPU time of the code under test; COVERAGE= turns it off.
COVERAGE ?= --cov --cov-report=term

test-all: install
	$(BIN)/python -m pytest $(COVERAGE) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy django_preflight benchmarks
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check --fail-level WARNING

docs: install
	OFFLINE=true NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	@echo "Open site/index.html in a browser (it works from the file system), or run make docs-serve."

docs-serve: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8008

versions: install
	$(BIN)/nox

versions-ci: install
	$(BIN)/nox -t ci

wheel: install
	bash scripts/check_wheel.sh

screenshots: install
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .coverage db.sqlite3 site .nox dist
