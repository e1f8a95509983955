# Two commands matter: `make dev` (the whole system, locally) and `make test` (every test).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SB := $(VENV)/bin/switchboard
PYTEST_ARGS ?=

.PHONY: install web test test-unit lint bench dev clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip uninstall -q -y switchboard 2>/dev/null || true  # the distribution's old name
	$(VENV)/bin/pip install -q -c constraints.txt -e '.[dev]'
	touch $@

## Python deps, Debian packages, and the pinned livekit-server / livekit-sip builds (cached).
install: $(VENV)/.installed web
	$(SB) stack install

## The console's front-end: livekit-client (pinned in web/package-lock.json) into static/vendor/.
web:
	cd web && npm ci --no-audit --no-fund && npm run --silent build

## Every test: unit, integration (real LiveKit stack + SIP) and e2e, in a private netns.
test: install
	scripts/netns-run $(PY) -m pytest --basetemp=test-artifacts/pytest $(PYTEST_ARGS)

test-unit: $(VENV)/.installed
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

bench: install
	scripts/netns-run bash -c 'for b in bench/bench_*.py; do $(PY) $$b || exit 1; done'

## The whole system locally: LiveKit stack, dispatcher, both agents, web console.
dev: install
	scripts/dev

clean:
	rm -rf $(VENV) test-artifacts .mypy_cache .ruff_cache .pytest_cache
