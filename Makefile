# Two commands for a newcomer: `make run` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := app:create_app

.PHONY: run test screenshots lint format translations chromium slapd nodejs oidc-provider haproxy extract-messages migrate seed worker beat wrk bench bench-coverage bench-pages faults clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d app/translations

migrate: $(STAMP)
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed-demo

run: translations seed
	@echo "Serving on http://127.0.0.1:5000 (Ctrl+C stops it)"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# Style, then the architecture (import-linter: areas in layers, see pyproject.toml), then types.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Browser tests drive Debian's Chromium; Playwright never downloads a browser of its own.
chromium:
	@test -x /usr/bin/chromium || { \
		echo "Installing Debian's chromium for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@test -x /usr/bin/chromium || { echo "chromium is missing and could not be installed" >&2; exit 1; }

# The directory-login tests start Debian's slapd (OpenLDAP) of their own, with certificates from
# openssl; installing the package starts no system slapd here (no systemd).
slapd:
	@{ test -x /usr/sbin/slapd && command -v openssl; } >/dev/null || { \
		echo "Installing Debian's slapd and openssl for the directory-login tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq slapd openssl >/dev/null; }
	@{ test -x /usr/sbin/slapd && command -v openssl; } >/dev/null || { echo "slapd or openssl is missing and could not be installed" >&2; exit 1; }

# The single sign-on tests start a real OpenID Connect provider (the npm package oidc-provider,
# pinned in tests/oidc/package-lock.json) with Debian's node.
nodejs:
	@{ command -v node && command -v npm; } >/dev/null || { \
		echo "Installing Debian's nodejs and npm for the single sign-on tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null; }
	@{ command -v node && command -v npm; } >/dev/null || { echo "node or npm is missing and could not be installed" >&2; exit 1; }

OIDC_PROVIDER := tests/oidc/node_modules/.package-lock.json
$(OIDC_PROVIDER): tests/oidc/package.json tests/oidc/package-lock.json | nodejs
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error
	touch $@

oidc-provider: $(OIDC_PROVIDER)

# The multi-node enrolment benchmark puts Debian's haproxy in front of two gunicorns.
haproxy:
	@{ command -v haproxy || test -x /usr/sbin/haproxy; } >/dev/null || { \
		echo "Installing Debian's haproxy for the cluster benchmark"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq haproxy >/dev/null; }
	@{ command -v haproxy || test -x /usr/sbin/haproxy; } >/dev/null || { echo "haproxy is missing and could not be installed" >&2; exit 1; }

# The suite runs on SQLite with in-process tasks; when TEST_DATABASE_URL / TEST_REDIS_URL are
# set (as .ci/run does) it runs a second time on PostgreSQL with a real Celery worker on Redis.
test: lint translations chromium slapd oidc-provider
	env -u TEST_DATABASE_URL -u TEST_REDIS_URL $(BIN)/python -m pytest -q; \
		status=$$?; [ $$status -eq 5 ] && echo "pytest collected no tests" >&2; [ $$status -eq 0 ]
	@if [ -n "$$TEST_DATABASE_URL$$TEST_REDIS_URL" ]; then \
		echo "== again on $${TEST_DATABASE_URL:-SQLite} with broker $${TEST_REDIS_URL:-in-process} =="; \
		$(BIN)/python -m pytest -q; status=$$?; \
		[ $$status -eq 5 ] && echo "pytest collected no tests" >&2; [ $$status -eq 0 ]; \
	fi

# Benchmarks need PostgreSQL (BENCH_DATABASE_URL, default: database schulung_bench on localhost);
# the multi-node one its own database (BENCH_CLUSTER_DATABASE_URL, default bench_cluster), Redis
# (BENCH_CLUSTER_REDIS_URL, default db 9, flushed) and haproxy. It comes last: it exits 1 when an
# invariant (capacity, seat counter, history, mails, no 5xx) fails.
# Numbers and how to read them are in docs/benchmarks.md.
wrk:
	@command -v wrk >/dev/null || { \
		echo "Installing Debian's wrk for the page benchmark"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }
	@command -v wrk >/dev/null || { echo "wrk is missing and could not be installed" >&2; exit 1; }

bench: translations haproxy wrk
	$(BIN)/python bench/enrolment_http.py --users 400 --capacity 50 --concurrency 50
	$(BIN)/python bench/delivery.py --messages 10000
	$(BIN)/python bench/coverage.py --staff 50000
	$(BIN)/python bench/imports.py --rows 50000
	$(BIN)/python bench/api_upsert.py --rows 50000 --batch 1000
	$(BIN)/python bench/pages.py --staff 50000
	$(BIN)/python bench/pages.py --staff 500000
	$(BIN)/python bench/enrolment_cluster.py --users 1000 --dates 20 --capacity 50

# Coverage at a larger city: `make bench-coverage STAFF=150000` or `STAFF=500000` (database
# schulung_bench_<STAFF/1000>k, generated by bench/city.py with COPY and kept for the next run;
# 500,000 staff with 20 completions each took 8 minutes to generate and 18.5 to rebuild the
# facts on a shared two-core machine). ROUNDS=10 shortens a run; see docs/benchmarks.md.
STAFF ?= 150000
ROUNDS ?= 20
bench-coverage: translations
	$(BIN)/python bench/coverage.py --staff $(STAFF) --rounds $(ROUNDS) --explain /tmp/coverage-plan-$(STAFF).txt

# Pages under load (wrk, gunicorn with 4 workers, 16 connections) beside a trivial endpoint:
# `make bench-pages STAFF=500000`; needs wrk (Debian package).
bench-pages: translations wrk
	$(BIN)/python bench/pages.py --staff $(STAFF)

# Fault scenarios of the outbox (worker killed, SMTP down, Redis down); see docs/benchmarks.md.
faults: translations
	$(BIN)/python bench/outbox_faults.py --batch 1000

# The pictures in the README, from a fresh demo city (needs Chromium, see `make chromium`).
screenshots: translations chromium
	$(BIN)/python docs/screenshots.py

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching

worker: $(STAMP)
	$(BIN)/celery -A worker worker --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A worker beat --loglevel=INFO

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache
	find app -name '*.mo' -delete
