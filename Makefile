# The two set-up commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint docs versions versions-ci wheel screenshots clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,docs]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/python manage.py rundemo

test: install
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
