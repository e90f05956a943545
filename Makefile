# Release Publisher: `make demo` runs the main job, `make test` passes the tests.
# Both create .venv and install what they need on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Debian packages the tests run for real: Virtuoso (a third store for the contract
# suite), Chromium (driven by Playwright in the browser tests) and curl (the
# examples of docs/sparql.md are run as written). Installed as root when missing;
# nothing is installed by hand.
DEB_PACKAGES := virtuoso-opensource-7-bin chromium curl
DEB_COMMANDS := virtuoso-t chromium curl

.PHONY: demo test lint typecheck pytest bench bench-system clean system

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/publisher demo --serve

lint: $(STAMP)
	$(BIN)/ruff check publisher tests bench
	$(BIN)/ruff format --check publisher tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

system:
	@missing=""; for c in $(DEB_COMMANDS); do command -v $$c >/dev/null 2>&1 || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "Missing Debian packages: run as root: apt-get install -y $(DEB_PACKAGES)"; exit 1; \
	  fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q --no-install-recommends $(DEB_PACKAGES) \
	    || (apt-get update -q && apt-get install -y -q --no-install-recommends $(DEB_PACKAGES)); \
	fi

# axe-core (npm) for the accessibility checks of the browser tests, pinned by
# tests/browser/package-lock.json.
AXE := tests/browser/node_modules/axe-core/axe.min.js

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $(AXE)

pytest: $(STAMP) system $(AXE)
	$(BIN)/python -m pytest

test: lint typecheck pytest

# wrk (Debian package) drives bench/serve.py's HTTP load; installed as root when
# missing, like the test suite's packages; py-spy (the `bench` extra) profiles the
# server with serve.py --profile DIR. SERVE_ARGS passes options to serve.py,
# e.g. make bench SERVE_ARGS="--releases 2000 --duration 5".
BENCH_DEB_PACKAGES := wrk
SERVE_ARGS ?=

bench-system:
	@if ! command -v wrk >/dev/null 2>&1; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "Missing Debian packages: run as root: apt-get install -y $(BENCH_DEB_PACKAGES)"; exit 1; \
	  fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q --no-install-recommends $(BENCH_DEB_PACKAGES) \
	    || (apt-get update -q && apt-get install -y -q --no-install-recommends $(BENCH_DEB_PACKAGES)); \
	fi

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) bench-system
	$(BIN)/python bench/convert.py
	$(BIN)/python bench/serve.py $(SERVE_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache data/demo
