# Two commands matter: `make run` (the whole local stack with the chat page) and `make test`.
# Both set up what they need: a virtual environment in .venv and Azurite in node_modules.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup run local test lint typecheck unit bench fuzz clean clients

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

run: setup
	$(PY) -m devstack

# The same channels with no Azure at all: one process, state in memory (guest login on).
local: $(VENV)/.installed
	GUEST_LOGIN=$${GUEST_LOGIN:-true} $(PY) -m shared.local $(ARGS)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: setup
	$(PY) -m mypy --strict .

test: lint typecheck
	$(PY) -m pytest

# The AsyncAPI document and the TypeScript and Python clients made from it (committed).
clients: setup
	$(PY) -m shared.core.codegen function_app:asyncapi clients

bench: setup
	$(PY) -m bench

# The full fuzz of frames, HTTP bodies and trigger payloads (10,000 cases each; `make test`
# runs 200 of each).
fuzz: setup
	FUZZ_EXAMPLES=10000 $(PY) -m pytest -q -p no:cacheprovider --timeout=0 tests/azurite/test_fuzz.py

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
