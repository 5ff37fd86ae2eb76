# The two commands of the README: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck unit bench openapi clean

# setup.py compiles lrs.xapi's statement path with mypyc into C modules beside the sources (ADR 0010): an edit
# there reinstalls, so that the tests and `lrs serve` never run a stale build.
$(STAMP): pyproject.toml setup.py $(wildcard src/lrs/xapi/*.py)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/lrs serve

lint: install
	$(BIN)/ruff check setup.py src tests conformance openapi migrations
	$(BIN)/ruff format --check setup.py src tests conformance openapi migrations

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m lrs.bench

openapi: install
	$(BIN)/lrs openapi openapi/openapi.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build
	find src -name '*.so' -delete
