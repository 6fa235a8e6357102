# `make run` and `make test` each set everything up from nothing (a .venv with Vigil and its tools).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: run test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/vigil init
	$(BIN)/vigil serve

lint: $(STAMP)
	$(BIN)/ruff check vigil tests bench
	$(BIN)/ruff format --check vigil tests bench

typecheck: $(STAMP)
	$(BIN)/mypy vigil

test: $(STAMP) lint typecheck
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
