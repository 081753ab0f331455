# The two commands a newcomer needs: `make run` and `make test`. Each sets itself up on a fresh clone
# (a virtualenv in .venv, the pinned requirements); a stamp file skips the install on later runs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check --quiet

HOST ?= 127.0.0.1
PORT ?= 8000
# The embedded default keeps the rate-limit counters, cache and revocations in process memory, so
# `make run` serves with one process that is never recycled; threads give it concurrency.
RUN_THREADS ?= 8
QUEUES ?= emails default webhooks
PYTEST_ARGS ?=
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-runtime
BENCH_ARGS ?=

.PHONY: run test worker cron bench lint

# The links in mails and certificates use PUBLIC_API_BASE_URL: `make run` points it at HOST:PORT,
# unless the environment, the command line or `.env` sets it (config.py reads `.env` itself, and a
# value exported here would override the file's).
RUN_PUBLIC_URL :=
ifeq ($(origin PUBLIC_API_BASE_URL),undefined)
ifeq ($(shell grep -Eqsi '^[[:space:]]*(export[[:space:]]+)?PUBLIC_API_BASE_URL[[:space:]]*=' .env && echo set),)
RUN_PUBLIC_URL = PUBLIC_API_BASE_URL=http://$(HOST):$(PORT)
endif
endif

run: $(RUNTIME_STAMP)
	$(BIN)/flask db upgrade
	$(RUN_PUBLIC_URL) BIND=$(HOST):$(PORT) WEB_CONCURRENCY=1 GUNICORN_THREADS=$(RUN_THREADS) GUNICORN_MAX_REQUESTS=0 \
		$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# Regenerate docs/configuration.md from the settings table in config.py (tests/test_docs.py checks it).
.PHONY: docs
docs: $(RUNTIME_STAMP)
	$(BIN)/python docs/generate_configuration.py

test: $(DEV_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# Processes the `emails` and `default` queues; needs REDIS_URL (the same one the web process uses).
worker: $(RUNTIME_STAMP)
	@test -n "$$REDIS_URL" || { echo "make worker: set REDIS_URL (jobs run inline without Redis)"; exit 2; }
	$(BIN)/rq worker --url "$$REDIS_URL" --worker-class lms.worker.AppWorker --with-scheduler $(QUEUES)

# Enqueues the periodic jobs of lms/cron.py (audit log retention, expired data exports) for the workers.
cron: $(RUNTIME_STAMP)
	@test -n "$$REDIS_URL" || { echo "make cron: set REDIS_URL (the periodic jobs need a worker)"; exit 2; }
	$(BIN)/rq cron --url "$$REDIS_URL" lms.cron

# The performance benchmark (bench/README.md): deploys from the Procfile on PostgreSQL and Redis out of
# a runtime-only virtualenv (.venv-bench: the dev requirements would inflate the server's memory),
# seeds through the API, runs W1-W7 against their floors. BENCH_ARGS are passed on.
bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/run.py $(BENCH_ARGS)

$(BENCH_VENV)/bin/python:
	$(PYTHON) -m venv $(BENCH_VENV)

$(BENCH_STAMP): requirements.txt | $(BENCH_VENV)/bin/python
	$(BENCH_VENV)/bin/python -m pip install --disable-pip-version-check --quiet -r requirements.txt
	touch $@

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt
	touch $@

# The dev requirements include the runtime ones, so they satisfy both stamps.
$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $(RUNTIME_STAMP) $@

# Static checks: pyflakes-level errors (unused imports and names, undefined names), and the import
# contracts of .importlinter (the modules depend one way; `make test` checks them too).
lint: $(DEV_STAMP)
	$(BIN)/ruff check --select F,E9 lms tests bench docs config.py wsgi.py gunicorn.conf.py
	$(BIN)/lint-imports
