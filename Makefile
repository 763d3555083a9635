# `make run` and `make test` do all the set-up on a fresh machine; see the README.
VENV := .venv
BIN := $(VENV)/bin
DATA ?= var

.PHONY: run test test-sqlite test-postgres test-quality bench setup browser nginx wrk node clean

run: setup
	$(BIN)/wiredesk migrate --data $(DATA)
	$(BIN)/wiredesk demo --data $(DATA)
	$(BIN)/wiredesk run --data $(DATA)

test: setup browser nginx node
	$(BIN)/wiredesk migrate --data $(DATA)
	$(BIN)/wiredesk demo --data $(DATA)
	$(MAKE) --no-print-directory test-sqlite test-quality test-postgres

test-sqlite:
	@echo "== the suite on SQLite"
	env -u DATABASE_URL $(BIN)/pytest -m "not quality"

# The page quality gates (axe-core, Lighthouse, the Nu HTML checker, schema.org): the pages are
# the same on either database, so they run once, not in the two runs above.
test-quality: setup browser node
	@echo "== the page quality gates"
	env -u DATABASE_URL $(BIN)/pytest -m quality

# Tests of `wiredesk` as a process of its own use its embedded database whatever the suite's is:
# they run once, above.
test-postgres:
	@echo "== the suite on PostgreSQL"
	$(BIN)/python scripts/with_postgres.py -- $(BIN)/pytest -m "not quality and not embedded"

bench: setup nginx wrk
	$(BIN)/python bench/formats.py
	$(BIN)/python bench/duplicates.py
	$(BIN)/python bench/publish_latency.py
	$(BIN)/python bench/serving.py

setup: $(VENV)/.installed

# Reinstalled whenever the pinned dependencies change.
$(VENV)/.installed: pyproject.toml
	@PY=$$(scripts/find-python) && echo "using $$PY" && $$PY -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

browser:
	@scripts/ensure-chromium

nginx:
	@scripts/ensure-nginx

wrk:
	@scripts/ensure-wrk

node: node_modules/.installed

# The Node checkers, pinned in package-lock.json. --ignore-scripts: vnu-jar's postinstall would
# download a Java runtime; the machine's Java runs the checker.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

clean:
	rm -rf $(VENV) $(DATA) .pytest_cache node_modules
