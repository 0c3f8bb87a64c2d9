# pointflex — every target installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_URL ?= $(POINTFLEX_TEST_POSTGRES_URL)
PYTEST_ARGS ?=
# Coverage ([tool.coverage.*] in pyproject.toml): each pytest run writes its own data file,
# subprocesses (pointflex serve, jobs run, pointflex-vm) included; `make coverage` reports.
COVERAGE   := $(BIN)/coverage
PYTEST_COV := --cov --cov-report= --cov-fail-under=0
SQLITE_TESTS ?= tests

.DEFAULT_GOAL := help
.PHONY: help install browser run demo test test-unit test-sqlite test-postgres coverage lint bench wire-schemas screenshots clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install pointflex with its dev tools

browser: ## make sure Chromium (/usr/bin/chromium) is there for the browser tests; installs it as root
	@scripts/ensure-chromium

LOCAL := POINTFLEX_DATA_DIR=var POINTFLEX_DATABASE_URL=sqlite:///var/pointflex.db POINTFLEX_LOG_FORMAT=text

run: $(STAMP) ## run pointflex (portal, API and the job loop) on SQLite (./var/pointflex.db) with demo data, at http://127.0.0.1:8000
	mkdir -p var
	$(LOCAL) $(BIN)/pointflex db upgrade
	$(LOCAL) $(BIN)/pointflex demo --if-empty --serving
	@echo "Job loop: accrual, expiry, alerts ... in the background (log: var/jobs.log)"
	$(LOCAL) $(BIN)/pointflex jobs run --poll 10 > var/jobs.log 2>&1 & jobs_pid=$$!; \
	trap 'kill $$jobs_pid 2>/dev/null' EXIT INT TERM; \
	$(LOCAL) $(BIN)/pointflex serve --host 127.0.0.1 --port 8000

test: $(STAMP) browser ## run every test on SQLite, then on PostgreSQL when POINTFLEX_TEST_POSTGRES_URL is set; then the coverage report
	$(COVERAGE) erase
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory test-sqlite SQLITE_TESTS='tests --ignore=tests/unit'
	@if [ -n "$(PG_URL)" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "POINTFLEX_TEST_POSTGRES_URL not set: PostgreSQL run skipped"; fi
	$(MAKE) --no-print-directory coverage

test-unit: $(STAMP) ## the unit tests (no database), under coverage: .coverage.unit
	COVERAGE_FILE=$(CURDIR)/.coverage.unit $(BIN)/pytest -q $(PYTEST_COV) $(PYTEST_ARGS) tests/unit

test-sqlite: $(STAMP) browser
	POINTFLEX_TEST_BACKEND=sqlite COVERAGE_FILE=$(CURDIR)/.coverage.sqlite \
		$(BIN)/pytest -q $(PYTEST_COV) $(PYTEST_ARGS) $(SQLITE_TESTS)

test-postgres: $(STAMP) browser
	POINTFLEX_TEST_BACKEND=postgres POINTFLEX_TEST_POSTGRES_URL=$(PG_URL) \
		COVERAGE_FILE=$(CURDIR)/.coverage.postgres $(BIN)/pytest -q $(PYTEST_COV) $(PYTEST_ARGS) \
		tests/integration tests/cli tests/api tests/web tests/e2e

coverage: $(STAMP) ## report the last test runs' coverage: src/pointflex/domain at 100 % by the unit tests alone, at least 90 % overall
	@status=0; \
	echo "Coverage of src/pointflex/domain by the unit tests alone (must be 100 %):"; \
	COVERAGE_FILE=.coverage.unit $(COVERAGE) report --include='src/pointflex/domain/*' \
		--fail-under=100 || status=1; \
	$(COVERAGE) combine --keep --quiet || status=1; \
	echo "Coverage of every run combined (must be at least 90 %):"; \
	$(COVERAGE) report || status=1; \
	exit $$status

lint: $(STAMP) ## ruff, mypy and the import layers (import-linter)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: $(STAMP) ## run the benchmarks (see bench/README.md)
	$(BIN)/python -m bench.accrual --backend sqlite --size $${SIZE:-1000000}
	@if [ -n "$(PG_URL)" ]; then POINTFLEX_BENCH_POSTGRES_URL=$(PG_URL) $(BIN)/python -m bench.accrual --backend postgres --size $${SIZE:-1000000}; fi

wire-schemas: $(STAMP) ## regenerate the committed FortiFlex wire record (api/fortiflex/wire_schemas.json)
	$(BIN)/python -m pointflex.api.fortiflex.replies --write

screenshots: $(STAMP) browser ## retake docs/screenshots/*.png (the browser tests that take them)
	POINTFLEX_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q \
		tests/web/test_dashboard_web.py::test_dashboard_figures_match_the_database \
		tests/web/test_details_web.py::test_history_chart_and_layout \
		tests/web/test_assets_web.py::test_select_all_matching_acts_on_every_filtered_row

clean: ## remove the virtualenv and local data
	rm -rf $(VENV) var
