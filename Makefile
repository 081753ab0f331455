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
QUEUES ?= emails default
PYTEST_ARGS ?=

.PHONY: run test worker bench lint

run: $(RUNTIME_STAMP)
	$(BIN)/flask db upgrade
	BIND=$(HOST):$(PORT) WEB_CONCURRENCY=1 GUNICORN_THREADS=$(RUN_THREADS) GUNICORN_MAX_REQUESTS=0 \
		$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: $(DEV_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# Processes the `emails` and `default` queues; needs REDIS_URL (the same one the web process uses).
worker: $(RUNTIME_STAMP)
	@test -n "$$REDIS_URL" || { echo "make worker: set REDIS_URL (jobs run inline without Redis)"; exit 2; }
	$(BIN)/rq worker --url "$$REDIS_URL" --worker-class lms.worker.AppWorker --with-scheduler $(QUEUES)

# A load benchmark against a throwaway gunicorn (see bench/README.md); BENCH_ARGS are passed on.
bench: $(RUNTIME_STAMP)
	$(BIN)/python bench/load.py $(BENCH_ARGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt
	touch $@

# The dev requirements include the runtime ones, so they satisfy both stamps.
$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $(RUNTIME_STAMP) $@

# Static checks: pyflakes-level errors (unused imports and names, undefined names).
lint: $(DEV_STAMP)
	$(BIN)/ruff check --select F,E9 lms tests bench config.py wsgi.py gunicorn.conf.py
