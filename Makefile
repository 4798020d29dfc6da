# rota: two commands on a fresh machine, `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP)

## run: install, then plan the demo compound and print the summary
run: $(STAMP)
	$(VENV)/bin/rota solve fixtures/lockdown-community.json --time-limit 30 --out var/demo-schedule.json

## test: install, then run the whole test suite
test: $(STAMP)
	$(PY) -m pytest

## bench: solver benchmarks, written to docs/BENCHMARKS.md (takes a while)
bench: $(STAMP)
	$(PY) -m scheduler.bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
