# The README's commands. `make demo` runs the example suite offline; `make test` is what CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test check lint typecheck unit bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(RUNTIME_STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/routelens run --skills examples/jira/skills --cases examples/jira/cases.yaml \
		--repeat 3 --label source=demo

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

check: lint typecheck

unit: $(DEV_STAMP)
	$(BIN)/pytest -n 2

test: check unit

bench: $(DEV_STAMP)
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/run_throughput.py
	PYTHONPATH=. $(BIN)/python bench/throughput.py
	$(BIN)/python bench/overhead.py
	PYTHONPATH=. $(BIN)/python bench/analytics.py
	PYTHONPATH=. $(BIN)/python bench/exporter.py
	PYTHONPATH=. $(BIN)/python bench/web.py
	PYTHONPATH=. $(BIN)/python bench/optimize.py
	$(if $(ROUTELENS_TEST_CLAUDE_EXECUTABLE),PYTHONPATH=. $(BIN)/python bench/claude_code.py,@echo "bench/claude_code.py skipped: set ROUTELENS_TEST_CLAUDE_EXECUTABLE")

docs: $(DEV_STAMP)
	$(BIN)/python -m routelens.commands.reference

clean:
	rm -rf $(VENV) .routelens .mypy_cache .ruff_cache .pytest_cache
