# The project's commands. `make demo` and `make test` are the two a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
DBT := $(BIN)/python -m warehouse.dbt_cli --no-use-colors
DBT_DIRS := --project-dir dbt_project --profiles-dir dbt_project
# Test processes `make test` runs side by side, each with its own PostgreSQL: `auto` is one per core,
# 1 runs the suite in one process (the default against a shared TEST_WAREHOUSE_URL, whose roles all
# its databases share).
PYTEST_WORKERS ?= $(if $(TEST_WAREHOUSE_URL),1,auto)

# Settings from .env when it exists (see .env.example).
-include .env
export

.PHONY: help install demo test lint format warehouse stop status psql dbt-build docs bench bench-enterprise clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --constraint constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed  ## create .venv and install the project with its pinned dependencies

demo: install  ## start the warehouse and the simulators, run the nightly DAG end to end, print a summary
	$(BIN)/python -m warehouse.demo

test: install  ## run the whole test suite, a test file per process across the cores (PYTEST_WORKERS)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

lint: install  ## ruff on the Python code, sqlfluff on the dbt models
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m warehouse start >/dev/null
	eval "$$($(BIN)/python -m warehouse env --empty-database pmo_lint)" && $(BIN)/sqlfluff lint dbt_project/models

format: install  ## format the Python code and fix the SQL style
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

warehouse: install  ## start the embedded warehouse (no-op check when WAREHOUSE_URL is set)
	$(BIN)/python -m warehouse start

stop:  ## stop the simulators and the embedded warehouse
	@if [ -x $(BIN)/python ]; then \
		$(BIN)/python -m simulators stop --state-dir .local/simulators; \
		$(BIN)/python -m warehouse stop; \
	else echo "nothing to stop (no .venv)"; fi

status: install  ## is the embedded warehouse running?
	$(BIN)/python -m warehouse status

psql: install  ## open psql on the warehouse
	$(BIN)/python -m warehouse start >/dev/null
	$(BIN)/python -m warehouse psql

dbt-build: install  ## run dbt build by hand against the warehouse
	$(BIN)/python -m warehouse start >/dev/null
	eval "$$($(BIN)/python -m warehouse env)" && $(DBT) build $(DBT_DIRS)

docs: install  ## build the dbt documentation site (lineage, every model and column) into .local/dbt-docs
	$(BIN)/python -m warehouse start >/dev/null
	eval "$$($(BIN)/python -m warehouse env)" && $(DBT) docs generate $(DBT_DIRS) --static --target-path ../.local/dbt-docs
	@echo "dbt documentation: .local/dbt-docs/static_index.html (one self-contained page; open it in a browser)"

bench: install  ## measure landing speed, the dlt peer, refresh and night, memory and parse time; writes bench/results.md
	$(BIN)/python -m bench.run

bench-enterprise: install  ## make bench plus a full refresh of the enterprise world (about 4 GB of simulated Jira under .local)
	$(BIN)/python -m bench.run --enterprise

clean: stop  ## remove local data, logs and build output (keeps .venv)
	rm -rf .local dbt_project/target dbt_project/logs
