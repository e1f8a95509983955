# Two commands matter: `make dev` (the whole system, locally) and `make test` (every test).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SB := $(VENV)/bin/switchboard
PYTEST_ARGS ?=

.PHONY: install web wheel adopt-wheelhouse test test-package test-compat test-unit lint bench dev clean

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

## The distribution: dist/livekit_switchboard-*.whl, carrying the console's built JS.
wheel: $(VENV)/.installed web
	rm -rf build dist/livekit_switchboard-*.whl
	$(PY) -m build --wheel --outdir dist .

## The wheel and every wheel it installs with [agents,service], for the test that runs
## docs/adopt.md as written (tests/integration/adopt/test_adopt_doc_literally.py): it runs in
## the netns, without PyPI: its `pip install` reads PIP_FIND_LINKS=$(ADOPT_WHEELHOUSE).
ADOPT_WHEELHOUSE := test-artifacts/adopt-wheelhouse
adopt-wheelhouse: wheel
	rm -rf $(ADOPT_WHEELHOUSE)
	$(VENV)/bin/pip wheel -q -w $(ADOPT_WHEELHOUSE) "$$(ls dist/livekit_switchboard-*.whl)[agents,service]"

## Every test: the wheel installed per extra into fresh venvs (tests/package, on loopback: it
## installs from PyPI), then unit, integration (real LiveKit stack + SIP) and e2e in a private netns.
test: install wheel adopt-wheelhouse
	$(PY) -m pytest -m package tests/package --basetemp=test-artifacts/package $(PYTEST_ARGS)
	scripts/netns-run $(PY) -m pytest --ignore=tests/package --basetemp=test-artifacts/pytest --durations=40 $(PYTEST_ARGS)

test-package: wheel
	$(PY) -m pytest -m package tests/package --basetemp=test-artifacts/package $(PYTEST_ARGS)

## The hand-off integration tests with the lowest livekit-agents and livekit-api of our ranges
## (their ">=" bounds in pyproject.toml, pinned; livekit-agents pins the livekit rtc it needs),
## everything else resolved as a user's pip would. Not part of `make test`; docs/install.md.
COMPAT := test-artifacts/compat
LOWEST = $(shell sed -nE 's/.*"(livekit-(agents|api))>=([0-9.]+).*/\1==\3/p' pyproject.toml)
test-compat: $(VENV)/.installed
	rm -rf $(COMPAT)/venv
	$(VENV)/bin/uv venv -q -p $(PYTHON) $(COMPAT)/venv
	$(VENV)/bin/uv pip install -q -p $(COMPAT)/venv -e '.[dev]' $(LOWEST)
	$(VENV)/bin/uv pip list -p $(COMPAT)/venv | grep -E '^livekit(-agents|-api)? '
	scripts/netns-run $(COMPAT)/venv/bin/python -m pytest -p no:cacheprovider \
	  --basetemp=$(COMPAT)/pytest tests/integration/handoff $(PYTEST_ARGS)

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
	rm -rf $(VENV) test-artifacts build dist .mypy_cache .ruff_cache .pytest_cache
