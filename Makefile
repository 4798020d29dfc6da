# rota: two commands on a fresh machine, `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# make run and make test are local development: links default to http://127.0.0.1:8000 unless
# ROTA_PUBLIC_URL is set (a production server refuses to start without it, see docs/SERVICE.md)
export ROTA_ENV ?= development

.PHONY: run test bench lint lock messages clean

# Every dependency from the lock files (versions and hashes, requirements-dev.lock: the runtime ones of
# requirements.lock plus the test tools; requirements-build.lock: the build backend), then rota itself,
# editable, without resolving or fetching anything again (no build isolation: the locked setuptools).
$(STAMP): pyproject.toml requirements-dev.lock requirements-build.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock -r requirements-build.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

## lock: after changing the dependencies in pyproject.toml, pin them again with their hashes:
## requirements.lock (runtime + PostgreSQL: the Docker image), requirements-dev.lock (+ the dev
## tools: make) and requirements-build.lock ([build-system] requires: the setuptools that builds rota,
## for make and the image). Versions already in the lock files stay unless pyproject.toml needs others
## (`make lock UPGRADE=--upgrade` to move everything to the newest).
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	--annotation-style line --custom-compile-command "make lock" --quiet $(UPGRADE)
lock: $(STAMP)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra postgres $(LOCK_FLAGS) -o requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml --extra postgres --extra dev -c requirements.lock $(LOCK_FLAGS) \
	    -o requirements-dev.lock
	$(PY) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))' \
	    | $(VENV)/bin/uv pip compile - $(LOCK_FLAGS) -o requirements-build.lock

## run: install, migrate the database (var/rota.db, or ROTA_DATABASE_URL), load the demo site when it is
## empty, then serve the API on 127.0.0.1:8000 with one solve worker beside it; Ctrl-C stops both.
## Prints the docs URL, a coordinator token and a volunteer's calendar feed. More workers:
## `.venv/bin/rota worker` in another terminal.
run: $(STAMP)
	$(VENV)/bin/rota admin demo
	@$(VENV)/bin/rota worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/rota serve

## test: install, then run the whole test suite, one pytest-xdist worker per core (TEST_WORKERS=N to
## choose; on one core, or TEST_WORKERS=0, in a single process); the 25 slowest tests at the end
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; n = len(os.sched_getaffinity(0)); print(n if n > 1 else 0)' 2>/dev/null || echo 0)
test: $(STAMP)
	$(PY) -m pytest --durations=25 -n $(TEST_WORKERS) --dist loadfile

## bench: solver benchmarks, written to docs/BENCHMARKS.md (about 50 minutes): generated scenarios,
## checker, Curtois 1-12 at 60 s each, worker portfolios, time limits, re-solve, fairness, console page
## render times (`--only pages`), the 12-week horizon, residents. The load test of the service (PostgreSQL,
## not part of bench): `$(PY) -m benchmarks.load --database-url postgresql://...` (a throwaway database).
## Curtois 13-24 (600 s each, about two hours):
##   $(PY) -m benchmarks.bench --only curtois --instances 13-24
bench: $(STAMP)
	$(PY) -m benchmarks.bench --instances 1-12

## lint: ruff, and the layer contracts of pyproject.toml ([tool.importlinter])
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

## messages: extract the console's strings (babel.cfg) and merge them into the en and zh_CN catalogs
## (api/console/locale/*/LC_MESSAGES/messages.po); then translate the new zh_CN entries
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k N_ --no-location --sort-output \
	    -o api/console/locale/messages.pot .
	$(VENV)/bin/pybabel update -i api/console/locale/messages.pot -d api/console/locale -D messages \
	    --ignore-obsolete --width 110

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
