# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint serve worker superuser lock bench clean

$(STAMP): requirements/dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed (set PYTHON=/path/to/python3.11)"; exit 1; }
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/dev.txt
	@touch $@

## Run the development server on the embedded default (SQLite, in-process cache, console email).
## The first run writes .env (DEBUG and a SECRET_KEY of this machine), which manage.py reads too.
run: $(STAMP) .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py runserver $${PORT:-8000}

# Development settings, written once and never overwritten (nor committed: .gitignore).
.env: | $(STAMP)
	@{ echo "# Development settings for this checkout, written by \`make run\` on first use."; \
	   echo "# Never commit this file; production reads its settings from the real environment"; \
	   echo "# or an env file of its own (see .env.example). The real environment wins over it."; \
	   echo "DEBUG=true"; \
	   echo "SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))')"; \
	 } > $@
	@echo "Wrote $@ (development settings: DEBUG=true and a new SECRET_KEY)."

## Run the whole test suite (on PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set).
## PYTEST_ARGS='-m "not slow"' skips the tests that start processes or a browser;
## COVERAGE=1 measures branch coverage and fails below the floors of .ci/coverage.
test: $(STAMP)
ifeq ($(COVERAGE),1)
	$(BIN)/python -m coverage erase
	$(BIN)/python -m coverage run -m pytest $(PYTEST_ARGS)
	PATH=$(CURDIR)/$(BIN):$$PATH .ci/coverage
else
	$(BIN)/python -m pytest $(PYTEST_ARGS)
endif

## Static checks CI runs too (import rules: [tool.importlinter] in pyproject.toml). mypy's
## Django plugin imports the settings, hence DEBUG=true (it stands in for a SECRET_KEY).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports
	DEBUG=true $(BIN)/mypy

## The production server (granian) on whatever DATABASE_URL/REDIS_URL say.
serve: $(STAMP)
	$(BIN)/python manage.py collectstatic --noinput -v0
	PATH=$(CURDIR)/$(BIN):$$PATH bin/start

worker: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH bin/worker

## Create a staff superuser (on the embedded default unless DATABASE_URL is set): asks in a
## terminal, else reads DJANGO_SUPERUSER_USERNAME/_EMAIL/_PASSWORD (fails without them).
superuser: $(STAMP)
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py bootstrap_superadmin

## Re-pin requirements/*.txt from the ranges in requirements/*.in.
lock: $(STAMP)
	cd requirements && ../$(BIN)/pip-compile --quiet --strip-extras --generate-hashes --allow-unsafe -o base.txt base.in
	cd requirements && ../$(BIN)/pip-compile --quiet --strip-extras --generate-hashes --allow-unsafe -o dev.txt dev.in

bench: $(STAMP)
	bench/run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache .coverage
