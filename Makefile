# Two commands for a new user: `make demo` (or `make run`) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_LOGGING_LEVEL ?= WARNING

.PHONY: setup run demo test check bench bench-throughput clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --only-binary :all: -c constraints.txt --config-settings editable_mode=compat -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

## Ingest the real feeds in feeds.yaml into ./data (needs internet; offline, each feed fails with a reason).
run: $(STAMP)
	$(BIN)/newsflow ingest --feeds feeds.yaml

## Ingest the bundled offline sample news web, served on loopback, and show the top stories.
demo: $(STAMP)
	$(BIN)/newsflow demo

## Set up, check lint, formatting and types, and run the test suite.
test: check
	$(BIN)/python -m pytest -q

## Lint (ruff), formatting (ruff format) and types (mypy, strict): what CI checks before the tests.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## newsflow end to end on 5,000 pages from 40 loopback hosts, against trafilatura alone and two peers.
bench-throughput: $(STAMP)
	$(BIN)/python benchmarks/throughput.py $(ARGS)

clean:
	rm -rf $(VENV) data demo-data .prefect .pytest_cache .mypy_cache .ruff_cache
