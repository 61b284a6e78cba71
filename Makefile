# Two entry points (see README): `make demo` runs the main job, `make test` runs the suite.
# Each does all set-up itself and is a no-op the second time unless its inputs changed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP  := $(VENV)/.stamp-install
NPM_STAMP := node_modules/.stamp-install

.PHONY: demo test lint typecheck pytest setup clean

setup: $(PY_STAMP) $(NPM_STAMP)

$(PY_STAMP): pyproject.toml setup.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "agentbed needs Python >= 3.11, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "agentbed needs node and npm (Node.js >= 18) on PATH to install Solidity libraries and the compiler" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: setup
	$(BIN)/testbed compare scenarios/mev.toml --out runs/demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy agentbed

# The suite runs on every core (pytest-xdist): about 13 minutes of CPU, so a 2-core machine
# finishes in about half that. `pytest -p no:xdist` runs it in one process.
pytest: setup
	$(BIN)/python -m pytest -q -n auto

test: lint typecheck slither pytest

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis

# --- slither (static analysis; see docs/slither-triage.md) --------------------------------
# Slither wants web3<8, so it gets its own venv. `make slither` fails on any untriaged
# High/Medium finding in contracts/ (outside contracts/mocks/).
SLITHER_VENV  := .venv-slither
SLITHER_SPEC  := slither-analyzer>=0.11.6,<0.12
SLITHER_STAMP := $(SLITHER_VENV)/.stamp-install

.PHONY: slither clean-slither

# Depends on the Makefile so that a new SLITHER_SPEC is installed.
$(SLITHER_STAMP): Makefile
	@test -x $(SLITHER_VENV)/bin/python || $(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "$(SLITHER_SPEC)"
	@touch $@

slither: setup $(SLITHER_STAMP)
	$(BIN)/python scripts/slither.py --slither $(SLITHER_VENV)/bin/slither

clean: clean-slither
clean-slither:
	rm -rf $(SLITHER_VENV)
# --- end slither ---------------------------------------------------------------------------
