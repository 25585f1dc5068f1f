# The two commands: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= hub-data
PORT ?= 8080
WEBUI_STATIC := src/analytics_hub/webui/static

.PHONY: run webui ui-check chromium test lint fmt typecheck layers pytest bench install clean lock

$(STAMP): pyproject.toml requirements/constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[dev,deep,prophet]'
	@touch $(STAMP)

install: $(STAMP)

## Start the hub in embedded mode with the demo traffic generator (and the web UI at /).
## Without Node.js the hub still starts, serving a page that says how to build the UI.
run: $(STAMP)
	@$(MAKE) --no-print-directory webui || echo "run: the web UI could not be built (needs Node.js >= 20.19 and npm); starting without it"
	$(BIN)/analytics-hub demo --data-dir $(DATA_DIR) --port $(PORT)

## The web UI (frontend/): npm ci when the lock changed, vite build when a source changed,
## then copied into the package, which serves it at /.
FRONTEND := frontend
UI_DEPS := $(FRONTEND)/node_modules/.package-lock.json
UI_BUILD := $(FRONTEND)/dist/index.html
UI_SOURCES := $(shell find $(FRONTEND)/src $(FRONTEND)/public -type f 2>/dev/null) \
	$(addprefix $(FRONTEND)/,index.html package.json tsconfig.json vite.config.ts)
WEBUI_STAMP := $(WEBUI_STATIC)/index.html
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null && echo sudo)

$(UI_DEPS): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund
	@touch $(UI_DEPS)

$(UI_BUILD): $(UI_DEPS) $(UI_SOURCES)
	cd $(FRONTEND) && npm run build

$(WEBUI_STAMP): $(UI_BUILD)
	rm -rf $(WEBUI_STATIC) && mkdir -p $(WEBUI_STATIC)
	cp -R $(FRONTEND)/dist/. $(WEBUI_STATIC)/

webui: $(WEBUI_STAMP)

## The UI's own gates: API types match the OpenAPI document, TypeScript, Vitest.
ui-check: $(UI_DEPS)
	cd $(FRONTEND) && npm run check:api && npm run typecheck && npm test

## Debian's Chromium for the browser tests (Playwright drives it; it downloads no browser).
chromium:
	@test -x $(CHROMIUM) || { \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends chromium || \
		{ $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends chromium; }; }

## Every quality gate and the whole test suite (what CI runs).
test: $(STAMP) lint typecheck layers ui-check webui chromium pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

fmt: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src

layers: $(STAMP)
	$(BIN)/lint-imports

## Two workers, a test file each at a time (module fixtures stay one per file); most of
## the end-to-end tests wait on processes, so two run side by side at little cost.
PYTEST_WORKERS ?= 2
pytest: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --cov --cov-report=term --durations=15 tests  # the slowest, to keep the suite under 20 min

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

## Refresh the lock of the tested dependency set after changing pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements/constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* \
		$(FRONTEND)/node_modules $(FRONTEND)/dist $(WEBUI_STATIC)
