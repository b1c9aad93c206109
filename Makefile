# Flowdeck: `make run` starts the embedded console + worker; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-unit test-integration test-e2e bench lint lock chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs only from the hashed lock: the same packages on every machine and in CI.
$(STAMP): requirements.lock requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

# Re-resolve requirements.txt (production) and requirements-dev.txt (tests, make run) into the
# hashed locks; run it after changing either file (tests/unit/deploy/test_lock.py checks).
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-find-links --no-emit-index-url --no-emit-trusted-host
lock: | $(BIN)/python
	$(BIN)/pip install --quiet pip-tools==7.6.2
	$(BIN)/pip-compile $(LOCK_FLAGS) --output-file=requirements.lock requirements.txt
	$(BIN)/pip-compile $(LOCK_FLAGS) --output-file=requirements-dev.lock requirements-dev.txt

run: $(STAMP)
	$(BIN)/python scripts/run_local.py

chromium:
	@bash scripts/ensure_chromium.sh

test: $(STAMP) chromium
	$(BIN)/pytest

test-unit: $(STAMP)
	$(BIN)/pytest tests/unit

test-integration: $(STAMP)
	$(BIN)/pytest tests/integration

test-e2e: $(STAMP) chromium
	$(BIN)/pytest tests/e2e

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
