# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

## Start the service on the embedded SQLite database, with the demo ambito loaded.
run: $(STAMP)
	$(BIN)/registry serve --demo --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

## Run the whole test suite (SQLite by default; PostgreSQL when REGISTRY_DATABASE_URL is set):
## on two workers (TEST_WORKERS=N to change), then the tests that time real latencies, alone.
## PYTEST_ARGS adds to the first run (e.g. --ignore=tests/e2e).
test: $(STAMP)
	@bash scripts/ensure-system-packages.sh
	$(BIN)/ruff check registry tests bench
	$(BIN)/python -m pytest -q -n $${TEST_WORKERS:-2} -m "not serial" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -q -m serial

lint: $(STAMP)
	$(BIN)/ruff check registry tests bench
	$(BIN)/ruff format --check registry tests bench

bench: $(STAMP)
	$(BIN)/python bench/api_throughput.py
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/metrics.py  # 1,000,000 ledger entries: about 20 minutes; --entries N for less

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis registry.sqlite*
