# Chính Hãng: the two commands a newcomer types are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Reinstall when the declared dependencies change.
APP_STAMP := $(VENV)/.app-$(shell cksum pyproject.toml | cut -d' ' -f1)
TEST_STAMP := $(VENV)/.test-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
# The address printed in demo URLs follows HOST and PORT unless set explicitly.
export CHINHHANG_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test test-load lint audit install messages bench clean browser-deps label-font decoder

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(APP_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@rm -f $(VENV)/.app-*; touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.test-* $(VENV)/.app-*; touch $@ $(APP_STAMP)

install: $(APP_STAMP)

# PDF labels print Vietnamese, which needs a Unicode TrueType font: Debian's DejaVu Sans, or
# any .ttf named by CHINHHANG_LABEL_FONT.
LABEL_FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
label-font:
	@test -f $(LABEL_FONT) || test -n "$$CHINHHANG_LABEL_FONT" || \
	  (command -v apt-get >/dev/null && apt-get install -y -qq fonts-dejavu-core >/dev/null) || \
	  (apt-get update -qq && apt-get install -y -qq fonts-dejavu-core >/dev/null) || \
	  echo "PDF labels need DejaVu Sans (fonts-dejavu-core) or CHINHHANG_LABEL_FONT=/path/to/font.ttf"

# The in-browser QR decoder of the camera scanners: zxing-wasm from the npm registry, pinned by
# web/package-lock.json and copied into static/, so no page loads anything from another origin.
VENDOR := src/chinhhang/static/vendor/zxing
DECODER := $(VENDOR)/zxing_reader.wasm
$(DECODER): web/package.json web/package-lock.json
	@if command -v npm >/dev/null && \
	    (cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then \
	  mkdir -p $(VENDOR) && \
	  cp web/node_modules/zxing-wasm/dist/iife/reader/index.js $(VENDOR)/zxing-reader.js && \
	  cp web/node_modules/zxing-wasm/LICENSE $(VENDOR)/LICENSE && \
	  cp web/node_modules/zxing-wasm/dist/reader/zxing_reader.wasm $@; \
	elif [ "$$CI" = true ]; then \
	  echo "npm (and the npm registry) is needed to build the QR decoder"; exit 1; \
	else \
	  echo "The QR decoder could not be built (npm missing or offline): the camera scanners"; \
	  echo "will take typed codes only. Install Node.js and npm, then run make decoder."; \
	fi
decoder: $(DECODER)

# Browser tests drive Debian's Chromium, never a downloaded browser. Without it they skip, except
# under CI=true, where the suite fails.
browser-deps:
	@test -x /usr/bin/chromium || apt-get install -y -qq chromium >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null 2>&1) || \
	  echo "Browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)"

## make run: virtual environment, install, migrate, demo data, serve on http://$(HOST):$(PORT)
run: $(APP_STAMP) label-font decoder
	$(BIN)/chinhhang db upgrade
	$(BIN)/chinhhang demo
	$(BIN)/chinhhang serve --host $(HOST) --port $(PORT)

## make test: install what the tests need, lint, then the whole suite
# On two pytest-xdist workers (at most one per core), each with its own databases; the browser
# tests keep to one of them. PYTEST_ARGS="-n 0" (or "-p no:xdist") runs the suite serially.
XDIST := $(if $(findstring no:xdist,$(PYTEST_ARGS)),,-n $(shell nproc | awk '{print ($$1 < 2) ? 1 : 2}') --dist loadgroup)
test: $(TEST_STAMP) label-font decoder browser-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/python -m tests.dependency_audit
	$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

## make test-load: the load and crash tests at length (docs/load-tests.md; needs PostgreSQL).
## `make test` runs them too, 20 s each.
SOAK_SECONDS ?= 180
CRASH_SECONDS ?= 45
test-load: $(TEST_STAMP)
	CHINHHANG_SOAK_SECONDS=$(SOAK_SECONDS) CHINHHANG_CRASH_SECONDS=$(CRASH_SECONDS) \
	  $(BIN)/pytest -m load -s -p no:xdist tests/load $(PYTEST_ARGS)

## make audit: pip-audit of the installed packages (tests/dependency_audit.py, a step of make
## test). Fails on any known vulnerability; when its vulnerability service cannot be reached
## (no network) it says that it checked nothing, and passes.
audit: $(TEST_STAMP)
	$(BIN)/python -m tests.dependency_audit

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

## make messages: refresh the translation catalogues after changing user-facing text
messages: $(TEST_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ --no-location --omit-header --sort-output -o /tmp/chinhhang.pot .
	for lang in vi en; do $(BIN)/pybabel update --omit-header --no-fuzzy-matching --ignore-obsolete -i /tmp/chinhhang.pot \
	  -d src/chinhhang/i18n -l $$lang --width 100; done

## make bench: the figures in docs/benchmarks.md, rewritten between its markers (about 35 minutes;
## wrk is installed from Debian if missing; needs PostgreSQL). bench/*.py run one at a time too.
bench: $(TEST_STAMP) label-font
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .mypy_cache .hypothesis web/node_modules \
	  src/chinhhang/static/vendor tests/browser/screenshots
