# `make run` and `make test` do all the set-up on a fresh machine; see the README.
VENV := .venv
BIN := $(VENV)/bin
DATA ?= var
PORT ?= 8000

.PHONY: run test check test-sqlite test-postgres test-quality bench bench-peers setup browser nginx systemd wrk node clean

run: setup
	$(BIN)/wiredesk migrate --data $(DATA)
	$(BIN)/wiredesk demo --data $(DATA)
	$(BIN)/wiredesk run --data $(DATA) --port $(PORT)

test: setup browser nginx systemd node
	$(BIN)/wiredesk migrate --data $(DATA)
	$(BIN)/wiredesk demo --data $(DATA)
	$(MAKE) --no-print-directory test-sqlite test-quality test-postgres

# Lint and format, types (mypy: formats/, lifecycle/, story.py), the import direction (the
# contracts in pyproject.toml). .ci/run runs it before the suite.
check: setup
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

test-sqlite:
	@echo "== the suite on SQLite"
	env -u DATABASE_URL $(BIN)/pytest -m "not quality and not postgres"

# The page quality gates (axe-core, Lighthouse, the Nu HTML checker, schema.org): the pages are
# the same on either database, so they run once, not in the two runs above.
test-quality: setup browser node
	@echo "== the page quality gates"
	env -u DATABASE_URL $(BIN)/pytest -m quality

# Tests of `wiredesk` as a process of its own use its embedded database whatever the suite's is,
# and the fuzzing touches none: they run once, above.
test-postgres:
	@echo "== the suite on PostgreSQL"
	$(BIN)/python scripts/with_postgres.py -- $(BIN)/pytest -m "not quality and not embedded and not nodb"

bench: setup nginx wrk
	$(BIN)/python bench/formats.py
	$(BIN)/python bench/duplicates.py
	$(BIN)/python bench/publish_latency.py
	$(BIN)/python bench/serving.py
	$(BIN)/python bench/soak.py
	$(BIN)/python bench/scale.py --sizes 10000,100000

# Superdesk's feed parsers timed beside ours on the same files (bench/peers.py), from a throwaway
# virtualenv on our Python. superdesk-core 2.5.3 pins Python 3.8-era packages (lxml<4.7, celery
# 4.4, websockets<7...) that do not install on 3.12+, so it goes in with --no-deps and, pinned
# here, only what importing its parsers needs: its own pins where they install, else newer
# releases (lxml is ours; lxml_html_clean is lxml.html.clean since lxml 5.2; setuptools gives
# back distutils).
PEERS_VENV := .venv-peers
PEERS_PKGS := superdesk-core==2.5.3 lxml==6.1.3 lxml_html_clean==0.4.7 setuptools==84.2.1 \
	Flask==1.1.4 Werkzeug==1.0.1 Jinja2==2.11.3 MarkupSafe==2.0.1 itsdangerous==1.1.0 click==7.1.2 \
	blinker==1.4 Flask-Babel==1.0.0 babel==2.19.0 Flask-Script==2.0.6 Flask-Mail==0.9.1 Eve==1.1.2 \
	Cerberus==1.3.8 Events==0.3 simplejson==3.20.2 pymongo==4.20.1 Eve-Elastic==7.1.4 \
	elasticsearch==7.13.4 ciso8601==1.0.8 arrow==0.13.0 python-dateutil==2.9.0.post0 pytz==2026.6 \
	six==1.17.0 tzlocal==2.1 typing_extensions==4.16.0 celery==5.7.0 kombu==5.7.0 billiard==4.3.2 \
	vine==5.1.0 amqp==5.4.2 redis==8.2.0 regex==2026.12.2 chardet==3.0.4 bcrypt==5.0.0 PyYAML==6.0.4 \
	websockets==17.4 mongolock==1.3.4 pillow==13.0.0 python-magic==0.4.27 hachoir==3.0a3 \
	requests==2.34.2 urllib3==1.26.20 certifi==2026.10.19.post1 idna==3.21 boto3==1.44.18 \
	botocore==1.44.18 jmespath==1.1.0 s3transfer==0.19.3 Unidecode==0.4.21 draftjs-exporter==2.1.7

bench-peers: setup $(PEERS_VENV)/.installed
	$(BIN)/python bench/peers.py --peer $(PEERS_VENV)/bin/python

# Made again whenever this file, which holds the pins, changes.
$(PEERS_VENV)/.installed: Makefile
	rm -rf $(PEERS_VENV)
	$(BIN)/python -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps $(PEERS_PKGS)
	@touch $@

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

systemd:
	@scripts/ensure-systemd-analyze

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
