# `make run` and `make test` do all the set-up on a fresh machine; see the README.
VENV := .venv
BIN := $(VENV)/bin
DATA ?= var

.PHONY: run test test-sqlite test-postgres bench setup browser clean

run: setup
	$(BIN)/wiredesk migrate --data $(DATA)
	$(BIN)/wiredesk demo --data $(DATA)
	$(BIN)/wiredesk run --data $(DATA)

test: setup browser
	$(BIN)/wiredesk migrate --data $(DATA)
	$(BIN)/wiredesk demo --data $(DATA)
	$(MAKE) --no-print-directory test-sqlite test-postgres

test-sqlite:
	@echo "== the suite on SQLite"
	env -u DATABASE_URL $(BIN)/pytest

test-postgres:
	@echo "== the suite on PostgreSQL"
	$(BIN)/python scripts/with_postgres.py -- $(BIN)/pytest

bench: setup
	$(BIN)/python bench/formats.py
	$(BIN)/python bench/duplicates.py
	$(BIN)/python bench/publish_latency.py

setup: $(VENV)/.installed

# Reinstalled whenever the pinned dependencies change.
$(VENV)/.installed: pyproject.toml
	@PY=$$(scripts/find-python) && echo "using $$PY" && $$PY -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

browser:
	@scripts/ensure-chromium

clean:
	rm -rf $(VENV) $(DATA) .pytest_cache
