# The README's commands. Everything installs itself: a fresh machine needs only Python 3.11 and make.
SHELL := /bin/bash
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export GX_ANALYTICS_ENABLED := False
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install run test dev lint format bench docs sql browser clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	@cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

## make run: sample exports if none, then ingest → dbt → suites → gate → ranking → reports, and print them
run: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m pipelines run

## make test: the whole test suite (installs what is missing, Chromium for the browser test included)
test: $(STAMP) browser
	$(BIN)/python -m pytest -q

## make dev: the Dagster UI on http://127.0.0.1:3000 with the nightly schedule and the export sensor
dev: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

lint: $(STAMP)
	$(BIN)/ruff check pipelines tests
	$(BIN)/ruff format --check pipelines tests
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/tests --disable-progress-bar

format: $(STAMP)
	$(BIN)/ruff check --fix pipelines tests
	$(BIN)/ruff format pipelines tests
	$(BIN)/sqlfluff fix dbt_project/models dbt_project/tests --disable-progress-bar

## make bench: province-scale benchmark (issue: province scale); BENCH_ARGS="--incremental-runs 3" for
## the median of three incremental runs from the same state
bench: $(STAMP)
	$(BIN)/python -m pipelines.bench $(BENCH_ARGS)

## make docs: dbt docs (every mart and column described) into dbt_project/target
docs: $(STAMP)
	cd dbt_project && PAR_WAREHOUSE=$(CURDIR)/warehouse/par.duckdb ../$(BIN)/dbt docs generate --profiles-dir .

## make sql Q="select ...": query the published read-only copy of the marts (never the writer's file)
sql: $(STAMP)
	$(BIN)/python -m pipelines sql "$(Q)"

# Debian's Chromium for the browser test of the HTML report (no tool downloads a browser of its own).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: the browser test will be skipped"; fi; }

clean:
	rm -rf warehouse reports .dagster_home dbt_project/target
