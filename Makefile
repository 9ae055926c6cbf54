# cookiecutter-gitops-ml: `make demo` shows the whole loop, `make test` runs the template's tests.
# Both bootstrap their own tools (uv, then a locked environment) from a plain Python 3.11+.
.DEFAULT_GOAL := help
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := $(CURDIR)/.tools
UV := $(TOOLS)/bin/uv
DEMO_DIR := $(CURDIR)/build/demo
PYTEST_ARGS ?=
# The suite runs on every core (pytest-xdist), a test file per worker, since the tests of a
# file share what they baked, in the order tests/conftest.py gives (longest first: xdist would
# otherwise start the files with the most tests); WORKERS=0 runs it in one process.
WORKERS ?= auto
PYTEST := .venv/bin/pytest --numprocesses $(WORKERS) --dist loadfile --no-loadscope-reorder

export UV_PYTHON_DOWNLOADS := never
# Python caches compiled modules by default; some containers turn that off. The projects the
# demo and the tests generate are scratch, so let it: otherwise each of their commands compiles
# pandas, scikit-learn and DVC from source again (measured: twice as slow after the first).
unexport PYTHONDONTWRITEBYTECODE
export PATH := $(TOOLS)/bin:$(CURDIR)/.venv/bin:$(PATH)

.PHONY: help demo test test-fast lint lock clean

help: ## List the commands
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed (PYTHON=$(PYTHON))" >&2; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The environment is pinned, dependencies of dependencies included, in requirements-dev.txt
# (`make lock` rewrites it from pyproject.toml's bounds).
.venv/.synced: $(UV) requirements-dev.txt
	$(UV) venv --quiet --allow-existing .venv
	$(UV) pip sync --quiet --python .venv/bin/python requirements-dev.txt
	@touch $@

lock: $(UV) ## Re-pin requirements-dev.txt from the bounds in pyproject.toml
	$(UV) pip compile pyproject.toml --group dev --universal --python-version 3.11 --no-header --quiet \
		--output-file requirements-dev.txt

demo: .venv/.synced ## Generate a project with default answers and run its whole loop
	.venv/bin/python scripts/demo.py $(DEMO_DIR)

test: .venv/.synced ## Run the template's test suite
	$(PYTEST) $(PYTEST_ARGS)

test-fast: .venv/.synced ## Run the tests that do not run a baked project's pipeline
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

lint: .venv/.synced ## Lint the template's own code
	.venv/bin/ruff check hooks tests scripts benchmarks
	.venv/bin/ruff format --check hooks tests scripts benchmarks

clean: ## Remove the demo and the tool environments
	rm -rf build .venv $(TOOLS)
