# The two commands of the quick start are `make demo` and `make test`.
# Both create .venv when it is missing and install from the lock file.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= demo
export PATH := $(abspath $(BIN)):$(PATH)
export DVC_NO_ANALYTICS := 1
export DVCLIVE_NO_ANALYTICS := 1
export NO_MKDOCS_2_WARNING := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install system-deps demo test test-fast lint compliance bench clean

$(STAMP): pyproject.toml requirements/base.in requirements/lock.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements/base.in -c requirements/lock.txt
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	@touch $@

install: $(STAMP)

# Debian packages the tests use: a headless Chromium for the documentation
# site's browser tests and ssh-keygen for SSH-signed approvals.
system-deps:
	@command -v chromium >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium openssh-client >/dev/null; \
	  else echo "note: install the 'chromium' and 'openssh-client' packages to run every test"; fi; }

demo: $(STAMP)
	rm -rf $(DEMO_DIR) $(DEMO_DIR)-dvc-remote
	$(BIN)/mlops -v demo $(DEMO_DIR)

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -n auto -m "not network" -p no:cacheprovider

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n auto -m "not slow and not network"

lint: $(STAMP)
	$(BIN)/ruff check mlops_gitops tests bench tools
	$(BIN)/ruff format --check mlops_gitops tests bench tools
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_code_shape.py

# The compliance matrix (the repository's own tooling, not part of the package):
# docs/compliance.md from docs/compliance.yaml, then the check of every cited proof.
compliance: $(STAMP)
	$(BIN)/python -m tools.compliance render
	$(BIN)/python -m tools.compliance check

# The quick benchmarks; the others (serving with wrk, registry and drift against
# GTO and evidently in their own environments, site, forge, pipeline) are run
# one by one: see the docstring at the top of each bench/*.py.
bench: $(STAMP)
	$(BIN)/python bench/cli_startup.py
	$(BIN)/python bench/gate_bench.py
	$(BIN)/python bench/data_stages.py

clean:
	rm -rf $(DEMO_DIR) $(DEMO_DIR)-dvc-remote .pytest_cache
