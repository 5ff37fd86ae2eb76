# The two commands of the README: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck unit bench openapi clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/lrs serve

lint: install
	$(BIN)/ruff check src tests conformance openapi migrations
	$(BIN)/ruff format --check src tests conformance openapi migrations

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m lrs.bench

openapi: install
	$(BIN)/lrs openapi openapi/openapi.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
