# Two commands matter: `make run` (the whole local stack with the chat page) and `make test`.
# Both set up what they need: a virtual environment in .venv and Azurite in node_modules.
#
# make run options (defaults in `.venv/bin/python -m devstack --help`):
#   make run HOST_PORT=7072 EMULATOR_PORT=8081 AZURITE_PORT=10012 DATA_DIR=.azurite
#   make run ARGS="--host-port 7072 --data-dir .azurite"
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?=
RUN_OPTIONS := $(if $(HOST_PORT),--host-port $(HOST_PORT)) \
	$(if $(EMULATOR_PORT),--emulator-port $(EMULATOR_PORT)) \
	$(if $(AZURITE_PORT),--azurite-port $(AZURITE_PORT)) \
	$(if $(DATA_DIR),--data-dir $(DATA_DIR)) $(ARGS)

.PHONY: setup run local test lint typecheck bench soak fuzz clean clients

# Each step says what it does; pip and npm show their progress (the first run takes minutes).
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@echo "setup 1/3: creating the virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@echo "setup 2/3: installing Python packages (requirements-dev.txt)"
	$(PY) -m pip install --progress-bar on --upgrade pip
	$(PY) -m pip install --progress-bar on -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	@echo "setup 3/3: installing Azurite (npm ci)"
	npm ci --no-audit --no-fund --loglevel=http
	touch $@

setup: $(VENV)/.installed node_modules/.installed
	@echo "setup: done"

run: setup
	$(PY) -m devstack $(strip $(RUN_OPTIONS))

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

# The full load run of the local stack: 1,000 connections x 10 messages in 20 rooms.
soak: setup
	$(PY) -m bench.soak --connections 1000 --messages 10 --rooms 20

# The full fuzz run: 10,000 cases each of frames, HTTP bodies and trigger payloads.
fuzz: setup
	FUZZ_EXAMPLES=10000 $(PY) -m pytest -q -p no:cacheprovider tests/azurite/test_fuzz.py

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
