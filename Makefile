# pushgate — developer entry points. `make run` and `make test` work on a fresh clone:
# they create .venv (Python 3.13 when available) and install everything the project needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
NODE_DIR  := tests/interop
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv lock run test test-unit test-e2e test-faults lint sam-validate sam-build-check bench openapi clean

help:
	@echo "make run     start the local stack (AWS emulator + API + pollers + dev issuer)"
	@echo "make test    lint, the whole test suite, sam validate --lint and a sam build check"
	@echo "make bench   benchmarks; writes bench/results.json"
	@echo "make openapi regenerate openapi.json from the functions"
	@echo "make lock    regenerate layers/pushgate/requirements.txt (with hashes) from requirements.in"

$(STAMP): requirements-dev.txt layers/pushgate/requirements.txt
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	@# The layer's lock first, hash-checked (pip will not mix hashed and unhashed requirements in
	@# one install): the dev pins of the packages it shares agree with it (a unit test checks).
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r layers/pushgate/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --silent --no-audit --no-fund
	@touch $@

venv: $(STAMP) $(NODE_STAMP)

# The layer's full lock, with every wheel's hash, resolved for the Lambda target (python3.13 on
# arm64) and within the dev venv's pins, so the tests run the versions that ship. After editing
# requirements.in (or a shared pin in requirements-dev.txt), run this and commit both files.
lock: $(STAMP)
	$(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.13 \
	  --python-platform aarch64-manylinux2014 --constraint requirements-dev.txt \
	  layers/pushgate/requirements.in -o layers/pushgate/requirements.txt

run: $(STAMP)
	$(PY) -m local

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

BROWSERS := /usr/bin/chromium /usr/bin/firefox-esr

test: venv lint
	@for browser in $(BROWSERS); do test -x $$browser || missing=1; done; \
	  if [ -n "$$missing" ]; then echo "browser tests skipped: apt-get install chromium chromium-driver firefox-esr (.ci/run does, as root)"; fi
	$(PY) -m pytest -n 2 --dist loadgroup
	$(MAKE) --no-print-directory sam-validate sam-build-check

test-unit: venv
	$(PY) -m pytest tests/unit

test-e2e: venv
	$(PY) -m pytest tests/e2e

test-faults: venv
	$(PY) -m pytest tests/faults -m faults --run-faults -s

sam-validate: $(STAMP)
	$(VENV)/bin/sam validate --lint

sam-build-check: $(STAMP)
	scripts/check-build

bench: venv
	$(PY) -m bench

openapi: $(STAMP)
	$(PY) -m scripts.openapi --write

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache .hypothesis
